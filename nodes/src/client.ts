/**
 * The HTTP client of one camstack-server config node: every request to Camstack's API goes
 * through it, with the Bearer token, a timeout, and errors turned into messages a flow author can
 * act on. `close()` aborts whatever is still in flight (requests, streams, event subscriptions),
 * so a redeploy leaves no socket open.
 */
import type {
  CameraStatus,
  CameraView,
  ClipStart,
  RecordingView,
  SavedSnapshotView,
} from '../../server/src/contract/index.js';
import { linkSignals, TimeoutError } from './signals';

/** How clips and snapshots made by these nodes are labelled in Camstack (`trigger`). */
const CLIP_TRIGGER = 'node-red';

/** An error from Camstack or from reaching it; `status` is the HTTP status when there was one. */
export class CamstackError extends Error {
  readonly status: number | null;
  readonly code: string;
  readonly problems: { field: string; message: string }[];
  constructor(
    message: string,
    opts: { status?: number | null; code?: string; problems?: { field: string; message: string }[] } = {},
  ) {
    super(message);
    this.name = 'CamstackError';
    this.status = opts.status ?? null;
    this.code = opts.code ?? 'error';
    this.problems = opts.problems ?? [];
  }
}

export type { CameraStatus, CameraView, ClipStart, RecordingView };

export interface Snapshot {
  jpeg: Buffer;
  /** ISO 8601 time the frame was taken (`X-Snapshot-Taken-At`), or null when not said. */
  takenAt: string | null;
  /** `cache`, `go2rtc` or `ffmpeg` (`X-Snapshot-Source`). */
  source: string | null;
}

/** `POST api/cameras/:id/snapshot`: the snapshot was written. */
export type SavedSnapshot = SavedSnapshotView;

export interface ClientOptions {
  baseUrl: string;
  token?: string;
  /** Timeout of ordinary requests (ms), default 15 s. */
  timeoutMs?: number;
}

interface RequestOptions {
  query?: Record<string, string | number | undefined>;
  json?: unknown;
  accept?: string;
  timeoutMs?: number | null;
  signal?: AbortSignal | undefined;
}

/** A URL as an error message repeats it: quoted, and cut short (a pasted page is not repeated whole). */
function quoteUrl(raw: string): string {
  return JSON.stringify(raw.length > 60 ? `${raw.slice(0, 60)}…` : raw);
}

/**
 * `http://host:8098/` → `http://host:8098`; rejects what is not an http(s) URL. A URL with a user
 * or password is refused before anything else, and never repeated (the password would be).
 */
export function normalizeBaseUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new CamstackError(`the Camstack URL ${quoteUrl(raw)} is not a URL (expected http://host:8098)`, {
      code: 'bad_url',
    });
  }
  if (url.username || url.password) {
    throw new CamstackError('put the token in the token field, not in the Camstack URL', { code: 'bad_url' });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new CamstackError(`the Camstack URL must start with http:// or https://, got ${quoteUrl(raw)}`, {
      code: 'bad_url',
    });
  }
  url.search = '';
  url.hash = '';
  return url.toString().replace(/\/+$/, '');
}

/**
 * The token as it goes into `Authorization: Bearer …`: surrounding whitespace (a pasted line) is
 * dropped; what is left must be visible ASCII, as Camstack's own check (`Bearer [^\s]+`) and an
 * HTTP header need. Anything else is refused here, without repeating the token: fetch would put
 * the whole header, token included, in its error message.
 */
export function normalizeToken(raw: unknown): string {
  if (raw === undefined || raw === null) return '';
  if (typeof raw !== 'string') {
    throw new CamstackError(`the token must be text, got ${typeof raw}`, { code: 'bad_token' });
  }
  const token = raw.trim();
  if (!/^[\x21-\x7e]*$/.test(token)) {
    throw new CamstackError(
      "the token has characters no Camstack token has (spaces, line breaks, control or non-ASCII characters): paste the add-on's api_token again",
      { code: 'bad_token' },
    );
  }
  return token;
}

function causeCode(err: unknown): string | undefined {
  const cause = (err as { cause?: { code?: string; errors?: { code?: string }[] } }).cause;
  return cause?.code ?? cause?.errors?.find((e) => e.code)?.code;
}

export class CamstackClient {
  readonly baseUrl: string;
  readonly #token: string;
  readonly #timeoutMs: number;
  readonly #closer = new AbortController();

