/**
 * One held camera of a `camstack-stream` node: its state and counters, the payload the node sends
 * about it, and one connection attempt (open `stream.mp4`, read and throw the bytes away until it
 * fails). The node around it decides when to retry, give up and what status to show.
 */
import type { CamstackClient } from '../../client';
import { CamstackError } from '../../client';
import type { DoneFn, NodeMessage, SendFn } from '../../red';
import { TimeoutError } from '../../signals';

export type HoldState = 'connecting' | 'warm' | 'retrying' | 'stopped';

/** `msg.payload` of everything the node sends. */
export interface StreamInfo {
  camera: string;
  state: HoldState;
  /** When the stream last became warm (ISO 8601). */
  warmSince: string | null;
  /** Bitrate over the last few seconds, kbit/s. */
  kbps: number | null;
  /** Bytes read since the hold began. */
  bytes: number;
  error: string | null;
}

export interface Waiting {
  msg: NodeMessage;
  send: SendFn;
  done: DoneFn;
}

/** One camera the node keeps warm: its connection loop and what it measured. */
export interface Hold {
  camera: string;
  ctrl: AbortController;
  state: HoldState;
  warmSince: number | null;
  bytes: number;
  windowBytes: number;
  windowStart: number;
  kbps: number | null;
  attempt: number;
  waiting: Waiting[];
  error: string | null;
  /** A few words on the last failure, for the status. */
  reason: string | null;
  loop: Promise<void> | null;
}

/** No media for this long on a fresh connection, or in the middle of one: reconnect. */
const FIRST_BYTES_MS = 30_000;
const IDLE_MS = 20_000;
const RATE_WINDOW_MS = 5_000;

export function newHold(camera: string, waiting: Waiting | null): Hold {
  return {
    camera,
    ctrl: new AbortController(),
    state: 'connecting',
    warmSince: null,
    bytes: 0,
    windowBytes: 0,
    windowStart: Date.now(),
    kbps: null,
    attempt: 0,
    waiting: waiting ? [waiting] : [],
    error: null,
    reason: null,
    loop: null,
  };
}

/** `msg.payload` about a hold (in `state`, by default its own). */
export function info(hold: Hold, state: HoldState = hold.state): StreamInfo {
  return {
    camera: hold.camera,
    state,
    warmSince: hold.warmSince === null ? null : new Date(hold.warmSince).toISOString(),
    kbps: hold.kbps,
    bytes: hold.bytes,
    error: hold.error,
  };
}

/** Counts `n` bytes read; true when a rate window closed and `kbps` changed. */
export function countBytes(hold: Hold, n: number): boolean {
  hold.bytes += n;
  hold.windowBytes += n;
  const now = Date.now();
  if (now - hold.windowStart < RATE_WINDOW_MS) return false;
  hold.kbps = Math.round((hold.windowBytes * 8) / (now - hold.windowStart));
  hold.windowBytes = 0;
  hold.windowStart = now;
  return true;
}

/**
 * One attempt: open the stream and read until it fails, calling `onData` with each chunk's size.
 * Always rejects (with why it ended).
 */
export async function readOnce(hold: Hold, client: CamstackClient, onData: (bytes: number) => void): Promise<never> {
  const conn = new AbortController();
  const onAbort = () => conn.abort(hold.ctrl.signal.reason);
  hold.ctrl.signal.addEventListener('abort', onAbort, { once: true });
  let watchdog: NodeJS.Timeout | null = null;
  const feed = (ms: number) => {
    if (watchdog) clearTimeout(watchdog);
    watchdog = setTimeout(() => conn.abort(new TimeoutError(ms)), ms);
  };
  try {
    feed(FIRST_BYTES_MS);
    const { res, signal, dispose } = await client.fetch(
      'GET',
      `/api/cameras/${encodeURIComponent(hold.camera)}/stream.mp4`,
      { accept: 'video/mp4', timeoutMs: null, signal: conn.signal },
    );
    try {
      const reader = res.body?.getReader();
      if (!reader) throw new CamstackError('Camstack sent no stream');
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          feed(IDLE_MS);
          onData(value.byteLength);
        }
      } catch (err) {
        throw client.networkError(err, signal);
      } finally {
        reader.cancel().catch(() => {});
      }
      throw new CamstackError(`Camstack ended the stream of "${hold.camera}"`, { code: 'ended' });
    } finally {
      dispose();
    }
  } catch (err) {
    throw err instanceof CamstackError ? err : client.networkError(err, conn.signal);
  } finally {
    if (watchdog) clearTimeout(watchdog);
    hold.ctrl.signal.removeEventListener('abort', onAbort);
  }
}
