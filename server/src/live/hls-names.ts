/**
 * Pure parts of the HLS proxy (live/hls.ts): which file names and query parameters we pass on to
 * MediaMTX's HLS server, what its playlists may reference, and which browsers get HLS instead of
 * a progressive MP4.
 *
 * MediaMTX 1.20.1 (gohlslib) names the files of one muxer:
 *   index.m3u8                      the multivariant playlist (one HLS session per request)
 *   video1_stream.m3u8              a media playlist (`video<n>`, `audio<n>`; `main` for MPEG-TS)
 *   <12 hex>_video1_init.mp4        the fMP4 init section
 *   <12 hex>_video1_seg12.mp4       a segment
 *   <12 hex>_video1_part34.mp4      an LL-HLS part
 *   gap.mp4                         placeholder of the EXT-X-GAP segments LL-HLS starts with (never served)
 * and every URI in its playlists is one of these names, relative, followed by the request's
 * query (`?session=<uuid>` for a client without cookies — which is how we talk to it).
 */

const STREAM = '(?:main|video[0-9]{1,2}|audio[0-9]{1,2})';

/** A file below `index.m3u8` we forward: media playlists, init sections, segments and parts. */
export const HLS_FILE_PATTERN = `^(?:gap\\.mp4|${STREAM}_stream\\.m3u8|[0-9a-f]{12}_${STREAM}_(?:init|seg[0-9]{1,12}|part[0-9]{1,12})\\.mp4)$`;

const FILE = new RegExp(HLS_FILE_PATTERN);

/** MediaMTX's HLS session secret, as it puts it in the query of every URI it hands out. */
export const HLS_SESSION_PATTERN = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';

/** A media sequence or part number of an LL-HLS blocking request (`_HLS_msn`, `_HLS_part`). */
export const HLS_NUMBER_PATTERN = '^[0-9]{1,10}$';

export function isHlsFileName(name: string): boolean {
  return FILE.test(name);
}

export function isPlaylistName(name: string): boolean {
  return name.endsWith('.m3u8');
}

/** Every URI a playlist references: URI lines and `URI="…"` attributes of tags. */
export function playlistUris(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '') continue;
    if (!line.startsWith('#')) {
      out.push(line);
      continue;
    }
    for (const m of line.matchAll(/\bURI="([^"]*)"/g)) out.push(m[1] as string);
  }
  return out;
}

/**
 * The URIs of a MediaMTX playlist that we would not forward: anything but one of the file names
 * above, bare (relative to the playlist, so it works under any ingress prefix), with at most a
 * query. An empty list means the playlist is safe to hand out as it is.
 */
export function foreignUris(text: string): string[] {
  return playlistUris(text).filter((uri) => {
    const q = uri.indexOf('?');
    const name = q < 0 ? uri : uri.slice(0, q);
    const query = q < 0 ? '' : uri.slice(q + 1);
    return !isHlsFileName(name) || /[/\\#\s]/.test(query);
  });
}

/** The HLS session MediaMTX opened for a multivariant playlist (from its URIs), or null. */
export function sessionOf(text: string): string | null {
  const session = new RegExp(HLS_SESSION_PATTERN);
  for (const uri of playlistUris(text)) {
    const q = uri.indexOf('?');
    if (q < 0) continue;
    const value = new URLSearchParams(uri.slice(q + 1)).get('session');
    if (value !== null && session.test(value)) return value;
  }
  return null;
}

/**
 * Safari (macOS, iOS, iPadOS; also every iOS browser, which must use WebKit): it plays HLS
 * natively and cannot play a progressive fragmented MP4. Chrome, Chromium, Edge and Firefox also
 * say "Safari" in their user agents, and iOS's own Chrome/Firefox/Edge say CriOS/FxiOS/EdgiOS —
 * those are WebKit too and get HLS as well.
 */
export function isSafariUserAgent(userAgent: string | undefined): boolean {
  if (!userAgent || !/\bSafari\//.test(userAgent)) return false;
  if (/\b(?:CriOS|FxiOS|EdgiOS)\//.test(userAgent)) return true;
  return !/\b(?:Chrome|Chromium|HeadlessChrome|Edg|Edge|OPR|Firefox)\//.test(userAgent);
}

/** The query we send MediaMTX for a file: the session first, then the LL-HLS directives. */
export function upstreamQuery(q: {
  session: string;
  _HLS_msn?: string | undefined;
  _HLS_part?: string | undefined;
  _HLS_skip?: string | undefined;
}): string {
  const out = new URLSearchParams({ session: q.session });
  if (q._HLS_msn !== undefined) out.set('_HLS_msn', q._HLS_msn);
  if (q._HLS_part !== undefined) out.set('_HLS_part', q._HLS_part);
  if (q._HLS_skip !== undefined) out.set('_HLS_skip', q._HLS_skip);
  return out.toString();
}

/** Cache-Control for what we forward: playlists change all the time; media files never do. */
export function hlsCacheControl(file: string): string {
  return isPlaylistName(file) ? 'no-cache' : 'private, max-age=60';
}

/** Chromium (Chrome, Edge, Opera…, headless too): its built-in HLS player needs {@link forChromium}. */
export function isChromiumUserAgent(userAgent: string | undefined): boolean {
  return /\b(?:Chrome|Chromium|HeadlessChrome)\//.test(userAgent ?? '');
}

/**
 * Pure: a MediaMTX playlist as Chromium's built-in HLS player (Chrome 141+) can play it. Seen with
 * Chromium 156: it fetches the `gap.mp4` of EXT-X-GAP segments (MediaMTX starts every LL-HLS
 * playlist with seven, for iOS) and fails to parse; and it fails on a separate audio rendition
 * (EXT-X-MEDIA TYPE=AUDIO), whatever the codec. So: the leading gap segments are left out (the
 * media sequence moves on by as many, so every segment keeps its number for blocking reloads),
 * and the multivariant playlist offers the video alone. Safari and other clients get MediaMTX's
 * playlists as they are.
 */
export function forChromium(text: string): string {
  const lines = text.split('\n');
  if (lines.some((l) => l.startsWith('#EXT-X-STREAM-INF:'))) {
    return lines
      .filter((l) => !l.startsWith('#EXT-X-MEDIA:TYPE=AUDIO'))
      .map((l) => {
        if (!l.startsWith('#EXT-X-STREAM-INF:')) return l;
        return l.replace(/,AUDIO="[^"]*"/, '').replace(/CODECS="([^"]*)"/, (_m, codecs: string) => {
          const video = codecs.split(',').filter((c) => /^(?:avc1|avc3|hvc1|hev1|av01|vp09)\./.test(c));
          return `CODECS="${video.join(',')}"`;
        });
      })
      .join('\n');
  }
  let gaps = 0;
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] === '#EXT-X-GAP' && /^#EXTINF:/.test(lines[i + 1] ?? '') && lines[i + 2] === 'gap.mp4') {
      gaps++;
      i += 2;
      continue;
    }
    out.push(lines[i] as string);
  }
  if (gaps === 0) return text;
  return out
    .join('\n')
    .replace(/^#EXT-X-MEDIA-SEQUENCE:(\d+)$/m, (_m, n: string) => `#EXT-X-MEDIA-SEQUENCE:${Number(n) + gaps}`);
}
