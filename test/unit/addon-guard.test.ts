/**
 * The listener guards of server/src/http/guard.ts on an in-process app (Fastify inject with a
 * chosen source address): the ingress allow-list, the token of the direct port, its rate limit,
 * and the security headers. test/integration/addon.test.ts checks the same over real sockets.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import pino from 'pino';
import { Type } from 'typebox';
import { parseEnv } from '../../server/src/config/env.js';
import type { EngineHealth } from '../../server/src/engines/engines.js';
import { buildApp, type CamstackApp } from '../../server/src/http/app.js';
import {
  addressMatcher,
  CONTENT_SECURITY_POLICY,
  type GuardOptions,
  INGRESS_PROXY_ADDRESS,
  ingressAllow,
  installGuard,
  normalizeAddress,
  tokensEqual,
} from '../../server/src/http/guard.js';

const TOKEN = 'a-token-of-32-characters-exactly';
const running: EngineHealth = { state: 'running', pid: 1, restarts: 0, lastError: null };

async function appWith(guard: GuardOptions, lines: string[] = []): Promise<CamstackApp> {
  const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(line) });
  const app = await buildApp({
    logger,
    version: '0.0.0',
    engineHealth: () => ({ go2rtc: running, mediamtx: running }),
    plugins: [
      (a) => installGuard(a, guard),
      async (a) => {
        a.get(
          '/api/strict',
          {
            schema: {
              querystring: Type.Object({ camera: Type.Optional(Type.String()) }, { additionalProperties: false }),
            },
          },
          async (req) => ({ query: req.query }),
        );
        a.post('/api/things', async (_req, reply) => reply.code(201).send({ ok: true }));
      },
    ],
  });
  after(() => app.close());
  return app;
}

function errorCode(body: string): string {
  return (JSON.parse(body) as { code: string }).code;
}

describe('address matching', () => {
  it('takes addresses and CIDR ranges, IPv4 and IPv6, and IPv4-mapped clients', () => {
    const m = addressMatcher(['172.30.32.2', '10.0.0.0/8', 'fd00::/8']);
    assert.ok(m('172.30.32.2'));
    assert.ok(m('::ffff:172.30.32.2'));
    assert.ok(m('10.200.1.1'));
    assert.ok(m('fd12::1'));
    assert.ok(!m('172.30.32.3'));
    assert.ok(!m('127.0.0.1'));
    assert.ok(!m(undefined));
    assert.ok(!m('not an address'));
    assert.equal(normalizeAddress('::ffff:127.0.0.1'), '127.0.0.1');
    for (const bad of ['example.org', '10.0.0.0/33', '1.2.3.4/x', '']) assert.throws(() => addressMatcher([bad]));
  });

  it('ingress sources: CAMSTACK_INGRESS_ALLOW, else the ingress proxy in the add-on, else loopback', () => {
    const configured = parseEnv({ CAMSTACK_INGRESS_ALLOW: ' 127.0.0.1, ::1 ' }).values.CAMSTACK_INGRESS_ALLOW;
    assert.deepEqual(ingressAllow(configured, false), ['127.0.0.1', '::1']);
    assert.deepEqual(ingressAllow(configured, true), ['127.0.0.1', '::1']);
    assert.deepEqual(ingressAllow(null, true), [INGRESS_PROXY_ADDRESS]);
    assert.deepEqual(ingressAllow(null, false), ['127.0.0.1', '::1']);
    assert.throws(() => ingressAllow(['172.30.32.2', 'oops'], false), /oops/);
    assert.match(
      parseEnv({ CAMSTACK_INGRESS_ALLOW: '172.30.32.2,oops' })
        .problems.map((p) => p.path)
        .join(),
      /^env CAMSTACK_INGRESS_ALLOW$/,
    );
  });

  it('tokens compare equal only when identical', () => {
    assert.ok(tokensEqual(TOKEN, TOKEN));
    assert.ok(!tokensEqual(`${TOKEN}x`, TOKEN));
    assert.ok(!tokensEqual('', TOKEN));
  });
});

describe('ingress listener', () => {
  it('serves the ingress proxy, refuses anyone else with 403, except loopback liveness', async () => {
    const app = await appWith({ listener: 'ingress', allow: [INGRESS_PROXY_ADDRESS] });
    const ok = await app.inject({ method: 'GET', url: '/api/health', remoteAddress: '172.30.32.2' });
    assert.equal(ok.statusCode, 200);
    const lan = await app.inject({ method: 'GET', url: '/api/health', remoteAddress: '192.168.1.20' });
    assert.equal(lan.statusCode, 403);
    assert.equal(errorCode(lan.body), 'forbidden_source');
    const notFound = await app.inject({ method: 'GET', url: '/nope', remoteAddress: '192.168.1.20' });
    assert.equal(notFound.statusCode, 403, 'no route discovery from outside');
    const live = await app.inject({ method: 'GET', url: '/api/health/live', remoteAddress: '127.0.0.1' });
    assert.equal(live.statusCode, 200);
    const ready = await app.inject({ method: 'GET', url: '/api/health/ready', remoteAddress: '127.0.0.1' });
    assert.equal(ready.statusCode, 403);
    const liveLan = await app.inject({ method: 'GET', url: '/api/health/live', remoteAddress: '192.168.1.20' });
    assert.equal(liveLan.statusCode, 403);
  });

  it('logs the Home Assistant user of a state-changing call, trusting the headers only from the proxy', async () => {
    const lines: string[] = [];
    const app = await appWith({ listener: 'ingress', allow: [INGRESS_PROXY_ADDRESS] }, lines);
    const headers = { 'x-remote-user-id': 'u1', 'x-remote-user-name': 'alice', 'x-remote-user-display-name': 'Alice' };
    await app.inject({ method: 'POST', url: '/api/things', remoteAddress: '172.30.32.2', headers });
    await app.inject({ method: 'GET', url: '/api/health', remoteAddress: '172.30.32.2', headers });
    await app.inject({
      method: 'POST',
      url: '/api/things',
      remoteAddress: '192.168.1.20',
      headers: { ...headers, 'x-remote-user-name': 'mallory' },
    });
    const acts = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => 'user' in l);
    assert.deepEqual(
      acts.map((a) => [a.user, a.method, a.path, a.statusCode]),
      [[{ id: 'u1', name: 'alice', displayName: 'Alice' }, 'POST', '/api/things', 201]],
    );
  });
});

describe('direct listener', () => {
  it('needs the token on every path; Bearer or ?token=, which the routes never see', async () => {
    const app = await appWith({ listener: 'direct', token: TOKEN });
    for (const url of ['/api/health', '/api/strict', '/nope']) {
      const res = await app.inject({ method: 'GET', url });
      assert.equal(res.statusCode, 401, url);
      assert.equal(errorCode(res.body), 'unauthorized');
      assert.equal(res.headers['www-authenticate'], 'Bearer realm="camstack"');
    }
    for (const authorization of [`bearer ${TOKEN}`, `Bearer  ${TOKEN}`]) {
      const res = await app.inject({ method: 'GET', url: '/api/health', headers: { authorization } });
      assert.equal(res.statusCode, 200, authorization);
    }
    for (const authorization of [`Token ${TOKEN}`, `Bearer ${TOKEN} extra`, 'Bearer', `Bearer ${TOKEN.slice(1)}`]) {
      const res = await app.inject({ method: 'GET', url: '/api/health', headers: { authorization } });
      assert.equal(res.statusCode, 401, authorization);
    }
    const viaQuery = await app.inject({ method: 'GET', url: `/api/strict?camera=front&token=${TOKEN}` });
    assert.equal(viaQuery.statusCode, 200, viaQuery.body);
    assert.deepEqual(JSON.parse(viaQuery.body), { query: { camera: 'front' } });
    const twice = await app.inject({ method: 'GET', url: `/api/strict?token=${TOKEN}&token=${TOKEN}` });
    assert.equal(twice.statusCode, 401);
    // A wrong header is not rescued by a right query token.
    const mixed = await app.inject({
      method: 'GET',
      url: `/api/health?token=${TOKEN}`,
      headers: { authorization: 'Bearer wrong' },
    });
    assert.equal(mixed.statusCode, 401);
    await assert.rejects(appWith({ listener: 'direct', token: '' }), /api_token/);
  });

  it('rate limits per source address before looking at the token, with a clear 429', async () => {
    const app = await appWith({ listener: 'direct', token: TOKEN, rateLimitMax: 3, rateLimitWindowMs: 60_000 });
    const from = (remoteAddress: string, authorization?: string) =>
      app.inject({
        method: 'GET',
        url: '/api/health',
        remoteAddress,
        ...(authorization ? { headers: { authorization } } : {}),
      });
    const codes = [];
    for (let i = 0; i < 3; i++) codes.push((await from('10.0.0.5')).statusCode);
    assert.deepEqual(codes, [401, 401, 401]);
    const limited = await from('10.0.0.5', `Bearer ${TOKEN}`);
    assert.equal(limited.statusCode, 429);
    assert.equal(errorCode(limited.body), 'rate_limited');
    assert.match((JSON.parse(limited.body) as { message: string }).message, /at most 3 per 60 s/);
    assert.ok(Number(limited.headers['retry-after']) > 0);
    assert.equal((await from('10.0.0.6', `Bearer ${TOKEN}`)).statusCode, 200, 'another address is not limited');
  });
});

describe('security headers', () => {
  it('are on every response of both listeners, errors included', async () => {
    const ingress = await appWith({ listener: 'ingress', allow: ['127.0.0.1'] });
    const direct = await appWith({ listener: 'direct', token: TOKEN });
    const responses = [
      await ingress.inject({ method: 'GET', url: '/api/health' }),
      await ingress.inject({ method: 'GET', url: '/nope' }),
      await ingress.inject({ method: 'GET', url: '/api/health', remoteAddress: '10.1.1.1' }),
      await direct.inject({ method: 'GET', url: '/api/health' }),
      await direct.inject({ method: 'GET', url: '/api/health', headers: { authorization: `Bearer ${TOKEN}` } }),
    ];
    for (const res of responses) {
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
      assert.equal(res.headers['referrer-policy'], 'same-origin');
      assert.equal(res.headers['content-security-policy'], CONTENT_SECURITY_POLICY);
    }
    assert.match(CONTENT_SECURITY_POLICY, /frame-ancestors 'self'/);
    assert.match(CONTENT_SECURITY_POLICY, /connect-src 'self' ws: wss:/);
  });
});
