/**
 * Verifies that a camera's stream is usable before it is reported online: read a few video
 * frames within a timeout, over a few attempts, and turn FFmpeg's complaints into a reason a
 * person understands. Video is copied, never decoded, so a probe costs almost nothing.
 */
import { execa } from 'execa';
import { redactUrlCredentials } from '../log/redact.js';

export interface VerifyOptions {
  frames: number;
  timeoutMs: number;
  attempts: number;
  /** Pause between attempts. */
  retryDelayMs: number;
}

export const VERIFY_DEFAULTS: VerifyOptions = { frames: 10, timeoutMs: 5000, attempts: 3, retryDelayMs: 1000 };

export interface StreamFacts {
  codec: string | null;
  resolution: string | null;
  fps: number | null;
  audioCodec: string | null;
}

export type VerifyResult = ({ ok: true } & StreamFacts) | { ok: false; reason: string };

/** FFmpeg arguments that read `frames` video frames from `url` and throw them away (pure). */
export function verifyArgs(url: string, opts: Pick<VerifyOptions, 'frames' | 'timeoutMs'>): string[] {
  const timeoutUs = String(opts.timeoutMs * 1000);
  const isRtsp = /^rtsps?:/i.test(url);
  return [
    '-hide_banner',
    '-nostdin',
    '-loglevel',
    'info',
    ...(isRtsp ? ['-rtsp_transport', 'tcp', '-timeout', timeoutUs] : ['-rw_timeout', timeoutUs]),
    '-i',
    url,
    '-map',
    '0:v:0',
    '-frames:v',
    String(opts.frames),
    '-c',
    'copy',
    '-f',
    'null',
    '-',
  ];
}

const REASONS: [RegExp, string][] = [
  [/401 Unauthorized/i, '401 Unauthorized from camera (check the username and password)'],
  [/403 Forbidden/i, '403 Forbidden from camera (the user may not read this stream)'],
  [/404 Not Found/i, '404 Not Found from camera (no stream at this path)'],
  [/Connection refused/i, 'connection refused (check the address and port)'],
  [/No route to host|Network is unreachable|Host is unreachable/i, 'camera unreachable (no route to host)'],
  [
    /Name or service not known|Temporary failure in name resolution|Failed to resolve hostname|nodename nor servname/i,
    'unknown host name',
  ],
  [/Connection timed out|Operation timed out/i, 'no answer from camera (connection timed out)'],
  [/Connection reset by peer/i, 'the camera closed the connection'],
  [/matches no streams|does not contain any stream|no video/i, 'no video track in the stream'],
  [/Invalid data found when processing input/i, 'the camera sent data that is not a video stream'],
  [/SSL|TLS|certificate/i, 'TLS handshake with the camera failed'],
  [/5\d\d [A-Z][A-Za-z ]+/, 'the camera answered with a server error'],
];

/** Reasons that another attempt would only repeat. */
const DEFINITIVE = new Set(
  REASONS.filter(([re]) => /401|403|404|matches no streams|Name or service|Invalid data/.test(re.source)).map(
    ([, r]) => r,
  ),
);

/** Turns FFmpeg's stderr into one sentence (pure); URLs in a fallback line are redacted. */
export function classifyFailure(stderr: string, timedOut: boolean): string {
  for (const [re, reason] of REASONS) if (re.test(stderr)) return reason;
  if (timedOut) return 'no frames from camera within the timeout';
  const last = stderr
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('frame='))
    .pop();
  return last ? redactUrlCredentials(last).slice(0, 300) : 'the stream could not be read';
}

/** Codec, resolution and frame rate from FFmpeg's input description (pure). */
export function parseStreamFacts(stderr: string): StreamFacts {
  const input = stderr.split(/^Output #0/m)[0] ?? stderr;
  const video = /Stream #0:\d+[^:]*: Video: ([a-z0-9_]+)[^\n]*/i.exec(input);
  const audio = /Stream #0:\d+[^:]*: Audio: ([a-z0-9_]+)/i.exec(input);
  const line = video?.[0] ?? '';
  const res = /(\d{2,5})x(\d{2,5})/.exec(line);
  const fps = /([\d.]+) fps/.exec(line);
  return {
    codec: video?.[1] ?? null,
    resolution: res ? `${res[1]}x${res[2]}` : null,
    fps: fps ? Number(fps[1]) : null,
    audioCodec: audio?.[1] ?? null,
  };
}

/** Counts the frames FFmpeg reported having written (pure). */
export function framesRead(stderr: string): number {
  const all = [...stderr.matchAll(/frame=\s*(\d+)/g)];
  const last = all.at(-1);
  return last ? Number(last[1]) : 0;
}

/**
 * Reads frames from `url` (credentials included: it is passed as one argument, never through a
 * shell, and never logged). Up to `attempts` tries; the first success wins.
 */
export async function verifyStream(
  ffmpegBin: string,
  url: string,
  options: Partial<VerifyOptions> = {},
  signal?: AbortSignal,
): Promise<VerifyResult> {
  const opts = { ...VERIFY_DEFAULTS, ...options };
  let reason = 'the stream could not be read';
  for (let attempt = 1; attempt <= opts.attempts; attempt++) {
    if (signal?.aborted) return { ok: false, reason: 'verification cancelled' };
    const res = await execa(ffmpegBin, verifyArgs(url, opts), {
      reject: false,
      stdin: 'ignore',
      stdout: 'ignore',
      timeout: opts.timeoutMs + 1000,
      killSignal: 'SIGKILL',
      ...(signal ? { cancelSignal: signal } : {}),
    });
    const stderr = String(res.stderr ?? '');
    const frames = framesRead(stderr);
    if (res.exitCode === 0 && frames >= Math.min(opts.frames, 1)) {
      return { ok: true, ...parseStreamFacts(stderr) };
    }
    reason = classifyFailure(stderr, res.timedOut === true);
    // Asking again will not change a refusal such as "401 Unauthorized" or "no video track".
    if (DEFINITIVE.has(reason)) break;
    if (attempt < opts.attempts) await new Promise((r) => setTimeout(r, opts.retryDelayMs));
  }
  return { ok: false, reason };
}
