/**
 * The add-on, run the way its container runs it (no Docker here): the server compiled with
 * `npm run build`'s tsconfig into an /app-like tree (app/package.json, app/server/package.json,
 * app/server/dist, app/node_modules) and started as `node app/server/dist/main.js` from that
 * tree, with the Node flags of the image's ENTRYPOINT (addon/Dockerfile), with the image's
 * environment (CAMSTACK_*_BIN, CAMSTACK_API_PORT), an options.json, a media dir, SUPERVISOR_TOKEN
 * and a stand-in Supervisor (test/helpers/supervisor-standin.ts). The image itself, in Docker, is
 * test/image/ (npm run test:image).
 *
 * The two listeners: the ingress port answers only the allowed source (127.0.0.1 here, through
 * CAMSTACK_INGRESS_ALLOW; 172.30.32.2 in the add-on), and the direct port only with the token.
 * A request "from elsewhere" binds its socket to 127.0.0.2 (127.0.0.3 for the rate limit).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { SyntheticCameraServer } from '../../scripts/synthetic-cameras.js';
import { resolveBinaries } from '../../server/src/engines/binaries.js';
import { CONTENT_SECURITY_POLICY } from '../../server/src/http/guard.js';
import { freeEnginePorts, freePorts } from '../helpers/ports.js';
import { waitUntil } from '../helpers/processes.js';
import { type SupervisorStandin, startSupervisorStandin } from '../helpers/supervisor-standin.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const TOKEN = 'node-red-token-0123456789abcdef';
const RATE_LIMIT = 150;

interface Res {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One HTTP request; `from` binds the client socket to that loopback address. Streams: headers only. */
function call(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: unknown; from?: string } = {},
): Promise<Res> {
  return new Promise((resolve, reject) => {
    const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const req = httpRequest(
      url,
      {
        method: opts.method ?? 'GET',
        localAddress: opts.from ?? '127.0.0.1',
        headers: {
          ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
          ...opts.headers,
        },
        timeout: 10_000,
      },
      (res) => {
        const type = String(res.headers['content-type'] ?? '');
        const streaming = /event-stream|multipart|video\/mp4/.test(type);
        let body = '';
        const done = () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
        if (streaming) {
          res.destroy();
          done();
          return;
        }
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          body += d;
        });
        res.on('end', done);
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timed out: ${url}`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/** Opening a WebSocket: the HTTP status of a refused upgrade, or 101 when it opened. */
function wsStatus(url: string, headers: Record<string, string> = {}, from = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers, localAddress: from });
    ws.once('open', () => {
      ws.close();
      resolve(101);
    });
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.once('error', reject);
  });
}

function assertErrorShape(res: Res, status: number, code: string): void {
  assert.equal(res.status, status, `${status} expected, got ${res.status}: ${res.body}`);
  const body = JSON.parse(res.body) as Record<string, unknown>;
  assert.deepEqual(Object.keys(body).sort(), ['code', 'error', 'message', 'problems', 'statusCode']);
  assert.equal(body.statusCode, status);
  assert.equal(body.code, code);
  assert.equal(typeof body.message, 'string');
}

/** The /app tree of the image: compiled server, package.json files, node_modules. */
async function buildAppTree(dir: string): Promise<string> {
  const app = join(dir, 'app');
  await mkdir(join(app, 'server'), { recursive: true });
  const tsc = spawnSync(
    process.execPath,
    [
      join(root, 'node_modules/typescript/bin/tsc'),
      '-p',
      join(root, 'server/tsconfig.json'),
      '--outDir',
      join(app, 'server/dist'),
    ],
    { encoding: 'utf8' },
  );
  assert.equal(tsc.status, 0, `npm run build (tsc -p server/tsconfig.json) failed:\n${tsc.stdout}${tsc.stderr}`);
  await copyFile(join(root, 'package.json'), join(app, 'package.json'));
  await copyFile(join(root, 'server/package.json'), join(app, 'server/package.json'));
  await symlink(join(root, 'node_modules'), join(app, 'node_modules'), 'dir');
  return app;
}

describe('the add-on, run as its container runs it', () => {
  let dir: string;
  let app: string;
  let sim: SyntheticCameraServer;
  let supervisor: SupervisorStandin;
  let proc: ChildProcess;
  let exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  let out = '';
  let ingress: string;
  let direct: string;
  let webrtcPort: number;

  before(async () => {
    dir = await realpath(await mkdtemp(join(tmpdir(), 'camstack-addon-')));
    app = await buildAppTree(dir);
    const [rtspPort, simApiPort, ingressPort, directPort] = (await freePorts(4)) as [number, number, number, number];
    sim = new SyntheticCameraServer({ rtspPort, apiPort: simApiPort });
    await sim.start();
    await sim.addCamera({ name: 'front', width: 320, height: 240, fps: 10, audio: false });
    supervisor = await startSupervisorStandin({
      mqtt: null, // no Mosquitto add-on: "Service not enabled"
      interfaces: [
        { interface: 'eth0', primary: true, ipv4: ['127.0.0.1/8'] },
        { interface: 'wlan0', connected: false, ipv4: ['192.0.2.10/24'] },
      ],
    });

    // What the Supervisor writes to /data/options.json; the folders /data and /media.
    const data = join(dir, 'data');
    const media = join(dir, 'media');
    const config = join(dir, 'config');
    await Promise.all([mkdir(data), mkdir(media), mkdir(config)]);
    const options = {
      cameras: [{ id: 'front', name: 'Front door', source: sim.url('front') }],
      log_level: 'debug',
      mqtt_enabled: true,
      ha_live_cameras: true,
      storage_max_gb: 0,
      storage_min_free_percent: 5,
      triggers: [],
      api_token: TOKEN,
      // Container paths (/data, /media/camstack, /config/cameras.yaml) moved into the temp dir.
      data_dir: data,
      media_dir: join(media, 'camstack'),
      cameras_file: join(config, 'cameras.yaml'),
    };
    await writeFile(join(data, 'options.json'), JSON.stringify(options));
    await writeFile(join(config, 'cameras.yaml'), 'cameras: []\n');

    const bins = resolveBinaries();
    const enginePorts = await freeEnginePorts();
    webrtcPort = enginePorts.webrtc;
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      TZ: 'UTC',
      // The Dockerfile's ENV.
      CAMSTACK_GO2RTC_BIN: bins.go2rtc,
      CAMSTACK_MEDIAMTX_BIN: bins.mediamtx,
      CAMSTACK_FFMPEG_BIN: bins.ffmpeg,
      CAMSTACK_FFPROBE_BIN: bins.ffprobe,
      CAMSTACK_API_PORT: String(directPort),
      NODE_ENV: 'production',
      // What the Supervisor gives every add-on container.
      SUPERVISOR_TOKEN: supervisor.token,
      SUPERVISOR_URL: supervisor.url,
      // Test-only: loopback instead of 0.0.0.0 / 172.30.32.2, free ports, the options file.
      CAMSTACK_OPTIONS: join(data, 'options.json'),
      CAMSTACK_HOST: '127.0.0.1',
      CAMSTACK_PORT: String(ingressPort),
      CAMSTACK_INGRESS_ALLOW: '127.0.0.1',
      CAMSTACK_ENGINE_PORTS: JSON.stringify(enginePorts),
      CAMSTACK_WEBRTC_BIND: '127.0.0.1',
      CAMSTACK_API_RATE_LIMIT: String(RATE_LIMIT),
      CAMSTACK_STATUS_POLL_MS: '300',
    };
    // The Node flags of the image's ENTRYPOINT, so the server runs as the image runs it.
    const dockerfile = readFileSync(join(root, 'addon/Dockerfile'), 'utf8');
    const entrypoint = JSON.parse(/^ENTRYPOINT (\[.*\])$/m.exec(dockerfile)?.[1] ?? '[]') as string[];
    const main = entrypoint.indexOf('/app/server/dist/main.js');
    assert.ok(entrypoint.includes('node') && main > 0, `ENTRYPOINT runs node /app/server/dist/main.js: ${entrypoint}`);
    const nodeFlags = entrypoint.slice(entrypoint.indexOf('node') + 1, main);
    proc = spawn(process.execPath, [...nodeFlags, join(app, 'server/dist/main.js')], {
      cwd: app,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    proc.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    proc.stderr?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    exited = new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
    ingress = `http://127.0.0.1:${ingressPort}`;
    direct = `http://127.0.0.1:${directPort}`;
    await waitUntil(
      async () => {
        if (proc.exitCode !== null) throw new Error(`the server exited with ${proc.exitCode}:\n${out}`);
        return (await call(`${ingress}/api/health/ready`).catch(() => null))?.status === 200;
      },
      90_000,
      'the add-on to be ready (both engines running)',
    );
  });

  after(async () => {
    if (process.env.CAMSTACK_ADDON_TEST_LOG) await writeFile(process.env.CAMSTACK_ADDON_TEST_LOG, out);
    if (proc && proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    await sim?.stop();
    await supervisor?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('comes up healthy with the cameras of options.json and the WebRTC address from the Supervisor', async () => {
    let state = '';
    await waitUntil(
      async () => {
        const res = await call(`${ingress}/api/cameras/front/status`);
        state = (JSON.parse(res.body) as { state?: string }).state ?? '';
        return state === 'idle' || state === 'streaming';
      },
      60_000,
      'the camera to be idle or streaming',
    ).catch((err: unknown) => assert.fail(`${String(err)} (last state ${state})`));
    const health = await call(`${ingress}/api/health`);
    assert.equal(health.status, 200);
    assert.equal((JSON.parse(health.body) as { status: string }).status, 'ok');
    const cameras = JSON.parse((await call(`${ingress}/api/cameras`)).body) as { id: string; name: string }[];
    assert.deepEqual(
      cameras.map((c) => [c.id, c.name]),
      [['front', 'Front door']],
    );
    // A frame of the synthetic camera, through the token-protected direct port (retried: the first
    // capture of an idle on-demand camera may take a while on a loaded machine).
    let frame: Res | null = null;
    await waitUntil(
      async () => {
        frame = await call(`${direct}/api/cameras/front/snapshot.jpg`, {
          headers: { authorization: `Bearer ${TOKEN}` },
        });
        return frame.status === 200;
      },
      30_000,
      'a snapshot of the camera',
    ).catch((err: unknown) => assert.fail(`${String(err)}: ${frame?.status} ${frame?.body.slice(0, 300)}`));
    assert.match(String((frame as Res | null)?.headers['content-type']), /^image\/jpeg/);
    // The Supervisor was asked for the host's addresses, with the token; the connected
    // interface's address became go2rtc's WebRTC candidate, the disconnected one did not.
    assert.ok(supervisor.requests.some((r) => r.path === '/network/info' && r.authorized));
    const rest = supervisor.requests.filter((r) => r.method !== 'WS');
    assert.ok(
      rest.every((r) => r.authorized),
      `every Supervisor API call sends SUPERVISOR_TOKEN: ${JSON.stringify(rest)}`,
    );
    const go2rtcYaml = await readFile(join(dir, 'data/engines/go2rtc.yaml'), 'utf8');
    assert.match(go2rtcYaml, new RegExp(`127\\.0\\.0\\.1:${webrtcPort}`));
    assert.doesNotMatch(go2rtcYaml, /192\.0\.2\.10/);
    // The token never reaches the log.
    assert.doesNotMatch(out, new RegExp(TOKEN));
  });

  it('ingress port: another source address gets 403 in the API error shape, on every path', async () => {
    for (const [method, path] of [
      ['GET', '/api/cameras'],
      ['GET', '/api/health'],
      ['GET', '/api/events'],
      ['GET', '/api/openapi.json'],
      ['GET', '/api/cameras/front/mjpeg'],
      ['POST', '/api/cameras'],
      ['DELETE', '/api/cameras/front'],
      ['GET', '/no/such/path'],
    ] as const) {
      const res = await call(`${ingress}${path}`, {
        method,
        from: '127.0.0.2',
        ...(method === 'POST' ? { body: { id: 'x', name: 'X', source: sim.url('front') } } : {}),
      });
      assertErrorShape(res, 403, 'forbidden_source');
    }
    assert.equal(await wsStatus(`${ingress.replace('http', 'ws')}/api/cameras/front/ws`, {}, '127.0.0.2'), 403);
    // The camera was not deleted by the refused DELETE.
    assert.equal((JSON.parse((await call(`${ingress}/api/cameras`)).body) as unknown[]).length, 1);
    // Loopback may always ask for liveness (the image's HEALTHCHECK), and only that.
    assert.equal((await call(`${ingress}/api/health/live`, { from: '127.0.0.2' })).status, 200);
    assert.equal((await call(`${ingress}/api/health/ready`, { from: '127.0.0.2' })).status, 403);
  });

  it('security headers on every response, streams and errors included', async () => {
    const responses = [
      await call(`${ingress}/api/cameras`),
      await call(`${ingress}/api/events`),
      await call(`${ingress}/api/cameras/front/mjpeg`),
      await call(`${ingress}/no/such/path`),
      await call(`${ingress}/api/cameras`, { from: '127.0.0.2' }),
      await call(`${direct}/api/cameras`),
    ];
    for (const res of responses) {
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
      assert.equal(res.headers['referrer-policy'], 'same-origin');
      assert.equal(res.headers['content-security-policy'], CONTENT_SECURITY_POLICY);
    }
    assert.match(String(responses[1]?.headers['content-type']), /text\/event-stream/);
    assert.match(String(responses[2]?.headers['content-type']), /multipart\/x-mixed-replace/);
  });

  it('direct port: a missing or wrong token is 401 on every route family; the right one is served', async () => {
    const families: [string, string, string][] = [
      ['cameras', 'GET', '/api/cameras'],
      ['cameras (write)', 'POST', '/api/cameras'],
      ['status', 'GET', '/api/cameras/front/status'],
      ['live', 'GET', '/api/cameras/front/mjpeg'],
      ['live (mp4)', 'GET', '/api/cameras/front/stream.mp4'],
      ['snapshots', 'GET', '/api/cameras/front/snapshot.jpg'],
      ['events', 'GET', '/api/events'],
      ['metrics', 'GET', '/api/metrics'],
      ['openapi', 'GET', '/api/openapi.json'],
      ['health', 'GET', '/api/health'],
      ['unknown path', 'GET', '/api/nothing/here'],
    ];
    const wrong: [string, { headers?: Record<string, string>; query?: string }][] = [
      ['no token', {}],
      ['wrong bearer', { headers: { authorization: 'Bearer not-the-token-at-all' } }],
      ['token as basic auth', { headers: { authorization: `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}` } }],
      ['bearer with a suffix', { headers: { authorization: `Bearer ${TOKEN}x` } }],
      ['wrong ?token=', { query: 'token=wrong' }],
      ['empty ?token=', { query: 'token=' }],
    ];
    for (const [family, method, path] of families) {
      for (const [how, w] of wrong) {
        const sep = path.includes('?') ? '&' : '?';
        const res = await call(`${direct}${path}${w.query ? sep + w.query : ''}`, {
          method,
          ...(w.headers ? { headers: w.headers } : {}),
          ...(method === 'POST' ? { body: { id: 'nope', name: 'Nope', source: sim.url('front') } } : {}),
        });
        assertErrorShape(res, 401, 'unauthorized');
        assert.match(String(res.headers['www-authenticate']), /^Bearer/, `${family}, ${how}`);
      }
    }
    assert.equal(await wsStatus(`${direct.replace('http', 'ws')}/api/cameras/front/ws`), 401);
    assert.equal(await wsStatus(`${direct.replace('http', 'ws')}/api/cameras/front/ws?token=wrong`), 401);
    // Nothing was created by the refused POSTs.
    assert.equal((JSON.parse((await call(`${ingress}/api/cameras`)).body) as unknown[]).length, 1);

    const auth = { authorization: `Bearer ${TOKEN}` };
    const ok: [string, number, RegExp][] = [
      ['/api/cameras', 200, /application\/json/],
      ['/api/cameras/front/status', 200, /application\/json/],
      ['/api/cameras/front/mjpeg', 200, /multipart\/x-mixed-replace/],
      ['/api/events', 200, /text\/event-stream/],
      ['/api/metrics', 200, /text\/plain/],
      ['/api/openapi.json', 200, /application\/json/],
      ['/api/health', 200, /application\/json/],
      ['/api/nothing/here', 404, /application\/json/],
    ];
    for (const [path, status, type] of ok) {
      const res = await call(`${direct}${path}`, { headers: auth });
      assert.equal(res.status, status, `${path}: ${res.body.slice(0, 300)}`);
      assert.match(String(res.headers['content-type']), type, path);
    }
    // ?token= for clients that cannot set headers (EventSource, <img>, WebSocket); the token is
    // taken out of the query before the routes validate it (events has a strict query schema).
    const sse = await call(`${direct}/api/events?types=camera.status&token=${TOKEN}`);
    assert.equal(sse.status, 200);
    assert.match(String(sse.headers['content-type']), /text\/event-stream/);
    const img = await call(`${direct}/api/cameras/front/snapshot.jpg?token=${TOKEN}`);
    assert.equal(img.status, 200);
    assert.equal(await wsStatus(`${direct.replace('http', 'ws')}/api/cameras/front/ws?token=${TOKEN}`), 101);
    assert.equal(await wsStatus(`${direct.replace('http', 'ws')}/api/cameras/front/ws`, auth), 101);
    assert.doesNotMatch(out, new RegExp(TOKEN), 'the token never reaches the log');
  });

  it('ingress: the Home Assistant user of a state-changing call is in the log', async () => {
    const user = {
      'x-remote-user-id': '8f1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e',
      'x-remote-user-name': 'grandma_elsie',
      'x-remote-user-display-name': 'Elsie',
    };
    const created = await call(`${ingress}/api/cameras`, {
      method: 'POST',
      headers: user,
      body: { id: 'garden', name: 'Garden', source: sim.url('front') },
    });
    assert.equal(created.status, 201, created.body);
    const removed = await call(`${ingress}/api/cameras/garden`, { method: 'DELETE', headers: user });
    assert.equal(removed.status, 204);
    // A read is not a change: not logged as one.
    await call(`${ingress}/api/cameras`, { headers: { ...user, 'x-remote-user-name': 'reader_only' } });
    await waitUntil(() => /DELETE \/api\/cameras\/garden by grandma_elsie/.test(out), 5000, 'the DELETE in the log');
    const lines = out
      .split('\n')
      .filter((l) => l.includes('grandma_elsie'))
      .map((l) => JSON.parse(l) as { user: { id: string; name: string; displayName: string }; statusCode: number });
    assert.deepEqual(
      lines.map((l) => [l.user.name, l.user.displayName, l.user.id, l.statusCode]),
      [
        ['grandma_elsie', 'Elsie', user['x-remote-user-id'], 201],
        ['grandma_elsie', 'Elsie', user['x-remote-user-id'], 204],
      ],
    );
    assert.doesNotMatch(out, /reader_only/);
  });

  it('direct port: more than the rate limit from one address gets 429, other addresses do not', async () => {
    const from = '127.0.0.3';
    const statuses: number[] = [];
    // Unauthenticated requests count too: guessing the token is rate limited.
    for (let i = 0; i < RATE_LIMIT + 1; i++) statuses.push((await call(`${direct}/api/cameras`, { from })).status);
    assert.deepEqual(statuses.slice(0, RATE_LIMIT), Array(RATE_LIMIT).fill(401));
    assert.equal(statuses[RATE_LIMIT], 429);
    const limited = await call(`${direct}/api/cameras`, { from, headers: { authorization: `Bearer ${TOKEN}` } });
    assertErrorShape(limited, 429, 'rate_limited');
    assert.ok(Number(limited.headers['retry-after']) > 0);
    assert.equal(limited.headers['x-ratelimit-limit'], String(RATE_LIMIT));
    const other = await call(`${direct}/api/cameras`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(other.status, 200);
  });

  it('SIGTERM (docker stop, through the image’s tini) ends the server with 0 within 10 s', async () => {
    const t0 = Date.now();
    proc.kill('SIGTERM');
    const exit = await Promise.race([exited, new Promise<null>((r) => setTimeout(() => r(null), 10_000))]);
    assert.ok(exit, `exited within 10 s; the log ends with:\n${out.slice(-4000)}`);
    assert.equal(exit.code, 0, out.slice(-2000));
    assert.ok(Date.now() - t0 < 10_000);
  });
});