  constructor(opts: ClientOptions) {
    this.baseUrl = normalizeBaseUrl(opts.baseUrl);
    this.#token = normalizeToken(opts.token);
    this.#timeoutMs = opts.timeoutMs ?? 15_000;
  }

  get closed(): boolean {
    return this.#closer.signal.aborted;
  }

  /** Aborted when the client closes: long-lived users (streams, subscriptions) listen to it. */
  get closeSignal(): AbortSignal {
    return this.#closer.signal;
  }

  /** Aborts every request, stream and subscription of this client. */
  close(): void {
    if (!this.#closer.signal.aborted)
      this.#closer.abort(new CamstackError('the Camstack connection was closed', { code: 'closed' }));
  }

  /** An absolute URL for an API path (`/api/recordings/clip_7/video` → `http://host:8098/api/…`). */
  url(path: string, query?: Record<string, string | number | undefined>): string {
    const url = new URL(this.baseUrl + path);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    return url.toString();
  }

  /**
   * One request. Resolves with the Response (status 2xx) while the caller reads its body within
   * `timeoutMs` (null: no timeout, for streams); rejects with a {@link CamstackError}.
   */
  async fetch(
    method: string,
    path: string,
    opts: RequestOptions = {},
  ): Promise<{ res: Response; signal: AbortSignal; dispose: () => void }> {
    if (this.closed) throw new CamstackError('the Camstack connection was closed', { code: 'closed' });
    const timeoutMs = opts.timeoutMs === null ? undefined : (opts.timeoutMs ?? this.#timeoutMs);
    const linked = linkSignals([this.#closer.signal, opts.signal], timeoutMs);
    const headers: Record<string, string> = { accept: opts.accept ?? 'application/json' };
    if (this.#token) headers.authorization = `Bearer ${this.#token}`;
    if (opts.json !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(this.url(path, opts.query), {
        method,
        headers,
        ...(opts.json !== undefined ? { body: JSON.stringify(opts.json) } : {}),
        signal: linked.signal,
        redirect: 'error',
      });
    } catch (err) {
      linked.dispose();
      throw this.networkError(err, linked.signal);
    }
    if (!res.ok) {
      try {
        throw await this.#httpError(res);
      } finally {
        linked.dispose();
      }
    }
    return { res, signal: linked.signal, dispose: linked.dispose };
  }

  /** A JSON request; resolves with the parsed body (null for 204). */
  async json<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const { res, signal, dispose } = await this.fetch(method, path, opts);
    try {
      const text = await res.text();
      return (text === '' ? null : JSON.parse(text)) as T;
    } catch (err) {
      throw this.networkError(err, signal);
    } finally {
      dispose();
    }
  }

  /** Turns a failure to get an answer into a message that says what to check. */
  networkError(err: unknown, signal: AbortSignal | null): CamstackError {
    if (err instanceof CamstackError) return err;
    const reason: unknown = signal?.aborted ? signal.reason : undefined;
    if (reason instanceof CamstackError) return reason;
    if (reason instanceof TimeoutError) {
      return new CamstackError(`Camstack at ${this.baseUrl}: ${reason.message}`, { code: 'timeout' });
    }
    if (signal?.aborted) return new CamstackError('the request was cancelled', { code: 'aborted' });
    const code = causeCode(err);
    const where = `Camstack at ${this.baseUrl}`;
    switch (code) {
      case 'ECONNREFUSED':
        return new CamstackError(
          `${where} refused the connection: is the add-on running, and is its direct API on (api_token set)?`,
          { code: 'unreachable' },
        );
      case 'ENOTFOUND':
      case 'EAI_AGAIN':
        return new CamstackError(
          `${where}: host not found (in Home Assistant use the hostname shown on the Camstack add-on's page)`,
          { code: 'unreachable' },
        );
      case 'ECONNRESET':
      case 'UND_ERR_SOCKET':
        return new CamstackError(`${where} closed the connection`, { code: 'unreachable' });
      case 'ETIMEDOUT':
      case 'EHOSTUNREACH':
      case 'ENETUNREACH':
      case 'UND_ERR_CONNECT_TIMEOUT':
        return new CamstackError(`${where} cannot be reached (${code})`, { code: 'unreachable' });
      default:
        return new CamstackError(
          `${where}: ${err instanceof Error ? err.message : String(err)}${code ? ` (${code})` : ''}`,
          {
            code: 'unreachable',
          },
        );
    }
  }

  /** Turns an error answer into a message: Camstack's own for API errors, advice for auth ones. */
  async #httpError(res: Response): Promise<CamstackError> {
    let body: { message?: unknown; code?: unknown; problems?: unknown } = {};
    const text = await res.text().catch(() => '');
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      // not JSON (a proxy's page): keep the status only
    }
    const apiMessage = typeof body.message === 'string' ? body.message : '';
    const code = typeof body.code === 'string' ? body.code : `http_${res.status}`;
    const problems = Array.isArray(body.problems)
      ? body.problems.filter(
          (p): p is { field: string; message: string } =>
            typeof p === 'object' && p !== null && typeof (p as { field?: unknown }).field === 'string',
        )
      : [];
    let message: string;
    if (res.status === 401) {
      message = this.#token
        ? 'Camstack refused the token (401): use the api_token set in the Camstack add-on options'
        : 'Camstack wants a token (401): set the api_token of the add-on as the token of the camstack-server node';
    } else if (res.status === 403 && code === 'forbidden_source') {
      message = `${this.baseUrl} is Camstack's ingress port, which only Home Assistant may use: use the direct API port (8098)`;
    } else if (res.status === 429) {
      message = `Camstack is rate limiting this client (429): ${apiMessage || 'too many requests'}`;
    } else {
      const detail = problems.length > 0 ? ` (${problems.map((p) => `${p.field}: ${p.message}`).join('; ')})` : '';
      message = `Camstack: ${apiMessage || `${res.status} ${res.statusText}`}${detail}`;
    }
    return new CamstackError(message, { status: res.status, code, problems });
  }

  // ---- the API ----------------------------------------------------------------------------

  listCameras(signal?: AbortSignal): Promise<CameraView[]> {
    return this.json<CameraView[]>('GET', '/api/cameras', { signal });
  }

  cameraStatus(camera: string, signal?: AbortSignal): Promise<CameraStatus> {
    return this.json<CameraStatus>('GET', `/api/cameras/${encodeURIComponent(camera)}/status`, { signal });
  }

  /** Starts (or extends) a clip, labelled `node-red` in Camstack's recordings. */
  async startClip(
    camera: string,
    body: { preRoll?: number; duration?: number },
    signal?: AbortSignal,
  ): Promise<ClipStart> {
    const path = `/api/cameras/${encodeURIComponent(camera)}/clips`;
    try {
      return await this.json<ClipStart>('POST', path, { json: { ...body, trigger: CLIP_TRIGGER }, signal });
    } catch (err) {
      // An older Camstack knows no `trigger`: the clip is then labelled `api`.
      if (!(err instanceof CamstackError && err.status === 400 && err.problems.some((p) => p.field === 'trigger'))) {
        throw err;
      }
      return this.json<ClipStart>('POST', path, { json: body, signal });
    }
  }

  /** Ends the open clip; Camstack answers once the MP4 is saved (a remux can take a while). */
  stopClip(camera: string, signal?: AbortSignal): Promise<RecordingView> {
    return this.json<RecordingView>('POST', `/api/cameras/${encodeURIComponent(camera)}/clips/stop`, {
      json: {},
      signal,
      timeoutMs: 120_000,
    });
  }

  recording(id: string, signal?: AbortSignal): Promise<RecordingView> {
    return this.json<RecordingView>('GET', `/api/recordings/${encodeURIComponent(id)}`, { signal });
  }

  /** The latest frame as a JPEG (`maxAge` ms: how old a cached one may be). */
  async snapshot(
    camera: string,
    opts: { width?: number; maxAge?: number } = {},
    signal?: AbortSignal,
  ): Promise<Snapshot> {
    const {
      res,
      signal: sig,
      dispose,
    } = await this.fetch('GET', `/api/cameras/${encodeURIComponent(camera)}/snapshot.jpg`, {
      query: { width: opts.width, maxAge: opts.maxAge },
      accept: 'image/jpeg',
      signal,
      timeoutMs: 30_000,
    });
    try {
      const jpeg = Buffer.from(await res.arrayBuffer());
      return { jpeg, takenAt: res.headers.get('x-snapshot-taken-at'), source: res.headers.get('x-snapshot-source') };
    } catch (err) {
      throw this.networkError(err, sig);
    } finally {
      dispose();
    }
  }

  /** Saves a fresh snapshot in the add-on's media folder. */
  saveSnapshot(camera: string, signal?: AbortSignal): Promise<SavedSnapshot> {
    return this.json<SavedSnapshot>('POST', `/api/cameras/${encodeURIComponent(camera)}/snapshot`, {
      json: { trigger: 'node-red' },
      signal,
      timeoutMs: 30_000,
    });
  }
}
