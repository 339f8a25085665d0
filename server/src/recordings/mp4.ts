/**
 * Just enough ISO-BMFF (MP4) parsing to index and repair MediaMTX's fragmented MP4 segments
 * without spawning ffprobe for every file:
 *
 * - a segment is `ftyp`, `moov` (its `mvhd` duration is 0 while the segment is being written;
 *   MediaMTX writes the real duration when it closes the segment), then one `moof`+`mdat` pair
 *   per part (1 s);
 * - a file whose `mvhd` duration is still 0 and that no process writes any more was left by a
 *   crash: {@link repairFragmentedMp4} cuts a torn last part off and writes the duration, the same
 *   way MediaMTX closes a segment, so the file plays and indexes like any other.
 *
 * Plain MP4 files (our clips: `ftyp`, `moov`, `mdat`) carry their duration in `mvhd` as well.
 */
import { type FileHandle, open } from 'node:fs/promises';

export interface BoxHeader {
  type: string;
  /** Offset of the box in the file. */
  start: number;
  /** Header length (8, or 16 with a 64-bit size). */
  headerSize: number;
  /** Total size; for a box "to the end of the file" this is the rest of the file. */
  size: number;
}

export interface Mp4Info {
  /** Movie duration from `mvhd` in milliseconds; 0 for a fragmented file still being written. */
  durationMs: number;
  /** Whether the file has `moof` fragments after its `moov` (fragmented MP4). */
  fragmented: boolean;
  /** Track id → media timescale (from each `trak`'s `tkhd` and `mdhd`). */
  timescales: Map<number, number>;
  /** Track id → handler type from `hdlr` (`vide`, `soun`…). */
  handlers: Map<number, string>;
  /** Where the `mvhd` payload starts (after its 8-byte header), for rewriting the duration. */
  mvhdOffset: number;
  mvhdVersion: number;
  mvhdTimescale: number;
  /** File size when read. */
  size: number;
}

export interface FragmentScan {
  /** Media time covered by the complete fragments, in milliseconds. */
  mediaMs: number;
  /** End offset of the last complete `moof`+`mdat` pair (where a torn tail begins). */
  completeEnd: number;
  /** Number of complete fragments. */
  fragments: number;
  /** File size when scanned. */
  size: number;
  /** Track id → the media time its samples cover (a track without samples is absent). */
  tracks: Map<number, TrackSpan>;
}

/** Media time a track covers in the complete fragments, in milliseconds (from `tfdt` and `trun`). */
export interface TrackSpan {
  startMs: number;
  endMs: number;
  /**
   * Where the track's first sample ends. A stream joined mid-way may begin with a keyframe whose
   * time is unknown and that is held until the next frame: this tells how long.
   */
  firstSampleEndMs: number;
}

/** Incremental state for {@link scanFragments}: a growing file is only read from where we stopped. */
export interface FragmentCursor {
  offset: number;
  mediaMs: number;
  fragments: number;
  /** Track id → the media time its samples cover so far. */
  tracks?: Map<number, TrackSpan>;
}

export class Mp4Error extends Error {
  override readonly name = 'Mp4Error';
}

export async function readAt(fh: FileHandle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  const { bytesRead } = await fh.read(buf, 0, length, position);
  return buf.subarray(0, bytesRead);
}

/** The box header at `position`, or null when the file ends there (or the header is torn). */
export async function readHeader(fh: FileHandle, position: number, fileSize: number): Promise<BoxHeader | null> {
  if (position + 8 > fileSize) return null;
  const h = await readAt(fh, position, 16);
  if (h.length < 8) return null;
  let size = h.readUInt32BE(0);
  const type = h.toString('latin1', 4, 8);
  let headerSize = 8;
  if (size === 1) {
    if (h.length < 16) return null;
    size = Number(h.readBigUInt64BE(8));
    headerSize = 16;
  } else if (size === 0) {
    size = fileSize - position;
  }
  if (size < headerSize) throw new Mp4Error(`box "${type}" at ${position} has an impossible size ${size}`);
  return { type, start: position, headerSize, size };
}

/** Child boxes of an in-memory container payload. */
export function childBoxes(buf: Buffer, from: number, to: number): { type: string; start: number; end: number }[] {
  const out: { type: string; start: number; end: number }[] = [];
  let pos = from;
  while (pos + 8 <= to) {
    let size = buf.readUInt32BE(pos);
    const type = buf.toString('latin1', pos + 4, pos + 8);
    let header = 8;
    if (size === 1) {
      if (pos + 16 > to) break;
      size = Number(buf.readBigUInt64BE(pos + 8));
      header = 16;
    } else if (size === 0) {
      size = to - pos;
    }
    if (size < header || pos + size > to) break;
    out.push({ type, start: pos + header, end: pos + size });
    pos += size;
  }
  return out;
}

function u64(buf: Buffer, at: number): number {
  return Number(buf.readBigUInt64BE(at));
}

/** Reads `ftyp`/`moov` (the header) of an MP4 file. Throws {@link Mp4Error} when it is not one. */
export async function readMp4Info(path: string): Promise<Mp4Info> {
  const fh = await open(path, 'r');
  try {
    return await readInfo(fh);
  } finally {
    await fh.close();
  }
}

