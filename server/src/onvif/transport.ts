// The one I/O part of the SOAP client: POSTs a request, authenticates (WS-Security digest in the
// camera's clock; HTTP Digest when the camera answers 401 with a challenge) and parses the answer.
// Errors name the operation and the host, never a credential, a URL's user info or a body.
import { randomBytes } from 'node:crypto';
import { SecretRedactor } from '../log/redact.js';
import * as device from './device.js';
import {
  type Credentials,
  type DigestChallenge,
  digestAuthorization,
  parseDigestChallenge,
  usernameTokenHeader,
} from './security.js';
import {
  buildEnvelope,
  contentType,
  isNotAuthorized,
  parseSoapResponse,
  type SoapFault,
  type SoapRequest,
} from './soap.js';
import type { XmlNode } from './xml.js';

export type OnvifErrorKind =
  | 'unreachable'
  | 'timeout'
  | 'aborted'
  | 'http'
  | 'fault'
  | 'not_authorized'
  | 'bad_response';

export class OnvifError extends Error {
  override name = 'OnvifError';
  constructor(
    readonly kind: OnvifErrorKind,
    readonly operation: string,
    message: string,
    readonly fault?: SoapFault,
    readonly status?: number,
  ) {
    super(message);
  }
}

export interface TransportOptions {
  credentials?: Credentials;
  /** Per-request timeout unless the call gives its own (10 s). */
  timeoutMs?: number;
  /** The local clock (tests skew it). */
  now?: () => number;
}

export interface CallOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

const MAX_BODY = 4 * 1024 * 1024;

const NETWORK_ERRORS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  UND_ERR_SOCKET: 'connection closed',
  UND_ERR_CLOSED: 'connection closed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host not found',
};

function unreachableText(code: string | undefined): string {
  const what = code ? NETWORK_ERRORS[code] : undefined;
  return `unreachable: ${what ?? 'connection failed'}${code ? ` (${code})` : ''}`;
}

/** The body as text, or undefined (and the rest dropped) once it grows past `max` bytes. */
async function readCapped(res: Response, max: number): Promise<string | undefined> {
  const declared = Number(res.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > max) {
    await res.body?.cancel();
    return undefined;
  }
  if (!res.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of res.body) {
    size += chunk.byteLength;
    if (size > max) return undefined; // leaving the loop cancels the rest of the body
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Host and port of a URL, without user info, path or query: what an error may show. */
export function safeHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'an invalid address';
  }
}

export class OnvifTransport {
  /** The camera's clock minus ours, in ms (from GetSystemDateAndTime). */
  clockOffsetMs = 0;
  readonly #creds: Credentials | undefined;
  readonly #timeoutMs: number;
  readonly #now: () => number;
  readonly #redactor = new SecretRedactor();
  #digest: { challenge: DigestChallenge; nc: number } | undefined;

  constructor(options: TransportOptions = {}) {
    this.#creds = options.credentials;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#now = options.now ?? Date.now;
    if (this.#creds) {
      this.#redactor.add(this.#creds.password);
      this.#redactor.add(this.#creds.user);
    }
  }

  get now(): number {
    return this.#now();
  }

  /** Text that may be logged: the camera's own words with our credentials and URL user info masked. */
  redact(text: string): string {
    return this.#redactor.redact(text);
  }

  /**
   * Asks the camera's time without credentials (ONVIF requires it to answer) and keeps the
   * offset that WS-Security timestamps are then corrected by. Returns the offset.
   */
  async syncClock(deviceUrl: string, options: CallOptions = {}): Promise<number> {
    const sentAt = this.#now();
    const body = await this.call(deviceUrl, device.getSystemDateAndTime(), { ...options, anonymous: true });
    const receivedAt = this.#now();
    const camera = device.parseSystemDateAndTime(body.body);
    // A time we cannot read leaves the offset we had.
    if (camera !== undefined) this.clockOffsetMs = device.clockOffset(camera, sentAt, receivedAt);
    return this.clockOffsetMs;
  }

