/**
 * What the running add-on exposes, checked on the real server started the way the image starts
 * it (all interfaces for its own ports, `CAMSTACK_RTSP_BIND=0.0.0.0` as in the Dockerfile, the
 * WebRTC media port on all interfaces, a token-protected direct port, MQTT on a real Mosquitto):
 *
 * - listening sockets of the server, go2rtc, MediaMTX and every FFmpeg, read from /proc/net and
 *   matched to the processes through their socket inodes: everything on loopback except the
 *   intended ports (ingress, direct API, go2rtc's WebRTC media port TCP+UDP, MediaMTX's RTSP
 *   restream for Home Assistant);
 * - the ingress guard (403 from any other source) and the token (401 without / with a wrong one)
 *   on EVERY operation of the served OpenAPI document, and the panel's files;
 * - camera credentials (a distinctive password, and a wrong one that makes errors) never in the
 *   log (engine output the server forwards included), API responses, MQTT payloads (`#`), SSE
 *   events or error messages: raw, URL-encoded or as base64 of user:pass;
 * - the panel's index.html and assets carry the security headers for Home Assistant's iframe.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { SyntheticCameraServer } from '../../scripts/synthetic-cameras.js';
import { CONTENT_SECURITY_POLICY } from '../../server/src/http/guard.js';
import { type Mosquitto, type Recorder, recorder, startMosquitto } from '../helpers/mosquitto.js';
import { freePorts } from '../helpers/ports.js';
import { descendantsOf, waitUntil } from '../helpers/processes.js';
import { type ServerProcess, startServerProcess } from '../helpers/server-process.js';
import { assertErrorShape, call, fillPath, isStreaming, type Operation, openApiOperations } from './support.js';

const TOKEN = 'exposure-test-token-0123456789abcdef';
const CAM_USER = 'camadmin';
/** `!` and `*` are left alone by encodeURIComponent but percent-encoded in a URL's userinfo. */
const PASSWORD = 'Zq9!s3cr3t*Pw-4471';
const WRONG_PASSWORD = 'Wr0ng!pass*9183';

interface Listener {
  proto: 'tcp' | 'tcp6' | 'udp' | 'udp6';
  address: string;
  port: number;
  inode: string;
}

function hexToAddress(hex: string, v6: boolean): string {
  if (!v6) {
    const b = Buffer.from(hex, 'hex');
    return [b[3], b[2], b[1], b[0]].join('.');
  }
  // Four little-endian 32-bit words.
  const words = [0, 1, 2, 3].map((i) => Buffer.from(hex.slice(i * 8, i * 8 + 8), 'hex').reverse());
  const b = Buffer.concat(words);
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(i).toString(16));
  const text = groups.join(':');
  if (text === '0:0:0:0:0:0:0:0') return '::';
  if (text === '0:0:0:0:0:0:0:1') return '::1';
  const mapped = /^0:0:0:0:0:ffff:([0-9a-f]+):([0-9a-f]+)$/.exec(text);
  if (mapped) {
    const n = (Number.parseInt(mapped[1] as string, 16) << 16) | Number.parseInt(mapped[2] as string, 16);
    return `::ffff:${[(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.')}`;
  }
  return text;
}

/** Every listening TCP socket and every bound UDP socket on the machine, from /proc/net. */
function listeners(): Listener[] {
  const out: Listener[] = [];
  for (const proto of ['tcp', 'tcp6', 'udp', 'udp6'] as const) {
    const lines = readFileSync(`/proc/net/${proto}`, 'utf8').trim().split('\n').slice(1);
    for (const line of lines) {
      const f = line.trim().split(/\s+/);
      const [addrHex, portHex] = (f[1] ?? '').split(':');
      const state = f[3];
      // TCP: LISTEN (0A). UDP: every bound socket (07, "closed" = not connected) receives datagrams.
      if (proto.startsWith('tcp') ? state !== '0A' : state !== '07') continue;
      out.push({
        proto,
        address: hexToAddress(addrHex ?? '', proto.endsWith('6')),
        port: Number.parseInt(portHex ?? '0', 16),
        inode: f[9] ?? '',
      });
    }
  }
  return out;
}

