/**
 * Who may call the API, decided per listener before any route runs (Fastify `onRequest` hooks),
 * plus the security headers every response carries.
 *
 * - **ingress** (the port Home Assistant's ingress proxy forwards to): served only to the source
 *   addresses allowed (the Supervisor's proxy, 172.30.32.2, in the add-on); anything else gets
 *   403. The one exception is `GET /api/health/live` from loopback, for the image's HEALTHCHECK.
 *   State-changing calls are logged with the Home Assistant user the proxy names in
 *   `X-Remote-User-Id/Name/Display-Name` (headers trusted only because the source is the proxy).
 * - **direct** (`api_port`, for Node-RED and scripts): every request, whatever its path, needs
 *   the `api_token` as `Authorization: Bearer <token>` or, for clients that cannot set headers
 *   (WebSocket, `<img>`, EventSource), as `?token=<token>`; missing or wrong is 401. Requests
 *   are rate limited per source address (429) BEFORE the token is checked, so guessing is slow.
 *
 * Both listeners serve the same routes: main.ts builds one Fastify app per listener from the same
 * plugin list, each with its own guard (a Fastify instance listens on one port).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { BlockList } from 'node:net';
import rateLimit from '@fastify/rate-limit';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { addressFamily, parseAddressRange } from '../address-range.js';
import type { CamstackApp } from './app.js';
import { errorBody } from './errors.js';

/** The Supervisor's ingress proxy: the only client of the ingress port in the add-on. */
export const INGRESS_PROXY_ADDRESS = '172.30.32.2';
/** Liveness path the image's HEALTHCHECK calls from inside the container. */
export const LIVENESS_PATH = '/api/health/live';
/** Default rate limit of the direct port: requests per source address per minute. */
export const DIRECT_RATE_LIMIT_PER_MINUTE = 300;

/**
 * Content-Security-Policy for the panel. Behind ingress the panel's document is served by Home
 * Assistant's proxy under HA's own origin (`/api/hassio_ingress/<token>/…`), and HA's frontend
 * iframes it from that same origin: `'self'` is the HA origin there, so `frame-ancestors 'self'`
 * allows exactly the HA sidebar. On the direct port `'self'` is that port's origin. Scripts are
 * 'self' only; styles also allow inline, because the panel's Lit templates bind `style=` attributes
 * (blocked otherwise) — CSS cannot run code.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "media-src 'self' blob:",
  "connect-src 'self' ws: wss:",
  "frame-ancestors 'self'",
  "object-src 'none'",
  "base-uri 'self'",
].join('; ');

export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
  'content-security-policy': CONTENT_SECURITY_POLICY,
});

export interface IngressGuardOptions {
  listener: 'ingress';
  /** Source addresses or CIDR ranges (IPv4 or IPv6) allowed to use the port. */
  allow: readonly string[];
}

export interface DirectGuardOptions {
  listener: 'direct';
  /** The `api_token` option. */
  token: string;
  /** Requests per source address per window (default {@link DIRECT_RATE_LIMIT_PER_MINUTE}). */
  rateLimitMax?: number;
  /** Window in milliseconds (default one minute). */
  rateLimitWindowMs?: number;
}

export type GuardOptions = IngressGuardOptions | DirectGuardOptions;

/** `::ffff:1.2.3.4` (an IPv4 client on a dual-stack socket) → `1.2.3.4`. */
export function normalizeAddress(address: string | undefined): string {
  if (!address) return '';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped?.[1] ?? address;
}

/** An address list (`1.2.3.4`, `10.0.0.0/8`, `::1`, `fd00::/8`) as a matcher; throws on a bad entry. */
export function addressMatcher(entries: readonly string[]): (address: string | undefined) => boolean {
  const list = new BlockList();
  for (const entry of entries) {
    const range = parseAddressRange(entry);
    if ('error' in range) throw new Error(range.error);
    if (range.prefix === null) list.addAddress(range.host, range.family);
    else list.addSubnet(range.host, range.prefix, range.family);
  }
  return (address) => {
    const a = normalizeAddress(address);
    const fam = addressFamily(a);
    return fam !== null && list.check(a, fam);
  };
}

const isLoopback = addressMatcher(['127.0.0.0/8', '::1']);

/**
 * The ingress port's allowed sources: the configured list (`CAMSTACK_INGRESS_ALLOW`, for tests
 * and development) when given; else the ingress proxy in the add-on (under the Supervisor); else
 * loopback only, so a development server is never open to the network by default.
 */
export function ingressAllow(configured: readonly string[] | null, underSupervisor: boolean): string[] {
  if (configured !== null) {
    addressMatcher(configured); // validate now: a typo must fail start-up, not lock everyone out later
    return [...configured];
  }
  return underSupervisor ? [INGRESS_PROXY_ADDRESS] : ['127.0.0.1', '::1'];
}

function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

