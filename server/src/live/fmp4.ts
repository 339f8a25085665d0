/**
 * Pure: the fragmented-MP4 stream go2rtc sends over its MSE socket, cut into what a relay needs
 * (no I/O):
 *
 * - the init segment (everything up to and including `moov`), with the id of each video track
 *   (`hdlr` = `vide`), its timescale (`mdhd`) and the default sample flags (`mvex/trex`);
 * - then fragments: a `moof` and its `mdat` (any other top-level box, e.g. `styp`, travels with
 *   the fragment that follows it). Whether a fragment starts with a video sync sample is read
 *   from its sample flags — `trun` first-sample or per-sample flags, else `tfhd` defaults, else
 *   `trex` — and its decode time from `tfdt`;
 * - {@link GopCache}: the init segment and the fragments since the last keyframe, bounded in
 *   bytes, so a viewer who joins gets a decodable start at once.
 *
 * Box boundaries need not match message boundaries: {@link Fmp4Splitter} keeps a partial box
 * until the rest arrives.
 */

/** ISO/IEC 14496-12 sample flags: `sample_is_non_sync_sample`. */
const SAMPLE_IS_NON_SYNC = 0x0001_0000;

/** One top-level box within a buffer. */
export interface Box {
  type: string;
  /** Offset of the box header in the buffer. */
  start: number;
  /** Offset of the payload (after the 8- or 16-byte header). */
  body: number;
  /** Offset just past the box. */
  end: number;
}

/**
 * The boxes of `buf[from, to)`, in order; stops at the first box that does not fit (or is
 * malformed). With `open` false a box of size 0 ("to the end") is not accepted (in a stream it
 * cannot be told from a partial one).
 */
export function boxes(buf: Uint8Array, from = 0, to = buf.length, open = true): Box[] {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: Box[] = [];
  let off = from;
  while (off + 8 <= to) {
    let size = view.getUint32(off);
    let header = 8;
    if (size === 1) {
      if (off + 16 > to) break;
      const big = view.getBigUint64(off + 8);
      if (big > BigInt(Number.MAX_SAFE_INTEGER)) break;
      size = Number(big);
      header = 16;
    } else if (size === 0) {
      if (!open) break;
      size = to - off; // to the end
    }
    if (size < header || off + size > to) break;
    out.push({ type: boxType(buf, off + 4), start: off, body: off + header, end: off + size });
    off += size;
  }
  return out;
}

function boxType(buf: Uint8Array, at: number): string {
  return String.fromCharCode(buf[at] ?? 0, buf[at + 1] ?? 0, buf[at + 2] ?? 0, buf[at + 3] ?? 0);
}

/** The first child box of `parent` with this type. */
function child(buf: Uint8Array, parent: Box, type: string): Box | undefined {
  return boxes(buf, parent.body, parent.end).find((b) => b.type === type);
}

function children(buf: Uint8Array, parent: Box, type: string): Box[] {
  return boxes(buf, parent.body, parent.end).filter((b) => b.type === type);
}

