/**
 * A reconnecting Server-Sent Events subscription to Camstack's `GET /api/events`, built on
 * fetch (Node 18+ has it; no EventSource package). It reconnects with exponential backoff after
 * any failure, treats a silent connection as dead (Camstack pings every 15 s), and gives up only
 * on a 400 (a filter the server does not accept, which retrying cannot fix).
 */
import { type CamstackClient, CamstackError } from './client';
import { backoffDelay, sleep, TimeoutError } from './signals';

export interface SseEvent {
  event: string;
  data: string;
  id: string | null;
}

/** Incremental parser of the `text/event-stream` format (WHATWG HTML § 9.2). */
export class SseParser {
  #buffer = '';
  #event = '';
  #data: string[] = [];
  #id: string | null = null;

  /** Feeds decoded text; returns the events completed by it. */
  push(text: string): SseEvent[] {
    this.#buffer += text;
    const out: SseEvent[] = [];
    for (;;) {
      const nl = this.#buffer.search(/\r\n|\r|\n/);
      if (nl === -1) break;
      // A lone \r at the very end may be the first half of \r\n: wait for more.
      if (this.#buffer[nl] === '\r' && nl === this.#buffer.length - 1) break;
      const line = this.#buffer.slice(0, nl);
      this.#buffer = this.#buffer.slice(nl + (this.#buffer.startsWith('\r\n', nl) ? 2 : 1));
      if (line === '') {
        if (this.#data.length > 0)
          out.push({ event: this.#event || 'message', data: this.#data.join('\n'), id: this.#id });
        this.#event = '';
        this.#data = [];
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      let value = colon === -1 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'event') this.#event = value;
      else if (field === 'data') this.#data.push(value);
      else if (field === 'id' && !value.includes('\0')) this.#id = value;
    }
    return out;
  }
}

export type StreamState =
  | { state: 'connecting'; attempt: number }
  | { state: 'connected' }
  | { state: 'waiting'; error: CamstackError; retryInMs: number; attempt: number }
  | { state: 'failed'; error: CamstackError }
  | { state: 'stopped' };

export interface CamstackEvent {
  /** Event type, e.g. `clip.saved`. */
  type: string;
  /** The JSON payload (the raw text when it is not JSON). */
  data: unknown;
  id: string | null;
}

export interface EventStreamOptions {
  client: CamstackClient;
  /** Only these cameras' events (system events always pass); empty: every camera. */
  cameras?: readonly string[];
  /** Only these event types; empty: every type the server streams. */
  types?: readonly string[];
  onEvent: (event: CamstackEvent) => void;
  onState?: (state: StreamState) => void;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** A connection silent this long is dropped and reopened (Camstack pings every 15 s). */
  idleTimeoutMs?: number;
}

export class EventStream {
  readonly #o: EventStreamOptions;
  #run: AbortController | null = null;
  #done: Promise<void> | null = null;

  constructor(options: EventStreamOptions) {
    this.#o = options;
  }

  get running(): boolean {
    return this.#run !== null;
  }

  start(): void {
    if (this.#run) return;
    const run = new AbortController();
    this.#run = run;
    this.#done = this.#loop(run.signal).finally(() => {
      if (this.#run === run) this.#run = null;
    });
  }

  /** Stops and resolves once the connection is closed and no timer is left. */
  async stop(): Promise<void> {
    const run = this.#run;
    this.#run = null;
    if (run) run.abort(new CamstackError('stopped', { code: 'stopped' }));
    await this.#done;
  }

  #state(state: StreamState): void {
    try {
      this.#o.onState?.(state);
    } catch {
      // a listener's bug must not break the connection loop
    }
  }

  async #loop(stop: AbortSignal): Promise<void> {
    const { client } = this.#o;
    const idleMs = this.#o.idleTimeoutMs ?? 45_000;
    let attempt = 0;
    while (!stop.aborted && !client.closed) {
      attempt += 1;
      this.#state({ state: 'connecting', attempt });
      const conn = new AbortController();
      const onStop = () => conn.abort(stop.reason);
      stop.addEventListener('abort', onStop, { once: true });
      let watchdog: NodeJS.Timeout | null = null;
      const feed = () => {
        if (watchdog) clearTimeout(watchdog);
        watchdog = setTimeout(() => conn.abort(new TimeoutError(idleMs)), idleMs);
      };
      let error: CamstackError;
      try {
        feed();
        const { res, signal, dispose } = await client.fetch('GET', '/api/events', {
          query: {
            camera: this.#o.cameras?.length ? this.#o.cameras.join(',') : undefined,
            types: this.#o.types?.length ? this.#o.types.join(',') : undefined,
          },
          accept: 'text/event-stream',
          timeoutMs: null,
          signal: conn.signal,
        });
        try {
          this.#state({ state: 'connected' });
          attempt = 0;
          const reader = res.body?.getReader();
          if (!reader) throw new CamstackError('Camstack sent no event stream');
          const decoder = new TextDecoder();
          const parser = new SseParser();
          // Aborting the request does not always end a body read in progress (undici keeps
          // delivering data, and the connection stays open): cancel the body as well.
          const cancel = () => {
            reader.cancel(conn.signal.reason).catch(() => {});
          };
          conn.signal.addEventListener('abort', cancel, { once: true });
          try {
            for (;;) {
              feed();
              const { done, value } = await reader.read();
              if (done || conn.signal.aborted) break;
              for (const ev of parser.push(decoder.decode(value, { stream: true }))) {
                // Stopped by a listener of an earlier event in this chunk: deliver nothing more.
                if (conn.signal.aborted) break;
                this.#dispatch(ev);
              }
            }
          } catch (err) {
            throw client.networkError(err, signal);
          } finally {
            conn.signal.removeEventListener('abort', cancel);
            reader.cancel().catch(() => {});
          }
          if (conn.signal.aborted) throw client.networkError(conn.signal.reason, conn.signal);
          throw new CamstackError('Camstack closed the event stream', { code: 'closed_by_server' });
        } finally {
          dispose();
        }
      } catch (err) {
        error = err instanceof CamstackError ? err : client.networkError(err, conn.signal);
      } finally {
        if (watchdog) clearTimeout(watchdog);
        stop.removeEventListener('abort', onStop);
      }
      if (stop.aborted || client.closed) break;
      if (error.status === 400) {
        this.#state({ state: 'failed', error });
        return;
      }
      const retryInMs = backoffDelay(
        Math.max(1, attempt),
        this.#o.initialBackoffMs ?? 1000,
        this.#o.maxBackoffMs ?? 30_000,
      );
      this.#state({ state: 'waiting', error, retryInMs, attempt: Math.max(1, attempt) });
      try {
        await sleep(retryInMs, stop);
      } catch {
        break;
      }
    }
    this.#state({ state: 'stopped' });
  }

  #dispatch(ev: SseEvent): void {
    let data: unknown = ev.data;
    try {
      data = JSON.parse(ev.data);
    } catch {
      // not JSON: pass the text on
    }
    try {
      this.#o.onEvent({ type: ev.event, data, id: ev.id });
    } catch {
      // a listener's bug must not break the connection loop
    }
  }
}