  async call(
    url: string,
    req: SoapRequest,
    options: CallOptions & { anonymous?: boolean } = {},
  ): Promise<{ body: XmlNode; raw: string }> {
    const host = safeHost(url);
    const fail = (kind: OnvifErrorKind, detail: string, fault?: SoapFault, status?: number): never => {
      throw new OnvifError(kind, req.operation, `${req.operation} at ${host}: ${this.redact(detail)}`, fault, status);
    };
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      return fail('bad_response', 'invalid address');
    }
    if (target.username || target.password) {
      target.username = '';
      target.password = '';
    }
    // WS-Security is left out of anonymous calls (GetSystemDateAndTime); HTTP Digest is answered
    // for every call, since a camera that wants it wants it for all.
    const creds = this.#creds;
    const wsCreds = options.anonymous ? undefined : creds;
    const envelope = buildEnvelope(
      req,
      wsCreds ? usernameTokenHeader(wsCreds, randomBytes(16), this.#now() + this.clockOffsetMs) : '',
    );
    const timeoutMs = options.timeoutMs ?? this.#timeoutMs;
    let timeout: AbortSignal | undefined;
    const send = async (authorization?: string): Promise<Response> => {
      const ownTimeout = AbortSignal.timeout(timeoutMs);
      timeout = ownTimeout;
      const signal = options.signal ? AbortSignal.any([options.signal, ownTimeout]) : ownTimeout;
      const headers: Record<string, string> = { 'content-type': contentType(req.action) };
      if (authorization) headers.authorization = authorization;
      try {
        return await fetch(target, { method: 'POST', headers, body: envelope, signal, redirect: 'error' });
      } catch (err) {
        if (options.signal?.aborted) return fail('aborted', 'stopped');
        if (ownTimeout.aborted) return fail('timeout', `no answer within ${Math.round(timeoutMs / 1000)} s`);
        const cause = err instanceof Error && err.cause instanceof Error ? err.cause : err;
        const code = (cause as { code?: unknown } | undefined)?.code;
        return fail('unreachable', unreachableText(typeof code === 'string' ? code : undefined));
      }
    };
    const digestHeader = (): string | undefined => {
      if (!creds || !this.#digest) return undefined;
      this.#digest.nc += 1;
      const path = `${target.pathname}${target.search}`;
      return digestAuthorization(
        this.#digest.challenge,
        creds,
        'POST',
        path,
        randomBytes(8).toString('hex'),
        this.#digest.nc,
      );
    };
    let res = await send(digestHeader());
    if (res.status === 401 && creds) {
      const challenge = parseDigestChallenge(res.headers.get('www-authenticate'));
      await res.body?.cancel();
      if (!challenge) return fail('not_authorized', 'HTTP 401 without a Digest challenge', undefined, 401);
      this.#digest = { challenge, nc: 0 };
      res = await send(digestHeader());
    }
    if (res.status === 401 || res.status === 403) {
      await res.body?.cancel();
      return fail('not_authorized', `HTTP ${res.status}`, undefined, res.status);
    }
    let raw: string | undefined;
    try {
      raw = await readCapped(res, MAX_BODY);
    } catch {
      if (options.signal?.aborted) return fail('aborted', 'stopped');
      if (timeout?.aborted) return fail('timeout', `no whole answer within ${Math.round(timeoutMs / 1000)} s`);
      return fail('unreachable', 'unreachable: the connection closed during the answer');
    }
    if (raw === undefined) return fail('bad_response', `answer larger than ${MAX_BODY / 1024 / 1024} MiB`);
    let parsed: ReturnType<typeof parseSoapResponse>;
    try {
      parsed = parseSoapResponse(raw);
    } catch {
      return fail(
        res.ok ? 'bad_response' : 'http',
        res.ok ? 'not a SOAP answer' : `HTTP ${res.status}`,
        undefined,
        res.status,
      );
    }
    if (!parsed.ok) {
      const f = { ...parsed.fault, reason: this.redact(parsed.fault.reason) };
      return fail(isNotAuthorized(f) ? 'not_authorized' : 'fault', `SOAP fault ${f.code}: ${f.reason}`, f, res.status);
    }
    return { body: parsed.body, raw };
  }
}
