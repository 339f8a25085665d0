/**
 * Camera source URLs: type detection, validation and credential handling. Pure functions.
 *
 * Source URLs end up as arguments of FFmpeg and in go2rtc/MediaMTX configs, so validation is
 * strict: an allow-list of schemes, no whitespace, control characters or shell metacharacters,
 * no leading `-`. Credentials may be typed into the URL; they are split out and stored apart
 * ({@link splitCredentials}) and put back, percent-encoded, only for the engines
 * ({@link withCredentials}).
 */

export type SourceType = 'rtsp' | 'rtsps' | 'rtmp' | 'http-mjpeg' | 'http-jpeg' | 'ffmpeg-test';

export interface SourceValidationOptions {
  /** Accept demo sources (`ffmpeg:virtual?…`, `camstack-test:…`). Development only. */
  allowTestSources?: boolean;
}

export interface SplitCredentials {
  /** The URL without userinfo (scheme lower-cased, otherwise unchanged). */
  url: string;
  username?: string;
  password?: string;
}

export const MAX_SOURCE_URL_LENGTH = 2048;
export const STREAM_SCHEMES = ['rtsp', 'rtsps', 'rtmp', 'http', 'https'] as const;
export const TEST_SCHEMES = ['ffmpeg', 'camstack-test'] as const;

const SCHEME_RE = /^([A-Za-z][A-Za-z0-9+.-]*):/;
/** Characters a shell would interpret; `&` is tolerated in the query string only (`?a=1&b=2`). */
const SHELL_METACHARS = new Set([';', '|', '&', '$', '`', '<', '>', '(', ')', '{', '}', "'", '"', '\\']);
// biome-ignore lint/suspicious/noControlCharactersInRegex: detecting control characters is the point
const CONTROL_RE = /[\u0000-\u001f\u007f-\u009f]/u;
const PERCENT_CONTROL_RE = /%(?:[01][0-9a-f]|7f)/i;
/** Whitespace that is not also a control character (those are reported as such). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: excluding control characters is the point
const WHITESPACE_RE = /[^\S\u0000-\u001f\u007f-\u009f]|[\u200b\ufeff]/u;
const LONE_SURROGATE_RE = /\p{Cs}/u;

/** go2rtc's virtual test sources (lavfi generators), restricted to harmless generators. */
const VIRTUAL_GENERATORS = new Set([
  '',
  'testsrc',
  'testsrc2',
  'smptebars',
  'smptehdbars',
  'rgbtestsrc',
  'yuvtestsrc',
  'pal75bars',
  'pal100bars',
  'color',
  'mandelbrot',
]);
const VIRTUAL_PARAM_RE: Record<string, RegExp> = {
  video: /^[a-z0-9]*$/,
  size: /^(?:\d{1,4}x\d{1,4}|\d{3,4}|[a-z0-9]{1,10})$/,
  rate: /^\d{1,3}$/,
  duration: /^\d{1,6}$/,
  decimals: /^\d$/,
  color: /^(?:[a-z]{1,20}|0x[0-9a-f]{6})$/i,
};
const TEST_FRAGMENT_RE = /^(?:video=(?:h264|h265|mjpeg|copy)|audio=(?:aac|opus|pcma|pcmu|copy))$/;
const CAMSTACK_TEST_RE = /^camstack-test:[a-z0-9_-]{0,64}(?:\?[A-Za-z0-9_.=&]{0,256})?$/;

