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
import { boxes, parseInit, parseMoof } from '../live/fmp4.js';
import { fragmentPairs, Mp4Error, readAt, skipToFragments } from './mp4.js';

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

/** Where the init section and every complete fragment of a fragmented MP4 lie. */
export async function readFragmentLayout(path: string): Promise<FragmentLayout> {
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    const pos = await skipToFragments(fh, size);
    if (pos > 16 * 1024 * 1024) throw new Mp4Error('init section too large');
    const init = parseInit(await readAt(fh, 0, pos));
    if (!init || init.videoTracks.size === 0) throw new Mp4Error('no video track');
    if (!init.trexFlags.size) throw new Mp4Error('not a fragmented MP4');
    const layout: FragmentLayout = { initSize: pos, fragments: [] };
    for await (const { moof, moofBytes: buf, end } of fragmentPairs(fh, pos, size)) {
      const box = boxes(buf)[0];
      const facts = box?.type === 'moof' ? parseMoof(buf, box, init) : null;
      if (facts?.video && facts.decodeTime !== null) {
        layout.fragments.push({
          offset: moof.start,
          size: end - moof.start,
          startMs: facts.decodeTime * 1000,
          durationMs: (facts.duration ?? 0) * 1000,
          keyframe: facts.keyframe,
        });
      } else {
        // A part without video (audio only for a moment): it joins the segment before it.
        const last = layout.fragments[layout.fragments.length - 1];
        if (last) last.size = end - last.offset;
      }
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
