/**
 * The dry-run connection test behind `POST /api/cameras/test`: asks the camera itself (FFmpeg,
 * an argument array, a few frames within a time limit) whether its stream can be read, without
 * saving anything or touching the engines' configuration. Reasons come from the verify module's
 * classifier and are scrubbed of the credentials that were used.
 */
import type { Camera } from '../config/load.js';
import { DomainError } from '../domain-errors.js';
import { REDACTED } from '../log/redact.js';
import type { CameraTestResult } from './api-schemas.js';
import { upstreamUrl } from './engine-plan.js';
import type { VerifyOptions, VerifyResult } from './verify.js';

/** One try, a few frames: a person is waiting for the answer. */
export const CONNECTION_TEST_OPTIONS: Partial<VerifyOptions> = { frames: 5, timeoutMs: 6000, attempts: 1 };

export interface ConnectionTesterOptions {
  /** Reads frames from a URL (credentials included); verifyStream with the FFmpeg binary. */
  verify: (url: string, options: Partial<VerifyOptions>, signal?: AbortSignal) => Promise<VerifyResult>;
  /** Tests running at once; more are refused (429) rather than queued. Default 2. */
  maxConcurrent?: number;
  /** Masks every secret Camstack knows (the API token, stored passwords). */
  redact?: (text: string) => string;
  now?: () => number;
}

/** Pure: `text` with every occurrence of the given secrets (3 characters or more) masked. */
export function scrubSecrets(text: string, secrets: readonly (string | null)[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret === null || secret.length < 3) continue;
    for (const form of new Set([secret, encodeURIComponent(secret)])) out = out.split(form).join(REDACTED);
  }
  return out;
}

/** Pure: the API's answer for a verify result. */
export function testResult(
  result: VerifyResult,
  secrets: readonly (string | null)[],
  durationMs: number,
  redact: (text: string) => string = (t) => t,
): CameraTestResult {
  if (!result.ok) return { ok: false, reason: redact(scrubSecrets(result.reason, secrets)), durationMs };
  const size = result.resolution === null ? null : /^(\d+)x(\d+)$/.exec(result.resolution);
  return {
    ok: true,
    codec: result.codec,
    width: size ? Number(size[1]) : null,
    height: size ? Number(size[2]) : null,
    fps: result.fps,
    audioCodec: result.audioCodec,
    durationMs: Math.max(0, Math.round(durationMs)),
  };
}

export class ConnectionTester {
  readonly #o: ConnectionTesterOptions;
  #running = 0;

  constructor(options: ConnectionTesterOptions) {
    this.#o = options;
  }

  /** Tests `camera` directly (never through the engines). 429 while too many tests run. */
  async test(camera: Camera, signal?: AbortSignal): Promise<CameraTestResult> {
    const now = this.#o.now ?? Date.now;
    const started = now();
    if (camera.sourceType === 'ffmpeg-test') {
      // go2rtc draws these itself: there is no camera to ask.
      return { ok: true, codec: null, width: null, height: null, fps: null, audioCodec: null, durationMs: 0 };
    }
    if (this.#running >= (this.#o.maxConcurrent ?? 2)) {
      throw new DomainError('busy', 'busy', 'other connection tests are running; try again in a few seconds');
    }
    this.#running++;
    try {
      const result = await this.#o.verify(upstreamUrl(camera), CONNECTION_TEST_OPTIONS, signal);
      return testResult(result, [camera.password, camera.username], now() - started, this.#o.redact);
    } finally {
      this.#running--;
    }
  }
}