const JPEG_EXT_RE = /\.jpe?g$/i;
const MJPEG_HINT_RE = /mjpe?g/i;
const JPEG_HINT_RE = /snapshot|snap\.cgi|image|[?&]cmd=snap(?:[&#]|$)/i;

function schemeOf(url: string): string | null {
  const m = SCHEME_RE.exec(url);
  return m?.[1] ? m[1].toLowerCase() : null;
}

/** Bounds of the authority's userinfo (`user:pass@`) in a `scheme://…` URL, if any. */
function userinfoBounds(url: string): { start: number; at: number } | null {
  const sep = url.indexOf('://');
  if (sep < 0 || SCHEME_RE.exec(url)?.[0].length !== sep + 1) return null;
  const start = sep + 3;
  let end = url.length;
  for (const ch of ['/', '?', '#']) {
    const i = url.indexOf(ch, start);
    if (i >= 0 && i < end) end = i;
  }
  const at = url.lastIndexOf('@', end - 1);
  if (at < start) return null;
  return { start, at };
}

function decode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

/** Strict percent-encoding for userinfo: also encodes `!'()*`, which shells care about. */
function encodeUserinfo(part: string): string {
  return encodeURIComponent(part).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function lowerScheme(url: string): string {
  const m = SCHEME_RE.exec(url);
  return m ? m[0].toLowerCase() + url.slice(m[0].length) : url;
}

/**
 * Split `scheme://user:pass@host/…` into the URL without userinfo and the decoded credentials.
 * The last `@` before the path ends the userinfo, so an unencoded `@` in a password works.
 */
export function splitCredentials(url: string): SplitCredentials {
  const bounds = userinfoBounds(url);
  if (!bounds) return { url: lowerScheme(url) };
  const userinfo = url.slice(bounds.start, bounds.at);
  const rest = lowerScheme(url.slice(0, bounds.start) + url.slice(bounds.at + 1));
  const colon = userinfo.indexOf(':');
  const rawUser = colon < 0 ? userinfo : userinfo.slice(0, colon);
  const rawPass = colon < 0 ? undefined : userinfo.slice(colon + 1);
  const result: SplitCredentials = { url: rest };
  if (rawUser !== '') result.username = decode(rawUser);
  if (rawPass !== undefined && rawPass !== '') result.password = decode(rawPass);
  return result;
}

/**
 * Put credentials into a `scheme://` URL for an engine (percent-encoded). Userinfo already in
 * the URL is replaced. URLs without an authority (test sources) are returned unchanged.
 */
export function withCredentials(url: string, username?: string | null, password?: string | null): string {
  const bare = splitCredentials(url).url;
  const user = username ?? '';
  const pass = password ?? '';
  if (user === '' && pass === '') return bare;
  const sep = bare.indexOf('://');
  if (sep < 0) return bare;
  const userinfo = encodeUserinfo(user) + (pass === '' ? '' : `:${encodeUserinfo(pass)}`);
  return `${bare.slice(0, sep + 3)}${userinfo}@${bare.slice(sep + 3)}`;
}

/** The URL with any userinfo replaced by `***`, for logs and error messages. */
export function redactCredentials(url: string): string {
  const bounds = userinfoBounds(url);
  if (!bounds) return url;
  return `${url.slice(0, bounds.start)}***@${url.slice(bounds.at + 1)}`;
}

/**
 * The source type, from the URL alone. http(s) URLs are JPEG snapshots when the path or query
 * looks like one (`.jpg`/`.jpeg`, `snapshot`, `snap.cgi`, `image`, Reolink's `cmd=Snap`) and
 * does not say `mjpg`/`mjpeg`; otherwise MJPEG streams. Throws a TypeError for a scheme that
 * is not supported (validate with {@link validateSourceUrl} first).
 */
export function detectSourceType(url: string): SourceType {
  const scheme = schemeOf(url);
  switch (scheme) {
    case 'rtsp':
    case 'rtsps':
    case 'rtmp':
      return scheme;
    case 'ffmpeg':
    case 'camstack-test':
      return 'ffmpeg-test';
    case 'http':
    case 'https': {
      const { path, query } = pathAndQuery(url);
      if (JPEG_EXT_RE.test(path)) return 'http-jpeg';
      if (MJPEG_HINT_RE.test(path) || MJPEG_HINT_RE.test(query)) return 'http-mjpeg';
      return JPEG_HINT_RE.test(path) || JPEG_HINT_RE.test(query) ? 'http-jpeg' : 'http-mjpeg';
    }
    default:
      throw new TypeError(`unsupported source scheme ${scheme === null ? '(none)' : `"${scheme}:"`}`);
  }
}

/** Path (without host) and query (with leading `?`) of an http(s) URL, without parsing strictly. */
function pathAndQuery(url: string): { path: string; query: string } {
  const bare = splitCredentials(url).url;
  const hashAt = bare.indexOf('#');
  const noHash = hashAt < 0 ? bare : bare.slice(0, hashAt);
  const sep = noHash.indexOf('://');
  const afterAuthority = sep < 0 ? noHash : noHash.slice(sep + 3);
  const slash = afterAuthority.search(/[/?]/);
  const tail = slash < 0 ? '' : afterAuthority.slice(slash);
  const q = tail.indexOf('?');
  return q < 0 ? { path: tail, query: '' } : { path: tail.slice(0, q), query: tail.slice(q) };
}

function describeChar(ch: string): string {
  const code = ch.codePointAt(0) ?? 0;
  return `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
}

function validateTestSource(url: string, scheme: string): string[] {
  if (scheme === 'camstack-test') {
    return CAMSTACK_TEST_RE.test(url)
      ? []
      : ['malformed camstack-test: source (expected camstack-test:<name>[?k=v&…])'];
  }
  // ffmpeg:virtual?video=testsrc&size=1280x720#video=h264 — no other ffmpeg: inputs (files, raw args).
  const m = /^ffmpeg:virtual\?([^#]*)((?:#[^#]*)*)$/.exec(url);
  if (!m) return ['only ffmpeg:virtual?… test sources are allowed (no files or other ffmpeg inputs)'];
  const problems: string[] = [];
  for (const pair of (m[1] ?? '').split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const key = eq < 0 ? pair : pair.slice(0, eq);
    const value = eq < 0 ? '' : pair.slice(eq + 1);
    const re = VIRTUAL_PARAM_RE[key];
    if (!re?.test(value) || (key === 'video' && !VIRTUAL_GENERATORS.has(value))) {
      problems.push(`test source parameter "${key}" is not allowed with this value`);
    }
  }
  for (const frag of (m[2] ?? '').split('#').slice(1)) {
    if (!TEST_FRAGMENT_RE.test(frag)) problems.push(`test source option "#${frag}" is not allowed`);
  }
  return problems;
}

/**
 * Problems with a source URL, as short messages (empty when it is acceptable). Credentials in
 * the URL are accepted (split them out with {@link splitCredentials}); the checks below apply
 * to the rest of the URL, except control characters, which are refused anywhere.
 */
export function validateSourceUrl(url: string, options: SourceValidationOptions = {}): string[] {
  const problems: string[] = [];
  if (url.length === 0) return ['is empty'];
  if (url.length > MAX_SOURCE_URL_LENGTH) {
    return [`is longer than ${MAX_SOURCE_URL_LENGTH} characters (${url.length})`];
  }

  const control = CONTROL_RE.exec(url);
  if (control) problems.push(`contains a control character (${describeChar(control[0])})`);
  if (url.includes('\ufffd') || LONE_SURROGATE_RE.test(url)) {
    problems.push('contains invalid characters (U+FFFD: the text was not valid UTF-8)');
  }
  if (url.startsWith('-')) problems.push('must not start with "-" (it would be read as an FFmpeg option)');

  const bare = splitCredentials(url).url;
  if (WHITESPACE_RE.test(bare)) {
    problems.push('contains whitespace (percent-encode it as %20, or put credentials in username/password)');
  }
  if (PERCENT_CONTROL_RE.test(bare)) problems.push('contains a percent-encoded control character');

  const queryAt = bare.search(/[?#]/);
  const found = new Set<string>();
  for (let i = 0; i < bare.length; i++) {
    const ch = bare[i] ?? '';
    if (!SHELL_METACHARS.has(ch)) continue;
    if (ch === '&' && queryAt >= 0 && i > queryAt) continue;
    found.add(ch);
  }
  if (found.size > 0) {
    const list = [...found].map((c) => JSON.stringify(c)).join(' ');
    problems.push(`contains shell metacharacters (${list}); percent-encode them or remove them`);
  }

  const scheme = schemeOf(bare);
  if (scheme === null) {
    problems.push(`has no scheme (expected ${STREAM_SCHEMES.map((s) => `${s}://`).join(', ')})`);
    return problems;
  }
  if ((TEST_SCHEMES as readonly string[]).includes(scheme)) {
    if (!options.allowTestSources) {
      problems.push(`"${scheme}:" test sources are only allowed in development (CAMSTACK_ALLOW_TEST_SOURCES=1)`);
      return problems;
    }
    problems.push(...validateTestSource(bare, scheme));
    return problems;
  }
  if (!(STREAM_SCHEMES as readonly string[]).includes(scheme)) {
    problems.push(`unsupported scheme "${scheme}:" (allowed: ${STREAM_SCHEMES.join(', ')})`);
    return problems;
  }
  if (!bare.toLowerCase().startsWith(`${scheme}://`)) {
    problems.push(`must start with ${scheme}:// followed by a host`);
    return problems;
  }
  const hostStart = bare.charAt(scheme.length + 3);
  if (hostStart === '' || hostStart === '/' || hostStart === '?' || hostStart === '#') {
    problems.push(`has no host (expected ${scheme}://host[:port]/…)`);
    return problems;
  }

  let parsed: URL | null = null;
  try {
    parsed = new URL(bare);
  } catch {
    problems.push('is not a valid URL (check the host and port; special characters in a password must be encoded)');
  }
  if (parsed && parsed.hostname === '') problems.push(`has no host (expected ${scheme}://host[:port]/…)`);
  return problems;
}