function view(buf: Uint8Array): DataView {
  return new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** What the init segment says about its tracks. */
export interface InitInfo {
  /** Track ids whose handler is `vide`. */
  videoTracks: Set<number>;
  /** Track id → media timescale (ticks per second). */
  timescales: Map<number, number>;
  /** Track id → `trex` default sample flags. */
  trexFlags: Map<number, number>;
  /** Track id → `trex` default sample duration (ticks). */
  trexDurations: Map<number, number>;
}

/** Reads the tracks of an init segment (`ftyp` + `moov`); null when it has no `moov`. */
export function parseInit(buf: Uint8Array): InitInfo | null {
  const moov = boxes(buf).find((b) => b.type === 'moov');
  if (!moov) return null;
  const v = view(buf);
  const info: InitInfo = {
    videoTracks: new Set(),
    timescales: new Map(),
    trexFlags: new Map(),
    trexDurations: new Map(),
  };
  for (const trak of children(buf, moov, 'trak')) {
    const tkhd = child(buf, trak, 'tkhd');
    if (!tkhd || tkhd.end - tkhd.body < 24) continue;
    const tkhdVersion = buf[tkhd.body] ?? 0;
    // version 1: creation and modification times are 64-bit
    const trackId = v.getUint32(tkhd.body + (tkhdVersion === 1 ? 20 : 12));
    const mdia = child(buf, trak, 'mdia');
    if (!mdia) continue;
    const hdlr = child(buf, mdia, 'hdlr');
    if (hdlr && hdlr.end - hdlr.body >= 12 && boxType(buf, hdlr.body + 8) === 'vide') info.videoTracks.add(trackId);
    const mdhd = child(buf, mdia, 'mdhd');
    if (mdhd && mdhd.end - mdhd.body >= 24) {
      const mdhdVersion = buf[mdhd.body] ?? 0;
      info.timescales.set(trackId, v.getUint32(mdhd.body + (mdhdVersion === 1 ? 20 : 12)));
    }
  }
  const mvex = child(buf, moov, 'mvex');
  if (mvex) {
    for (const trex of children(buf, mvex, 'trex')) {
      if (trex.end - trex.body < 24) continue;
      info.trexFlags.set(v.getUint32(trex.body + 4), v.getUint32(trex.body + 20));
      info.trexDurations.set(v.getUint32(trex.body + 4), v.getUint32(trex.body + 12));
    }
  }
  return info;
}

/** What one `moof` says: its video track's first sample, and decode times. */
export interface FragmentInfo {
  /** It carries a video track run whose first sample is a sync sample (a keyframe). */
  keyframe: boolean;
  /** It carries video at all. */
  video: boolean;
  /** `tfdt` decode time (seconds) of its video track fragment, else of its first one (null if absent). */
  decodeTime: number | null;
  /** The track of that track fragment. */
  trackId: number | null;
  /** How long its video runs last (seconds), from the sample durations; null without video. */
  duration: number | null;
}

/** Reads a `moof` box (`buf[box.start, box.end)`) against the init segment's tracks. */
export function parseMoof(buf: Uint8Array, moof: Box, init: InitInfo): FragmentInfo {
  const v = view(buf);
  const out: FragmentInfo = { keyframe: false, video: false, decodeTime: null, trackId: null, duration: null };
  for (const traf of children(buf, moof, 'traf')) {
    const tfhd = child(buf, traf, 'tfhd');
    if (!tfhd || tfhd.end - tfhd.body < 8) continue;
    const tfhdFlags = v.getUint32(tfhd.body) & 0xff_ffff;
    const trackId = v.getUint32(tfhd.body + 4);
    let defaultFlags = init.trexFlags.get(trackId) ?? 0;
    let defaultDuration = init.trexDurations.get(trackId) ?? 0;
    {
      // optional fields, in order: base_data_offset (8), sample_description_index, default
      // duration, default size, default flags (4 each)
      let at = tfhd.body + 8;
      if (tfhdFlags & 0x01) at += 8;
      if (tfhdFlags & 0x02) at += 4;
      if (tfhdFlags & 0x08) {
        if (at + 4 <= tfhd.end) defaultDuration = v.getUint32(at);
        at += 4;
      }
      if (tfhdFlags & 0x10) at += 4;
      if (tfhdFlags & 0x20 && at + 4 <= tfhd.end) defaultFlags = v.getUint32(at);
    }
    const tfdt = child(buf, traf, 'tfdt');
    let decodeTicks: number | null = null;
    if (tfdt && tfdt.end - tfdt.body >= 8) {
      decodeTicks =
        buf[tfdt.body] === 1 && tfdt.end - tfdt.body >= 12
          ? Number(v.getBigUint64(tfdt.body + 4))
          : v.getUint32(tfdt.body + 4);
    }
    const isVideo = init.videoTracks.has(trackId);
    if (out.trackId === null || (isVideo && !init.videoTracks.has(out.trackId))) {
      out.trackId = trackId;
      const scale = init.timescales.get(trackId);
      out.decodeTime = decodeTicks !== null && scale ? decodeTicks / scale : null;
    }
    if (!isVideo) continue;
    const trun = child(buf, traf, 'trun');
    if (!trun || trun.end - trun.body < 8) continue;
    const trunFlags = v.getUint32(trun.body) & 0xff_ffff;
    const count = v.getUint32(trun.body + 4);
    if (count === 0) continue;
    out.video = true;
    let at = trun.body + 8;
    if (trunFlags & 0x01) at += 4; // data_offset
    let first = defaultFlags;
    if (trunFlags & 0x04 && at + 4 <= trun.end) {
      first = v.getUint32(at);
      at += 4; // first_sample_flags
    } else if (trunFlags & 0x400) {
      // per-sample flags: skip the first sample's duration and size when present
      let s = at;
      if (trunFlags & 0x100) s += 4;
      if (trunFlags & 0x200) s += 4;
      if (s + 4 <= trun.end) first = v.getUint32(s);
    }
    if ((first & SAMPLE_IS_NON_SYNC) === 0) out.keyframe = true;
    // Per sample: duration, size, flags, composition offset (4 bytes each, when present).
    const entry = 4 * [0x100, 0x200, 0x400, 0x800].filter((f) => trunFlags & f).length;
    let ticks = 0;
    for (let i = 0; i < count; i++, at += entry) {
      if (trunFlags & 0x100) {
        if (at + 4 > trun.end) break;
        ticks += v.getUint32(at);
      } else ticks += defaultDuration;
    }
    const scale = init.timescales.get(trackId);
    if (scale) out.duration = (out.duration ?? 0) + ticks / scale;
  }
  return out;
}

/** One piece of the stream as the splitter hands it on. */
export type Fmp4Piece =
  | { kind: 'init'; bytes: Uint8Array; info: InitInfo }
  | { kind: 'fragment'; bytes: Uint8Array; info: FragmentInfo };

/**
 * Cuts a byte stream into the init segment and `moof`+`mdat` fragments. Feed it messages in
 * order; it returns the complete pieces. A new `ftyp`/`moov` later in the stream starts a new
 * init segment (the upstream restarted its muxer).
 */
export class Fmp4Splitter {
  #pending: Uint8Array = new Uint8Array(0);
  /** Boxes (bytes) waiting to complete the current init segment or fragment. */
  #parts: Uint8Array[] = [];
  #init: InitInfo | null = null;
  #moof: { bytes: Uint8Array; box: Box } | null = null;
  /** Bytes buffered but not yet a whole piece; the caller bounds it. */
  get buffered(): number {
    return this.#pending.length + this.#parts.reduce((n, p) => n + p.length, 0);
  }

  get init(): InitInfo | null {
    return this.#init;
  }

  push(chunk: Uint8Array): Fmp4Piece[] {
    let buf = chunk;
    if (this.#pending.length) {
      buf = new Uint8Array(this.#pending.length + chunk.length);
      buf.set(this.#pending, 0);
      buf.set(chunk, this.#pending.length);
    }
    const complete = boxes(buf, 0, buf.length, false);
    const consumed = complete.length ? (complete[complete.length - 1] as Box).end : 0;
    this.#pending = consumed === buf.length ? new Uint8Array(0) : buf.slice(consumed);
    const out: Fmp4Piece[] = [];
    for (const b of complete) this.#box(buf, b, out);
    return out;
  }

  #box(buf: Uint8Array, b: Box, out: Fmp4Piece[]): void {
    const bytes = buf.subarray(b.start, b.end);
    if (b.type === 'ftyp') {
      // a new init segment
      this.#parts = [bytes];
      this.#init = null;
      this.#moof = null;
      return;
    }
    if (b.type === 'moov') {
      const initBytes = concatBytes([...this.#parts, bytes]);
      const info = parseInit(initBytes);
      this.#parts = [];
      if (!info) return;
      this.#init = info;
      out.push({ kind: 'init', bytes: initBytes, info });
      return;
    }
    if (!this.#init) {
      this.#parts.push(bytes); // before moov: part of the init segment
      return;
    }
    if (b.type === 'moof') {
      this.#moof = { bytes, box: { ...b, start: 0, body: b.body - b.start, end: b.end - b.start } };
      this.#parts.push(bytes);
      return;
    }
    this.#parts.push(bytes);
    if (b.type === 'mdat' && this.#moof) {
      const moofBytes = this.#moof.bytes;
      const info = parseMoof(moofBytes, this.#moof.box, this.#init);
      out.push({ kind: 'fragment', bytes: concatBytes(this.#parts), info });
      this.#parts = [];
      this.#moof = null;
    }
  }
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0] as Uint8Array;
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/**
 * The init segment and the fragments since the last keyframe. A keyframe fragment starts the
 * group afresh; fragments before the first keyframe are not kept (they cannot be decoded alone);
 * a group that grows past `maxBytes` (a GOP too long to hold) is dropped until the next keyframe.
 */
export class GopCache {
  #init: Uint8Array | null = null;
  #gop: Uint8Array[] = [];
  #bytes = 0;
  #keyframeAtMs = 0;
  readonly maxBytes: number;

  constructor(maxBytes: number) {
    this.maxBytes = maxBytes;
  }

  get init(): Uint8Array | null {
    return this.#init;
  }

  /** Bytes held in the current group (without the init segment). */
  get bytes(): number {
    return this.#bytes;
  }

  /** Fragments held (0: no decodable start yet). */
  get fragments(): number {
    return this.#gop.length;
  }

  setInit(init: Uint8Array): void {
    this.#init = init;
    this.clear();
  }

  clear(): void {
    this.#gop = [];
    this.#bytes = 0;
  }

  /** `atMs`: when the fragment arrived (kept for the group's keyframe, see {@link keyframe}). */
  push(fragment: Uint8Array, keyframe: boolean, atMs = Date.now()): void {
    if (keyframe) {
      this.clear();
      this.#keyframeAtMs = atMs;
    } else if (this.#gop.length === 0) return;
    if (this.#bytes + fragment.length > this.maxBytes) {
      this.clear();
      return;
    }
    this.#gop.push(fragment);
    this.#bytes += fragment.length;
  }

  /**
   * The init segment and the group's first fragment (which starts with the keyframe): a tiny MP4
   * a decoder reads one picture from. With when that keyframe arrived; null without a group. The
   * bytes are joined only when read: most callers look at the time alone.
   */
  keyframe(): { readonly mp4: Uint8Array; atMs: number } | null {
    const init = this.#init;
    const first = this.#gop[0];
    if (!init || !first) return null;
    return {
      atMs: this.#keyframeAtMs,
      get mp4() {
        return concatBytes([init, first]);
      },
    };
  }

  /** The group since the last keyframe, or null when there is no decodable start. */
  gop(): Uint8Array[] | null {
    return this.#init && this.#gop.length ? [...this.#gop] : null;
  }
}