async function readInfo(fh: FileHandle): Promise<Mp4Info> {
  const { size: fileSize } = await fh.stat();
  let pos = 0;
  let moov: BoxHeader | null = null;
  let fragmented = false;
  // ftyp, then moov; a plain MP4 may also hold mdat before moov (no faststart).
  for (let i = 0; i < 64; i++) {
    const box = await readHeader(fh, pos, fileSize);
    if (box === null) break;
    if (i === 0 && box.type !== 'ftyp') throw new Mp4Error('not an MP4 file (no ftyp box first)');
    if (box.type === 'moov') moov = box;
    if (box.type === 'moof') {
      fragmented = true;
      break;
    }
    if (moov && box.type !== 'moov') {
      // After moov: either fragments (fMP4) or the media data.
      fragmented = box.type === 'moof';
      break;
    }
    pos = box.start + box.size;
  }
  if (moov === null) throw new Mp4Error('no moov box (the file is incomplete)');
  if (moov.size > 64 * 1024 * 1024) throw new Mp4Error('moov box too large');
  const buf = await readAt(fh, moov.start, moov.size);
  if (buf.length < moov.size) throw new Mp4Error('moov box is truncated');
  const info: Mp4Info = {
    durationMs: 0,
    fragmented,
    timescales: new Map(),
    handlers: new Map(),
    mvhdOffset: -1,
    mvhdVersion: 0,
    mvhdTimescale: 0,
    size: fileSize,
  };
  for (const child of childBoxes(buf, moov.headerSize, buf.length)) {
    if (child.type === 'mvhd') {
      const version = buf.readUInt8(child.start);
      const timescale = version === 1 ? buf.readUInt32BE(child.start + 20) : buf.readUInt32BE(child.start + 12);
      const duration = version === 1 ? u64(buf, child.start + 24) : buf.readUInt32BE(child.start + 16);
      info.mvhdOffset = moov.start + child.start;
      info.mvhdVersion = version;
      info.mvhdTimescale = timescale;
      info.durationMs = timescale > 0 ? Math.round((duration * 1000) / timescale) : 0;
    } else if (child.type === 'trak') {
      let trackId = -1;
      let timescale = 0;
      let handler: string | null = null;
      for (const t of childBoxes(buf, child.start, child.end)) {
        if (t.type === 'tkhd') {
          const version = buf.readUInt8(t.start);
          trackId = buf.readUInt32BE(t.start + (version === 1 ? 20 : 12));
        } else if (t.type === 'mdia') {
          for (const m of childBoxes(buf, t.start, t.end)) {
            if (m.type === 'mdhd') {
              const version = buf.readUInt8(m.start);
              timescale = buf.readUInt32BE(m.start + (version === 1 ? 20 : 12));
            } else if (m.type === 'hdlr' && m.start + 12 <= m.end) {
              // version/flags (4), pre_defined (4), handler_type (4)
              handler = buf.toString('latin1', m.start + 8, m.start + 12);
            }
          }
        }
      }
      if (trackId >= 0 && timescale > 0) info.timescales.set(trackId, timescale);
      if (trackId >= 0 && handler !== null) info.handlers.set(trackId, handler);
    } else if (child.type === 'mvex') {
      info.fragmented = true;
    }
  }
  if (info.mvhdOffset < 0) throw new Mp4Error('no mvhd box');
  return info;
}

/** The media time each track of one `moof` covers, in milliseconds. */
function moofSpans(buf: Buffer, timescales: ReadonlyMap<number, number>): { trackId: number; span: TrackSpan }[] {
  const out: { trackId: number; span: TrackSpan }[] = [];
  for (const traf of childBoxes(buf, 8, buf.length)) {
    if (traf.type !== 'traf') continue;
    let trackId = -1;
    let defaultDuration = 0;
    let base = 0;
    let total = 0;
    let first: number | null = null;
    for (const b of childBoxes(buf, traf.start, traf.end)) {
      if (b.type === 'tfhd') {
        const flags = buf.readUInt32BE(b.start) & 0xffffff;
        trackId = buf.readUInt32BE(b.start + 4);
        let at = b.start + 8;
        if (flags & 0x1) at += 8;
        if (flags & 0x2) at += 4;
        if (flags & 0x8) defaultDuration = buf.readUInt32BE(at);
      } else if (b.type === 'tfdt') {
        const version = buf.readUInt8(b.start);
        base = version === 1 ? u64(buf, b.start + 4) : buf.readUInt32BE(b.start + 4);
      } else if (b.type === 'trun') {
        const flags = buf.readUInt32BE(b.start) & 0xffffff;
        const count = buf.readUInt32BE(b.start + 4);
        let at = b.start + 8;
        if (flags & 0x1) at += 4;
        if (flags & 0x4) at += 4;
        if (!(flags & 0x100)) {
          if (count > 0) first ??= total + defaultDuration;
          total += count * defaultDuration;
          continue;
        }
        const entry = 4 * [0x100, 0x200, 0x400, 0x800].filter((f) => flags & f).length;
        for (let i = 0; i < count && at + 4 <= b.end; i++, at += entry) {
          total += buf.readUInt32BE(at);
          first ??= total;
        }
      }
    }
    const timescale = timescales.get(trackId);
    if (timescale) {
      out.push({
        trackId,
        span: {
          startMs: Math.round((base * 1000) / timescale),
          endMs: Math.round(((base + total) * 1000) / timescale),
          firstSampleEndMs: Math.round(((base + (first ?? total)) * 1000) / timescale),
        },
      });
    }
  }
  return out;
}