/** Socket inodes a process holds open. */
function socketInodes(pid: number): Set<string> {
  const inodes = new Set<string>();
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m?.[1]) inodes.add(m[1]);
      } catch {
        // closed meanwhile
      }
    }
  } catch {
    // exited
  }
  return inodes;
}

const isLoopback = (a: string) => a.startsWith('127.') || a === '::1' || a.startsWith('::ffff:127.');

function get(url: string, headers: Record<string, string>, onData: (text: string) => void): () => void {
  const req = httpRequest(url, { headers }, (res) => {
    res.setEncoding('utf8');
    res.on('data', onData);
    res.on('error', () => undefined);
  });
  req.on('error', () => undefined);
  req.end();
  return () => req.destroy();
}

describe('what the running add-on exposes', () => {
  let broker: Mosquitto;
  let sim: SyntheticCameraServer;
  let sp: ServerProcess;
  let mqtt: Recorder;
  let ingress: string;
  let direct: string;
  let ops: Operation[];
  let ingressPort: number;
  let directPort: number;
  let sse = '';
  let stopSse: () => void = () => undefined;
  const httpSeen: string[] = [];
  const auth = { authorization: `Bearer ${TOKEN}` };

  before(async () => {
    broker = await startMosquitto();
    const [rtspPort, apiPort, ip, dp] = (await freePorts(4)) as [number, number, number, number];
    ingressPort = ip;
    directPort = dp;
    sim = new SyntheticCameraServer({ rtspPort, apiPort, auth: { user: CAM_USER, pass: PASSWORD } });
    await sim.start();
    await sim.addCamera({ name: 'front', width: 320, height: 240, fps: 10, audio: false });
    sp = await startServerProcess({
      port: ingressPort,
      options: {
        api_port: directPort,
        api_token: TOKEN,
        mqtt_host: '127.0.0.1',
        mqtt_port: broker.port,
        mqtt_snapshot_interval_seconds: 2,
        webrtc_candidates: ['127.0.0.1'],
      },
      env: {
        // As the image runs: its own ports on every interface; the restream reachable by HA.
        CAMSTACK_HOST: '0.0.0.0',
        CAMSTACK_WEBRTC_BIND: '',
        CAMSTACK_RTSP_BIND: '0.0.0.0',
        CAMSTACK_INGRESS_ALLOW: '127.0.0.1',
        CAMSTACK_API_RATE_LIMIT: '100000',
        CAMSTACK_STATUS_POLL_MS: '500',
        CAMSTACK_MQTT_BIRTH_DELAY_MS: '300',
      },
    });
    ingress = sp.baseUrl;
    direct = `http://127.0.0.1:${directPort}`;
    mqtt = await recorder(broker.url, ['#']);
    stopSse = get(`${direct}/api/events?token=${TOKEN}`, {}, (t) => {
      sse += t;
    });
    const post = async (body: unknown) => {
      const res = await call(ingress, '/api/cameras', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      httpSeen.push(res.body);
      return res;
    };
    // Credentials typed into the URL, and given apart (wrong ones: the camera refuses them).
    const url = sim.url('front').replace('rtsp://', `rtsp://${CAM_USER}:${encodeURIComponent(PASSWORD)}@`);
    assert.equal((await post({ id: 'front', name: 'Front', source: url })).status, 201);
    assert.equal(
      (
        await post({
          id: 'wrong',
          name: 'Wrong password',
          source: sim.url('front'),
          username: CAM_USER,
          password: WRONG_PASSWORD,
        })
      ).status,
      201,
    );
    ops = await openApiOperations(ingress);
  });

  after(async () => {
    if (process.env.CAMSTACK_TEST_DUMP) await writeFile(process.env.CAMSTACK_TEST_DUMP, sp?.output() ?? '');
    stopSse();
    await mqtt?.close();
    await sp?.cleanup();
    await sim?.stop();
    await broker?.cleanup();
  });

  it('engines listen on loopback only; the intended ports are the only ones on other addresses', async (t) => {
    // Make FFmpeg run too (an MJPEG viewer transcodes), so its sockets are counted.
    const stopMjpeg = get(`${ingress}/api/cameras/front/mjpeg`, {}, () => undefined);
    try {
      await waitUntil(
        () => descendantsOf(sp.proc.pid as number).some((p) => /ffmpeg/.test(p.argv[0] ?? '')),
        60_000,
        'an FFmpeg child',
      );
      const procs = [
        { pid: sp.proc.pid as number, argv: ['camstack server'] },
        ...descendantsOf(sp.proc.pid as number),
      ];
      const owner = new Map<string, string>();
      for (const p of procs) {
        const name = /go2rtc|mediamtx|ffmpeg|ffprobe/.exec(p.argv.join(' '))?.[0] ?? 'camstack server';
        for (const inode of socketInodes(p.pid)) owner.set(inode, name);
      }
      const mine = listeners().filter((l) => owner.has(l.inode));
      const ports = sp.enginePorts;
      const intended = new Set([
        `camstack server tcp ${ingressPort}`,
        `camstack server tcp ${directPort}`,
        `go2rtc tcp ${ports.webrtc}`,
        `go2rtc udp ${ports.webrtc}`,
        `mediamtx tcp ${ports.mediamtxRtsp}`,
      ]);
      const report = mine.map((l) => `${owner.get(l.inode)} ${l.proto} ${l.address}:${l.port}`);
      t.diagnostic(report.join('\n'));
      for (const l of mine) {
        const key = `${owner.get(l.inode)} ${l.proto.replace('6', '')} ${l.port}`;
        if (isLoopback(l.address)) continue;
        assert.ok(intended.has(key), `${key} listens on ${l.address}: only loopback is allowed for it`);
      }
      // The intended ones are really there (so the check above saw the right processes).
      for (const key of intended) {
        assert.ok(
          mine.some((l) => `${owner.get(l.inode)} ${l.proto.replace('6', '')} ${l.port}` === key),
          `${key} listens: ${report.join('; ')}`,
        );
      }
      // The engines' APIs, go2rtc's RTSP, MediaMTX's playback and HLS: loopback.
      for (const port of [
        ports.go2rtcApi,
        ports.go2rtcRtsp,
        ports.mediamtxApi,
        ports.mediamtxPlayback,
        ports.mediamtxHls,
      ]) {
        const found = mine.filter((l) => l.port === port);
        assert.ok(found.length > 0, `port ${port} listens`);
        assert.ok(
          found.every((l) => isLoopback(l.address)),
          `${port}: ${JSON.stringify(found)}`,
        );
      }
      // FFmpeg listens nowhere.
      assert.deepEqual(
        mine.filter((l) => /ffmpeg|ffprobe/.test(owner.get(l.inode) ?? '')),
        [],
        'FFmpeg has no listening socket',
      );
    } finally {
      stopMjpeg();
    }
  });

  it('the ingress guard and the token hold on every operation of the OpenAPI document', async () => {
    assert.ok(ops.length >= 25, `${ops.length} operations`);
    const values = { id: 'front', rid: 'seg_1', session: '00000000-0000-0000-0000-000000000000', name: 'nope' };
    const paths = ops.map((op) => ({ op, path: fillPath(op.path, values) }));
    // The panel's files too.
    const panel = ['/', '/index.html', '/settings', `/assets/${readdirSync('server/public/assets')[0] ?? 'x.js'}`];
    const wrong: [string, Record<string, string>, string][] = [
      ['no token', {}, ''],
      ['wrong bearer', { authorization: 'Bearer not-the-token' }, ''],
      ['basic auth', { authorization: `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}` }, ''],
      ['token prefix', { authorization: `Bearer ${TOKEN.slice(0, -1)}` }, ''],
      ['wrong ?token=', {}, 'token=nope'],
    ];
    const send = async (base: string, method: string, path: string, headers: Record<string, string>, from?: string) => {
      const bare = path.split('?')[0];
      const op = ops.find(
        (o) =>
          o.method === method &&
          (fillPath(o.path, values) === bare || fillPath(o.path, { ...values, id: 'no_such_cam' }) === bare),
      );
      const body = op?.body && !isStreaming(op) ? (op.body.contentType.includes('json') ? '{"x":1}' : 'x') : undefined;
      return call(base, path, {
        method,
        headers: { ...headers, ...(body ? { 'content-type': op?.body?.contentType ?? '' } : {}) },
        ...(body ? { body } : {}),
        ...(from ? { from } : {}),
      });
    };
    for (const { op, path } of [...paths, ...panel.map((p) => ({ op: { method: 'GET' } as Operation, path: p }))]) {
      const what = `${op.method} ${path}`;
      const refused = await send(ingress, op.method, path, {}, '127.0.0.2');
      if (path === '/api/health/live') {
        // The one exception: liveness from loopback, for the image's HEALTHCHECK (addon.test.ts).
        assert.equal(refused.status, 200);
      } else {
        assert.equal(refused.status, 403, `${what} from 127.0.0.2: ${refused.status} ${refused.body.slice(0, 200)}`);
        assert.equal(assertErrorShape(refused, what).code, 'forbidden_source');
      }
      for (const [how, headers, query] of wrong) {
        const res = await send(direct, op.method, query ? `${path}?${query}` : path, headers);
        assert.equal(res.status, 401, `${what} on the direct port, ${how}: ${res.status} ${res.body.slice(0, 200)}`);
        assert.equal(assertErrorShape(res, `${what}, ${how}`).code, 'unauthorized');
      }
      // With the token: served (a state-changing call names a camera that does not exist).
      const okPath =
        op.method === 'GET' || !('path' in op) ? path : fillPath(op.path, { ...values, id: 'no_such_cam' });
      const ok = await send(direct, op.method, okPath, auth);
      assert.ok(
        ok.status !== 401 && ok.status !== 403,
        `${what} with the token: ${ok.status} ${ok.body.slice(0, 200)}`,
      );
      httpSeen.push(ok.body, JSON.stringify(ok.headers));
    }
    // Nothing the refused requests asked for happened.
    const cams = JSON.parse((await call(ingress, '/api/cameras')).body) as { id: string }[];
    assert.deepEqual(cams.map((c) => c.id).sort(), ['front', 'wrong']);
  });

  it('camera credentials never appear in the log, API responses, MQTT, SSE or error messages', async () => {
    // The wrong-password camera fails with a reason; the right one streams a picture to MQTT.
    await waitUntil(
      async () => {
        const s = JSON.parse((await call(ingress, '/api/cameras/wrong/status')).body) as { lastError: string | null };
        return s.lastError !== null;
      },
      60_000,
      'the wrong-password camera to report an error',
    );
    await mqtt.waitFor((m) => m.topic === 'camstack/camera/wrong/state', 30_000, 'the state of the failing camera');
    // Errors that could echo what was sent.
    for (const [method, path, body] of [
      ['POST', '/api/cameras', { id: 'front', name: 'Dup', source: `rtsp://${CAM_USER}:${PASSWORD}@127.0.0.1:1/x` }],
      ['POST', '/api/cameras', { id: 'bad', name: 'Bad', source: `rtsp://${CAM_USER}:${PASSWORD}@127.0.0.1:1/$(x)` }],
      ['POST', '/api/cameras', { id: 'bad', name: 'Bad', source: `ftp://${CAM_USER}:${PASSWORD}@127.0.0.1/x` }],
      ['POST', '/api/cameras', { id: 'bad', name: 'Bad', source: 'rtsp://h/x', password: PASSWORD.repeat(30) }],
      ['POST', '/api/cameras', { id: 'bad', name: 'Bad', source: 'rtsp://h/x', password: 12345, username: PASSWORD }],
      ['PUT', '/api/cameras/front', { source: `rtsp://${CAM_USER}:${PASSWORD}@127.0.0.1:1/a b` }],
      ['PUT', '/api/cameras/front', { password: { value: PASSWORD } }],
      ['POST', '/api/cameras', { id: 'bad', name: 'Bad', source: `rtsp://127.0.0.1:1/x?password=${PASSWORD}&x=1;` }],
    ] as const) {
      const res = await call(ingress, path, {
        method,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      assert.ok(res.status >= 400 && res.status < 500, `${method} ${path}: ${res.status} ${res.body.slice(0, 200)}`);
      httpSeen.push(res.body);
    }
    // Every GET of the document, on both ports.
    for (const op of ops.filter((o) => o.method === 'GET')) {
      for (const id of ['front', 'wrong']) {
        const path = fillPath(op.path, { id, rid: 'seg_1' });
        const q = op.params.some((p) => p.in === 'query' && p.name === 'day')
          ? `?day=${new Date().toISOString().slice(0, 10)}`
          : op.params.some((p) => p.in === 'query' && p.name === 'from' && p.required)
            ? `?from=${new Date(Date.now() - 60_000).toISOString()}&to=${new Date().toISOString()}`
            : '';
        for (const [base, headers] of [
          [ingress, {}],
          [direct, auth],
        ] as const) {
          // A stream of a camera that cannot be pulled may wait for its first frame: not collected.
          const res = await call(base, path + q, { headers, timeoutMs: isStreaming(op) ? 5000 : 20_000 }).catch(
            (err: unknown) => {
              if (!isStreaming(op)) throw err;
              return null;
            },
          );
          if (res) httpSeen.push(res.body, JSON.stringify(res.headers));
        }
      }
    }
    await new Promise((r) => setTimeout(r, 1500)); // let SSE and MQTT deliver what the calls caused
    const corpus: [string, string][] = [
      ['the server log (engine output included)', sp.output()],
      ['HTTP responses', httpSeen.join('\n')],
      ['MQTT payloads and topics', mqtt.messages.map((m) => `${m.topic} ${m.payload.toString('latin1')}`).join('\n')],
      ['SSE events', sse],
    ];
    assert.ok(sse.includes('camera.status'), 'SSE events were collected');
    assert.ok(mqtt.messages.length > 20, 'MQTT messages were collected');
    const forms = (pass: string): [string, string][] => [
      ['raw', pass],
      ['URL-encoded', encodeURIComponent(pass)],
      [
        'userinfo-encoded',
        encodeURIComponent(pass).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`),
      ],
      ['JSON-escaped', JSON.stringify(pass).slice(1, -1)],
      ['base64 of user:pass', Buffer.from(`${CAM_USER}:${pass}`).toString('base64')],
      ['base64 of user:pass (MIME)', Buffer.from(`${CAM_USER}:${pass}`).toString('base64').slice(0, 20)],
    ];
    for (const pass of [PASSWORD, WRONG_PASSWORD]) {
      for (const [where, text] of corpus) {
        for (const [form, needle] of forms(pass)) {
          const at = text.indexOf(needle);
          assert.equal(
            at,
            -1,
            `the password (${form}) is in ${where}: …${text.slice(Math.max(0, at - 200), at + 50)}…`,
          );
        }
      }
    }
    assert.ok(!sp.output().includes(TOKEN), 'the API token is not in the log');
  });

  it("the panel's index.html and assets carry the security headers for Home Assistant's iframe", async () => {
    const asset = readdirSync('server/public/assets').find((f) => f.endsWith('.js'));
    assert.ok(asset, 'the panel is built');
    const ingressHeaders = { 'x-ingress-path': '/api/hassio_ingress/abc123' };
    const responses = [
      await call(ingress, '/', { headers: ingressHeaders }),
      await call(ingress, '/camera/front', { headers: ingressHeaders }),
      await call(ingress, `/assets/${asset}`, { headers: ingressHeaders }),
      await call(ingress, '/favicon.svg', { headers: ingressHeaders }),
      await call(direct, '/', { headers: auth }),
      await call(direct, `/assets/${asset}`, { headers: auth }),
    ];
    for (const res of responses) {
      assert.equal(res.status, 200);
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
      assert.equal(res.headers['referrer-policy'], 'same-origin');
      assert.equal(res.headers['content-security-policy'], CONTENT_SECURITY_POLICY);
      // HA's sidebar iframes the panel from its own origin: that, and nothing else, may frame it.
      assert.match(String(res.headers['content-security-policy']), /frame-ancestors 'self'(;|$)/);
      assert.equal(res.headers['x-frame-options'], undefined, 'no X-Frame-Options DENY that would break the iframe');
    }
    const csp = CONTENT_SECURITY_POLICY;
    assert.doesNotMatch(csp, /script-src[^;]*'unsafe-(inline|eval)'/);
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, /object-src 'none'/);
    assert.match(csp, /base-uri 'self'/);
    // Nothing inline that the policy would have to allow: every script has a src.
    const html = responses[0]?.body ?? '';
    assert.match(html, /<base href="\/api\/hassio_ingress\/abc123\/">/);
    for (const tag of html.match(/<script\b[^>]*>/gi) ?? []) assert.match(tag, /\bsrc=/, tag);
    assert.doesNotMatch(html, /\son[a-z]+=/i, 'no inline event handlers');
  });
});
