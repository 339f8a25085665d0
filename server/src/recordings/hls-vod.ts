/**
 * Recordings over HLS: a VOD playlist of a recorded span that points into MediaMTX's own segment
 * files by byte range, so nothing is cut or copied (players without MSE — Safari on iPhone —
 * play recordings this way).
 *
 * A recorded segment is fragmented MP4: `ftyp`+`moov` (the init section, at the head of each
 * file), then one `moof`+`mdat` pair per part (~1 s, cut wherever a second is full, so not always
 * at a keyframe). {@link readFragmentLayout} reads where each pair lies, how long its video lasts
 * and whether it starts with a keyframe; {@link buildVodPlaylist} (pure) groups pairs into media
 * segments that start at keyframes where possible and writes the playlist:
 *
 *   #EXT-X-VERSION:7, #EXT-X-PLAYLIST-TYPE:VOD, one #EXT-X-MAP with the init's BYTERANGE per file,
 *   #EXT-X-DISCONTINUITY between files, #EXT-X-PROGRAM-DATE-TIME at the start of each file,
 *   #EXTINF from the fragments' durations and #EXT-X-BYTERANGE per media segment, #EXT-X-ENDLIST.
 */
import { open } from 'node:fs/promises';
import { childBoxes, Mp4Error, readAt, readHeader, readMp4Info } from './mp4.js';

/** One `moof`+`mdat` pair. */
export interface Fragment {
  offset: number;
  size: number;
  /** Media time of its first video sample (ms, from `tfdt`). */
  startMs: number;
  durationMs: number;
  /** Its first video sample is a sync sample (a keyframe). */
  keyframe: boolean;
}

export interface FragmentLayout {
  /** End of `ftyp`+`moov`: the init section is bytes [0, initSize). */
  initSize: number;
  fragments: Fragment[];
}

/** Pure: what one `moof` says of a track: its first decode time, total duration, first sample sync. */
export function moofTrackFacts(
  moof: Buffer,
  trackId: number,
): { baseTime: number; duration: number; keyframe: boolean | null } | null {
  for (const traf of childBoxes(moof, 8, moof.length)) {
    if (traf.type !== 'traf') continue;
    let id = -1;
    let defaultDuration = 0;
    let defaultFlags: number | null = null;
    let base = 0;
    let duration = 0;
    let firstFlags: number | null = null;
    let sawSample = false;
    for (const b of childBoxes(moof, traf.start, traf.end)) {
      if (b.type === 'tfhd') {
        const flags = moof.readUInt32BE(b.start) & 0xffffff;
        id = moof.readUInt32BE(b.start + 4);
        let at = b.start + 8;
        if (flags & 0x1) at += 8;
        if (flags & 0x2) at += 4;
        if (flags & 0x8) {
          defaultDuration = moof.readUInt32BE(at);
          at += 4;
        }
        if (flags & 0x10) at += 4;
        if (flags & 0x20) defaultFlags = moof.readUInt32BE(at);
      } else if (b.type === 'tfdt') {
        const version = moof.readUInt8(b.start);
        base = version === 1 ? Number(moof.readBigUInt64BE(b.start + 4)) : moof.readUInt32BE(b.start + 4);
      } else if (b.type === 'trun') {
        const flags = moof.readUInt32BE(b.start) & 0xffffff;
        const count = moof.readUInt32BE(b.start + 4);
        let at = b.start + 8;
        if (flags & 0x1) at += 4;
        let first: number | null = null;
        if (flags & 0x4) {
          first = moof.readUInt32BE(at);
          at += 4;
        }
        const entry = 4 * [0x100, 0x200, 0x400, 0x800].filter((f) => flags & f).length;
        for (let i = 0; i < count && at + entry <= b.end; i++, at += entry) {
          let field = at;
          if (flags & 0x100) {
            duration += moof.readUInt32BE(field);
            field += 4;
          } else duration += defaultDuration;
          if (flags & 0x200) field += 4;
          if (!sawSample) {
            sawSample = true;
            firstFlags = first ?? (flags & 0x400 ? moof.readUInt32BE(field) : defaultFlags);
          }
        }
      }
    }
    if (id !== trackId) continue;
    // sample_is_non_sync_sample is bit 16 of the sample flags.
    return { baseTime: base, duration, keyframe: firstFlags === null ? null : (firstFlags & 0x10000) === 0 };
  }
  return null;
}