/** Where the fragments begin: just past `moov` (after `ftyp`). */
export async function skipToFragments(fh: FileHandle, size: number): Promise<number> {
  let pos = 0;
  for (;;) {
    const box = await readHeader(fh, pos, size);
    if (box === null) throw new Mp4Error('no fragments header');
    pos = box.start + box.size;
    if (box.type === 'moov') return pos;
  }
}

/**
 * The complete `moof`+`mdat` pairs from `pos` on, each with the `moof`'s bytes; stops at the first
 * pair that is not whole (a file still written, or torn by a crash).
 */
export async function* fragmentPairs(
  fh: FileHandle,
  pos: number,
  size: number,
): AsyncGenerator<{ moof: BoxHeader; moofBytes: Buffer; end: number }> {
  for (;;) {
    const moof = await readHeader(fh, pos, size);
    if (moof === null || moof.type !== 'moof' || moof.start + moof.size > size) return;
    const mdat = await readHeader(fh, moof.start + moof.size, size);
    if (mdat === null || mdat.type !== 'mdat' || mdat.start + mdat.size > size) return;
    if (moof.size > 16 * 1024 * 1024) throw new Mp4Error('moof box too large');
    const end = mdat.start + mdat.size;
    yield { moof, moofBytes: await readAt(fh, moof.start, moof.size), end };
    pos = end;
  }
}

/**
 * Walks the fragments of a fragmented MP4 (from `cursor` if given, so a growing file is read
 * only once) and returns the media time covered by the complete ones. A torn last fragment
 * (crash mid-write) is left out.
 */
export async function scanFragments(
  path: string,
  info: Mp4Info,
  cursor?: FragmentCursor,
): Promise<FragmentScan & { cursor: FragmentCursor }> {
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    let pos = cursor?.offset ?? 0;
    let mediaMs = cursor?.mediaMs ?? 0;
    let fragments = cursor?.fragments ?? 0;
    const tracks = new Map<number, TrackSpan>();
    for (const [id, span] of cursor?.tracks ?? []) tracks.set(id, { ...span });
    if (pos === 0) pos = await skipToFragments(fh, size);
    let completeEnd = pos;
    for await (const { moofBytes, end } of fragmentPairs(fh, pos, size)) {
      for (const { trackId, span } of moofSpans(moofBytes, info.timescales)) {
        mediaMs = Math.max(mediaMs, span.endMs);
        const known = tracks.get(trackId);
        if (known === undefined) tracks.set(trackId, span);
        else {
          if (span.startMs < known.startMs) {
            known.startMs = span.startMs;
            known.firstSampleEndMs = span.firstSampleEndMs;
          }
          known.endMs = Math.max(known.endMs, span.endMs);
        }
      }
      fragments++;
      completeEnd = end;
    }
    return {
      mediaMs,
      completeEnd,
      fragments,
      size,
      tracks,
      cursor: {
        offset: completeEnd,
        mediaMs,
        fragments,
        tracks: new Map([...tracks].map(([id, t]) => [id, { ...t }])),
      },
    };
  } finally {
    await fh.close();
  }
}

/**
 * Makes a fragmented MP4 left open by a crash whole again: drops a torn last fragment and writes
 * the duration into `mvhd`, exactly what MediaMTX does when it closes a segment. Returns the
 * result, or null when the file holds no complete fragment at all (nothing to keep).
 */
export async function repairFragmentedMp4(path: string): Promise<{ durationMs: number; size: number } | null> {
  const info = await readMp4Info(path);
  const scan = await scanFragments(path, info);
  if (scan.fragments === 0 || scan.mediaMs <= 0) return null;
  const fh = await open(path, 'r+');
  try {
    if (scan.completeEnd < scan.size) await fh.truncate(scan.completeEnd);
    const timescale = info.mvhdTimescale || 1000;
    const duration = Math.round((scan.mediaMs * timescale) / 1000);
    if (info.mvhdVersion === 1) {
      const b = Buffer.alloc(8);
      b.writeBigUInt64BE(BigInt(duration));
      await fh.write(b, 0, 8, info.mvhdOffset + 24);
    } else {
      const b = Buffer.alloc(4);
      b.writeUInt32BE(Math.min(duration, 0xffffffff));
      await fh.write(b, 0, 4, info.mvhdOffset + 16);
    }
    await fh.sync();
  } finally {
    await fh.close();
  }
  return { durationMs: scan.mediaMs, size: scan.completeEnd };
}