function sendError(reply: FastifyReply, statusCode: number, code: string, message: string): FastifyReply {
  return reply
    .code(statusCode)
    .type('application/json; charset=utf-8')
    .send(errorBody(statusCode, code, message));
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** Constant-time comparison (hashing first makes the time independent of both lengths too). */
export function tokensEqual(presented: string, expected: string): boolean {
  return timingSafeEqual(sha256(presented), sha256(expected));
}

/**
 * The token a request presents: `Authorization: Bearer <t>` first, else `?token=<t>`. `null` when
 * none is given; `''` for an Authorization header that is not a Bearer token (never accepted).
 */
export function presentedToken(req: FastifyRequest): string | null {
  const auth = req.headers.authorization;
  if (typeof auth === 'string' && auth !== '') {
    const m = /^Bearer[ \t]+([^\s]+)[ \t]*$/i.exec(auth);
    return m?.[1] ?? '';
  }
  const query = req.query as Record<string, unknown> | undefined;
  const fromQuery = query?.token;
  if (typeof fromQuery === 'string') return fromQuery;
  if (Array.isArray(fromQuery)) return '';
  return null;
}

function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

function installCommonHooks(app: CamstackApp): void {
  app.addHook('onRequest', async (req, reply) => {
    // On the raw response, so streams that hijack the reply (SSE, MJPEG, MP4) carry them too.
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) reply.raw.setHeader(name, value);
    if (req.raw.headers.upgrade !== undefined) {
      // A WebSocket upgrade answered with plain HTTP (401, 403, 404…) is written on the raw
      // socket, which nothing closes afterwards: close it, or server.close() waits for it forever.
      // (An accepted upgrade hijacks the reply, so this response never finishes.)
      const socket = req.raw.socket;
      reply.raw.once('finish', () => {
        socket.end();
        setTimeout(() => socket.destroy(), 1000).unref();
      });
    }
  });
}

function installIngressGuard(app: CamstackApp, options: IngressGuardOptions): void {
  const allowed = addressMatcher(options.allow);
  app.addHook('onRequest', async (req, reply) => {
    const source = req.socket.remoteAddress;
    if (allowed(source)) return;
    if ((req.method === 'GET' || req.method === 'HEAD') && pathOf(req.url) === LIVENESS_PATH && isLoopback(source)) {
      return;
    }
    req.log.warn({ source: normalizeAddress(source), method: req.method }, 'ingress port: refused a request');
    return sendError(
      reply,
      403,
      'forbidden_source',
      'this port only serves Home Assistant ingress; use the Camstack panel in Home Assistant, or the direct API port with a token',
    );
  });
  // The acting Home Assistant user of every state-changing call, with its outcome.
  app.addHook('onResponse', async (req, reply) => {
    if (!STATE_CHANGING.has(req.method) || !allowed(req.socket.remoteAddress)) return;
    req.log.info(
      {
        user: {
          id: header(req, 'x-remote-user-id') ?? null,
          name: header(req, 'x-remote-user-name') ?? null,
          displayName: header(req, 'x-remote-user-display-name') ?? null,
        },
        method: req.method,
        path: pathOf(req.url),
        statusCode: reply.statusCode,
      },
      `${req.method} ${pathOf(req.url)} by ${header(req, 'x-remote-user-name') ?? 'an unnamed Home Assistant user'}`,
    );
  });
}

async function installDirectGuard(app: CamstackApp, options: DirectGuardOptions): Promise<void> {
  if (options.token.length === 0) throw new Error('the direct API port needs a non-empty api_token');
  await app.register(rateLimit, {
    global: false,
    max: options.rateLimitMax ?? DIRECT_RATE_LIMIT_PER_MINUTE,
    timeWindow: options.rateLimitWindowMs ?? 60_000,
    keyGenerator: (req) => normalizeAddress(req.socket.remoteAddress),
  });
  const checkRate = app.createRateLimit();
  app.addHook('onRequest', async (req, reply) => {
    // Counted before the token is looked at: a token guesser is slowed down as much as anyone.
    const limit = await checkRate(req);
    if (!limit.isAllowed) {
      reply.header('x-ratelimit-limit', limit.max);
      reply.header('x-ratelimit-remaining', limit.remaining);
      if (limit.isExceeded) {
        reply.header('retry-after', limit.ttlInSeconds);
        return sendError(
          reply,
          429,
          'rate_limited',
          `too many requests from this address: at most ${limit.max} per ${Math.round(limit.timeWindow / 1000)} s; retry in ${limit.ttlInSeconds} s`,
        );
      }
    }
    const token = presentedToken(req);
    if (token === null || token === '' || !tokensEqual(token, options.token)) {
      reply.header('www-authenticate', 'Bearer realm="camstack"');
      return sendError(
        reply,
        401,
        'unauthorized',
        token === null
          ? 'this port needs the api_token: send "Authorization: Bearer <api_token>" (or ?token=<api_token>)'
          : 'the token is not the api_token',
      );
    }
    // The routes' query schemas do not know `token` (and must never see or echo it).
    const query = req.query as Record<string, unknown> | undefined;
    if (query && 'token' in query) delete query.token;
  });
}

/**
 * Installs the guard of one listener and the security headers. Call it first, before the routes
 * (main.ts puts it at the head of the plugin list), so it also covers 404s.
 */
export async function installGuard(app: CamstackApp, options: GuardOptions): Promise<void> {
  installCommonHooks(app);
  if (options.listener === 'ingress') installIngressGuard(app, options);
  else await installDirectGuard(app, options);
}