/** Where the init section and every complete fragment of a fragmented MP4 lie. */
export async function readFragmentLayout(path: string): Promise<FragmentLayout> {
  const info = await readMp4Info(path);
  if (!info.fragmented) throw new Mp4Error('not a fragmented MP4');
  const video = [...info.handlers].find(([, h]) => h === 'vide')?.[0] ?? [...info.timescales.keys()][0];
  const timescale = video === undefined ? undefined : info.timescales.get(video);
  if (video === undefined || !timescale) throw new Mp4Error('no track with a timescale');
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    let pos = 0;
    for (;;) {
      const box = await readHeader(fh, pos, size);
      if (box === null) throw new Mp4Error('no moov box');
      pos = box.start + box.size;
      if (box.type === 'moov') break;
    }
    const layout: FragmentLayout = { initSize: pos, fragments: [] };
    for (;;) {
      const moof = await readHeader(fh, pos, size);
      if (moof === null || moof.type !== 'moof' || moof.start + moof.size > size) break;
      const mdat = await readHeader(fh, moof.start + moof.size, size);
      if (mdat === null || mdat.type !== 'mdat' || mdat.start + mdat.size > size) break;
      if (moof.size > 16 * 1024 * 1024) throw new Mp4Error('moof box too large');
      const facts = moofTrackFacts(await readAt(fh, moof.start, moof.size), video);
      const end = mdat.start + mdat.size;
      if (facts) {
        layout.fragments.push({
          offset: moof.start,
          size: end - moof.start,
          startMs: (facts.baseTime * 1000) / timescale,
          durationMs: (facts.duration * 1000) / timescale,
          keyframe: facts.keyframe ?? true,
        });
      } else {
        // A part without video (audio only for a moment): it joins the segment before it.
        const last = layout.fragments[layout.fragments.length - 1];
        if (last) last.size = end - last.offset;
      }
      pos = end;
    }
    return layout;
  } finally {
    await fh.close();
  }
}

/** One recorded file in a playlist. */
export interface VodFile {
  /** Where the player fetches the file's bytes (relative to the playlist). */
  uri: string;
  /** Wall-clock time (ms) of the file's first fragment. */
  startMs: number;
  layout: FragmentLayout;
}

export interface VodOptions {
  /** The span wanted; media segments overlapping it are listed. */
  fromMs: number;
  toMs: number;
  /** A segment grows by fragments until it is at least this long, then cuts at the next keyframe. */
  minSegmentMs?: number;
  /** … and cuts anyway once this long (a GOP longer than this). */
  maxSegmentMs?: number;
}

interface MediaSegment {
  offset: number;
  size: number;
  durationMs: number;
  wallMs: number;
  keyframe: boolean;
}

/** Pure: a file's fragments grouped into media segments (each starts at a keyframe where possible). */
export function groupFragments(file: VodFile, minMs: number, maxMs: number): MediaSegment[] {
  const out: MediaSegment[] = [];
  const first = file.layout.fragments[0];
  if (!first) return out;
  let cur: MediaSegment | null = null;
  for (const f of file.layout.fragments) {
    const wallMs = file.startMs + (f.startMs - first.startMs);
    const cut = cur === null || (f.keyframe && cur.durationMs >= minMs) || cur.durationMs >= maxMs;
    if (cut || cur === null) {
      cur = { offset: f.offset, size: f.size, durationMs: f.durationMs, wallMs, keyframe: f.keyframe };
      out.push(cur);
    } else {
      cur.size = f.offset + f.size - cur.offset;
      cur.durationMs += f.durationMs;
    }
  }
  return out;
}

/** Pure: the VOD playlist of `files` (in time order) over [fromMs, toMs), or null when nothing overlaps. */
export function buildVodPlaylist(files: readonly VodFile[], opts: VodOptions): string | null {
  const minMs = opts.minSegmentMs ?? 2000;
  const maxMs = opts.maxSegmentMs ?? 10_000;
  const parts: { file: VodFile; segments: MediaSegment[] }[] = [];
  for (const file of files) {
    const segments = groupFragments(file, minMs, maxMs).filter(
      (s) => s.durationMs > 0 && s.wallMs < opts.toMs && s.wallMs + s.durationMs > opts.fromMs,
    );
    if (segments.length) parts.push({ file, segments });
  }
  if (parts.length === 0) return null;
  const all = parts.flatMap((p) => p.segments);
  const target = Math.max(1, Math.ceil(Math.max(...all.map((s) => s.durationMs)) / 1000));
  const lines = ['#EXTM3U', '#EXT-X-VERSION:7', `#EXT-X-TARGETDURATION:${target}`, '#EXT-X-MEDIA-SEQUENCE:0'];
  lines.push('#EXT-X-PLAYLIST-TYPE:VOD');
  if (all.every((s) => s.keyframe)) lines.push('#EXT-X-INDEPENDENT-SEGMENTS');
  parts.forEach(({ file, segments }, i) => {
    if (i > 0) lines.push('#EXT-X-DISCONTINUITY');
    lines.push(`#EXT-X-MAP:URI="${file.uri}",BYTERANGE="${file.layout.initSize}@0"`);
    lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date((segments[0] as MediaSegment).wallMs).toISOString()}`);
    for (const s of segments) {
      lines.push(`#EXTINF:${(s.durationMs / 1000).toFixed(3)},`);
      lines.push(`#EXT-X-BYTERANGE:${s.size}@${s.offset}`);
      lines.push(file.uri);
    }
  });
  lines.push('#EXT-X-ENDLIST');
  return `${lines.join('\n')}\n`;
}
