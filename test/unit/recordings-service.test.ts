/**
 * The recordings service and API on real files (made by the real FFmpeg) in a temp media folder,
 * without engines: indexing from disk, crash repair, rebuilding a deleted index, protection,
 * deletion, retention, the storage cap, and every kind of bad input.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { toEventSettings } from '../../server/src/config/events-config.js';
import type { Camera } from '../../server/src/config/load.js';
import { DEFAULT_MOTION_CONFIG } from '../../server/src/config/motion.js';
import { resolveBinaries } from '../../server/src/engines/binaries.js';
import { type CamstackEvents, EventBus } from '../../server/src/events/bus.js';
import { buildApp, type CamstackApp } from '../../server/src/http/app.js';
import { SecretRedactor } from '../../server/src/log/redact.js';
import { readMp4Info, repairFragmentedMp4 } from '../../server/src/recordings/mp4.js';
import { clipFileName, localStamp } from '../../server/src/recordings/naming.js';
import { DAY_MS } from '../../server/src/recordings/retention.js';
import { recordingRoutes } from '../../server/src/recordings/routes.js';
import {
  RecordingService,
  type RecordingServiceOptions,
  type RecordingView,
} from '../../server/src/recordings/service.js';

const bins = resolveBinaries();
const root = mkdtempSync(join(tmpdir(), 'camstack-rec-'));
after(() => rmSync(root, { recursive: true, force: true }));

/** A fragmented MP4 like MediaMTX writes (1 s fragments), still "open": mvhd duration 0. */
let openSegment = '';
/** The same, closed: mvhd carries the duration. */
let closedSegment = '';
/** A plain faststart MP4 (a clip). */
let clipFile = '';

before(() => {
  openSegment = join(root, 'open.mp4');
  execFileSync(bins.ffmpeg, [
    '-v',
    'error',
    '-f',
    'lavfi',
    '-i',
    'testsrc2=size=320x240:rate=10',
    '-t',
    '4',
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-g',
    '10',
    '-f',
    'mp4',
    '-movflags',
    '+frag_keyframe+empty_moov+default_base_moof',
    '-y',
    openSegment,
  ]);
  closedSegment = join(root, 'closed.mp4');
  copyFileSync(openSegment, closedSegment);
  clipFile = join(root, 'clip.mp4');
  execFileSync(bins.ffmpeg, [
    '-v',
    'error',
    '-f',
    'lavfi',
    '-i',
    'testsrc2=size=320x240:rate=10',
    '-t',
    '3',
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-movflags',
    '+faststart',
    '-y',
    clipFile,
  ]);
});

function camera(id: string, recording: Partial<Camera['recording']> = {}): Camera {
  return {
    id,
    name: id,
    source: `rtsp://${id}.local/s`,
    substream: null,
    username: null,
    password: null,
    enabled: true,
    sourceType: 'rtsp',
    origin: 'file',
    recording: {
      continuous: true,
      retainDays: 7,
      clipRetainDays: 30,
      preRollSeconds: 0,
      clipSeconds: 20,
      ...recording,
    },
    events: toEventSettings(undefined),
    onvif: null,
    motion: DEFAULT_MOTION_CONFIG,
  };
}

function segName(ms: number): string {
  return `${localStamp(ms).slice(0, 19)}-${String(ms % 1000).padStart(3, '0')}000.mp4`;
}

function ffprobeOk(file: string): number {
  const out = execFileSync(bins.ffprobe, ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', file]);
  return Number(String(out).trim());
}

interface Harness {
  dir: string;
  media: string;
  service: RecordingService;
  app: CamstackApp;
  bus: EventBus;
  events: { name: keyof CamstackEvents; payload: unknown }[];
  cameras: Camera[];
  clock: { now: number };
  close: () => Promise<void>;
}

async function harness(
  dir: string,
  cameras: Camera[],
  opts: Partial<RecordingServiceOptions> & { clock?: { now: number } } = {},
): Promise<Harness> {
  const media = join(dir, 'media');
  mkdirSync(media, { recursive: true });
  const bus = new EventBus();
  const events: Harness['events'] = [];
  for (const name of ['recording.segment', 'recording.deleted', 'recording.expiring', 'clip.saved'] as const) {
    bus.on(name, (payload) => events.push({ name, payload }), 'test');
  }
  const clock = opts.clock ?? { now: Date.now() };
  const service = new RecordingService({
    mediaDir: media,
    indexFile: join(dir, 'data', 'recordings.db'),
    cameras: () => cameras,
    bus,
    logger: pino({ level: 'silent' }),
    redactor: new SecretRedactor(),
    ffmpeg: bins.ffmpeg,
    ffprobe: bins.ffprobe,
    ports: { mediamtxRtsp: 1, mediamtxPlayback: 1 },
    recorder: { pid: () => null, running: () => false },
    acquireInternalReader: () => () => undefined,
    scanIntervalMs: 3_600_000,
    retentionIntervalMs: 3_600_000,
    now: () => clock.now,
    diskUsage: async () => null,
    ...opts,
  });
  await service.start();
  const app = await buildApp({
    logger: pino({ level: 'silent' }),
    version: '0.0.0',
    engineHealth: () => ({
      go2rtc: { state: 'running', pid: 1, restarts: 0, lastError: null },
      mediamtx: { state: 'running', pid: 1, restarts: 0, lastError: null },
    }),
    plugins: [
      (a) => recordingRoutes(a, { recordings: service, store: { get: (id) => cameras.find((c) => c.id === id) } }),
    ],
  });
  return {
    dir,
    media,
    service,
    app,
    bus,
    events,
    cameras,
    clock,
    close: async () => {
      await app.close();
      await service.stop();
    },
  };
}

function put(media: string, rel: string, source: string, mtimeMs?: number): string {
  const abs = join(media, rel);
  mkdirSync(join(abs, '..'), { recursive: true });
  copyFileSync(source, abs);
  if (mtimeMs !== undefined) utimesSync(abs, mtimeMs / 1000, mtimeMs / 1000);
  return abs;
}

async function list(h: Harness, query = ''): Promise<{ items: RecordingView[]; total: number }> {
  const res = await h.app.inject({ method: 'GET', url: `/api/recordings${query}` });
  assert.equal(res.statusCode, 200, res.body);
  return res.json();
}

describe('recordings: index from disk, repair, rebuild', () => {
  it('indexes segments and clips found on disk; a segment left open by a crash is repaired', async () => {
    await repairFragmentedMp4(closedSegment);
    const dir = mkdtempSync(join(root, 'index-'));
    const t0 = Date.now() - 3600_000;
    const media = join(dir, 'media');
    const segs = [0, 4000, 8000].map((d) => `cam/${segName(t0 + d)}`);
    put(media, segs[0] as string, closedSegment);
    put(media, segs[1] as string, closedSegment);
    // Left open by a crash: duration 0 and a torn last fragment.
    const crashed = put(media, segs[2] as string, openSegment);
    writeFileSync(
      crashed,
      Buffer.concat([readFileSync(crashed), Buffer.from([0, 0, 0x10, 0, 0x6d, 0x6f, 0x6f, 0x66, 1, 2, 3])]),
    );
    utimesSync(crashed, t0 / 1000, t0 / 1000);
    const clipRel = `cam/clips/${clipFileName('cam', t0 + 1000, 'mqtt')}`;
    put(media, clipRel, clipFile);
    mkdirSync(join(media, 'cam/clips/.protected'), { recursive: true });
    writeFileSync(join(media, 'cam/clips/.protected', clipRel.split('/').pop() as string), '');
    // Things that are not recordings are left alone.
    put(media, 'cam/snapshots/cam_1.jpg', clipFile);
    put(media, 'cam/notes.txt', clipFile);

    const h = await harness(dir, [camera('cam')]);
    try {
      const all = await list(h, '?order=asc');
      assert.deepEqual(
        all.items.map((r) => [r.type, r.path]),
        [
          ['segment', segs[0]],
          ['clip', clipRel],
          ['segment', segs[1]],
          ['segment', segs[2]],
        ],
      );
      const clip = all.items.find((r) => r.type === 'clip');
      assert.equal(clip?.protected, true, 'the marker next to the file protects it');
      assert.equal(clip?.trigger, 'mqtt');
      assert.ok(Math.abs((clip?.durationSeconds ?? 0) - 3) < 0.2);
      const repaired = all.items.find((r) => r.path === segs[2]);
      assert.equal(repaired?.inProgress, false);
      assert.ok(Math.abs((repaired?.durationSeconds ?? 0) - 4) < 0.3, `repaired ${repaired?.durationSeconds}`);
      assert.ok((await readMp4Info(crashed)).durationMs > 3500, 'duration written into the file');
      assert.ok(ffprobeOk(crashed) > 3.5, 'the repaired segment plays');
      for (const r of all.items) ffprobeOk(join(h.media, r.path as string));
      assert.equal(
        h.events.filter((e) => e.name === 'recording.segment').length,
        3,
        'one recording.segment per completed segment',
      );
    } finally {
      await h.close();
    }

    // Deleting the index loses nothing: the files (and markers) are the truth.
    rmSync(join(dir, 'data'), { recursive: true, force: true });
    const h2 = await harness(dir, [camera('cam')]);
    try {
      const again = await list(h2, '?order=asc');
      assert.deepEqual(
        again.items.map((r) => [r.type, r.path, r.protected]),
        [
          ['segment', segs[0], false],
          ['clip', clipRel, true],
          ['segment', segs[1], false],
          ['segment', segs[2], false],
        ],
      );
      // A file removed behind our back disappears from the index at the next full scan.
      rmSync(join(h2.media, segs[1] as string));
      await h2.service.scanNow();
      assert.equal((await list(h2)).total, 3);
      assert.ok(
        h2.events.some((e) => e.name === 'recording.deleted' && (e.payload as { reason: string }).reason === 'missing'),
      );
    } finally {
      await h2.close();
    }
  });
});

describe('recordings API', () => {
  let h: Harness;
  let segRid = '';
  let clipRid = '';
  let size = 0;

  before(async () => {
    await repairFragmentedMp4(closedSegment);
    const dir = mkdtempSync(join(root, 'api-'));
    const t0 = Date.now() - 7200_000;
    put(join(dir, 'media'), `cam/${segName(t0)}`, closedSegment);
    put(join(dir, 'media'), `cam/clips/${clipFileName('cam', t0 + 500, 'api')}`, clipFile);
    h = await harness(dir, [camera('cam'), camera('off', { continuous: false }), { ...camera('dis'), enabled: false }]);
    const all = await list(h);
    segRid = all.items.find((r) => r.type === 'segment')?.id ?? '';
    clipRid = all.items.find((r) => r.type === 'clip')?.id ?? '';
    size = statSync(join(h.media, all.items.find((r) => r.type === 'segment')?.path ?? '')).size;
  });
  after(() => h?.close());

  it('lists with filters and gets one', async () => {
    assert.equal((await list(h, '?type=clip')).items.length, 1);
    assert.equal((await list(h, '?type=segment&camera=cam')).items.length, 1);
    assert.equal((await list(h, '?camera=off')).total, 0);
    assert.equal((await list(h, '?protected=true')).total, 0);
    assert.equal((await list(h, `?from=${new Date(Date.now() - 60_000).toISOString()}`)).total, 0);
    const one = await h.app.inject({ method: 'GET', url: `/api/recordings/${segRid}` });
    assert.equal(one.statusCode, 200);
    assert.equal(one.json().url, `/api/recordings/${segRid}/video`);
    assert.match(one.json().expiresAt, /^\d{4}-/);
  });

  it('plays with HTTP ranges: 200, 206 with Content-Range, 416 outside the file', async () => {
    const full = await h.app.inject({ method: 'GET', url: `/api/recordings/${segRid}/video` });
    assert.equal(full.statusCode, 200);
    assert.equal(full.headers['content-type'], 'video/mp4');
    assert.equal(full.headers['accept-ranges'], 'bytes');
    assert.equal(full.rawPayload.length, size);
    const part = await h.app.inject({
      method: 'GET',
      url: `/api/recordings/${segRid}/video`,
      headers: { range: 'bytes=100-199' },
    });
    assert.equal(part.statusCode, 206);
    assert.equal(part.headers['content-range'], `bytes 100-199/${size}`);
    assert.equal(part.rawPayload.length, 100);
    assert.deepEqual(part.rawPayload, full.rawPayload.subarray(100, 200));
    const tail = await h.app.inject({
      method: 'GET',
      url: `/api/recordings/${segRid}/video`,
      headers: { range: 'bytes=-10' },
    });
    assert.equal(tail.statusCode, 206);
    assert.equal(tail.headers['content-range'], `bytes ${size - 10}-${size - 1}/${size}`);
    const outside = await h.app.inject({
      method: 'GET',
      url: `/api/recordings/${segRid}/video`,
      headers: { range: `bytes=${size}-` },
    });
    assert.equal(outside.statusCode, 416);
    assert.equal(outside.headers['content-range'], `bytes */${size}`);
    assert.equal(outside.json().problems[0].field, 'range');
  });

  it('a protected clip cannot be deleted until it is unprotected', async () => {
    const prot = await h.app.inject({
      method: 'PUT',
      url: `/api/recordings/${clipRid}/protect`,
      payload: { protected: true },
    });
    assert.equal(prot.statusCode, 200);
    assert.equal(prot.json().protected, true);
    assert.equal(prot.json().expiresAt, null);
    const path = join(h.media, prot.json().path);
    assert.ok(existsSync(join(path, '..', '.protected', path.split('/').pop() as string)), 'marker next to the file');
    const refused = await h.app.inject({ method: 'DELETE', url: `/api/recordings/${clipRid}` });
    assert.equal(refused.statusCode, 409);
    assert.equal(refused.json().code, 'protected');
    assert.equal(refused.json().problems[0].field, 'rid');
    assert.ok(existsSync(path));
    await h.app.inject({ method: 'PUT', url: `/api/recordings/${clipRid}/protect`, payload: { protected: false } });
    const gone = await h.app.inject({ method: 'DELETE', url: `/api/recordings/${clipRid}` });
    assert.equal(gone.statusCode, 204);
    assert.ok(!existsSync(path));
    assert.equal((await h.app.inject({ method: 'GET', url: `/api/recordings/${clipRid}` })).statusCode, 404);
    const deleted = h.events.find((e) => e.name === 'recording.deleted');
    assert.equal((deleted?.payload as { reason: string } | undefined)?.reason, 'user');
    // Protect on the vanished id: 404 naming the field.
    const vanished = await h.app.inject({
      method: 'PUT',
      url: `/api/recordings/${clipRid}/protect`,
      payload: { protected: true },
    });
    assert.equal(vanished.statusCode, 404);
    assert.equal(vanished.json().problems[0].field, 'rid');
  });

  it('bad input is a clear 4xx naming the field, and changes nothing', async () => {
    const snapshot = async () => JSON.stringify(await list(h, '?order=asc'));
    const before = await snapshot();
    const cases: [string, string, unknown, number, string][] = [
      ['GET', '/api/recordings/seg_0', undefined, 400, 'rid'],
      ['GET', '/api/recordings/..%2F..%2Fetc%2Fpasswd', undefined, 400, 'rid'],
      ['GET', '/api/recordings/seg_1%2F..', undefined, 400, 'rid'],
      ['GET', '/api/recordings/seg_99999/video', undefined, 404, 'rid'],
      ['GET', '/api/recordings?camera=..', undefined, 400, 'camera'],
      ['GET', '/api/recordings?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z', undefined, 400, 'from'],
      ['GET', '/api/recordings?from=yesterday', undefined, 400, 'from'],
      ['GET', '/api/recordings?limit=100000', undefined, 400, 'limit'],
      ['GET', '/api/recordings/expiring?within=10y', undefined, 400, 'within'],
      ['PUT', `/api/recordings/${segRid}/protect`, { protected: 'yes' }, 400, 'protected'],
      ['PUT', '/api/recordings/seg_424242/protect', { protected: true }, 404, 'rid'],
      ['DELETE', '/api/recordings/clip_..', undefined, 400, 'rid'],
      ['POST', '/api/cameras/cam/clips', { duration: -5 }, 400, 'duration'],
      ['POST', '/api/cameras/cam/clips', { duration: 1e9 }, 400, 'duration'],
      ['POST', '/api/cameras/cam/clips', { preRoll: 100000 }, 400, 'preRoll'],
      ['POST', '/api/cameras/cam/clips', { preRoll: 1.5 }, 400, 'preRoll'],
      ['POST', '/api/cameras/cam/clips', { path: '../../x' }, 400, 'path'],
      ['POST', '/api/cameras/nope/clips', {}, 404, 'id'],
      ['POST', '/api/cameras/dis/clips', {}, 409, 'id'],
      ['POST', '/api/cameras/dis/clips', undefined, 409, 'id'],
      ['POST', '/api/cameras/cam/clips/stop', undefined, 404, 'id'],
      ['GET', '/api/cameras/cam/export.mp4?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z', undefined, 400, 'from'],
      ['GET', '/api/cameras/cam/export.mp4?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:01Z', undefined, 400, 'to'],
      ['GET', '/api/cameras/cam/export.mp4?from=2026-01-01T00:00:00Z', undefined, 400, 'to'],
      ['GET', '/api/cameras/nope/export.mp4?from=2026-01-01T00:00:00Z&to=2026-01-01T01:00:00Z', undefined, 404, 'id'],
      ['GET', '/api/cameras/..%2Fetc/timeline?day=2026-01-01', undefined, 400, 'id'],
      ['GET', '/api/cameras/cam/timeline?day=2026-02-31', undefined, 400, 'day'],
      ['GET', '/api/cameras/cam/timeline?day=../../x', undefined, 400, 'day'],
    ];
    for (const [method, url, payload, status, field] of cases) {
      const res = await h.app.inject({
        method: method as 'GET',
        url,
        ...(payload === undefined ? {} : { payload: payload as object }),
      });
      assert.equal(
        res.statusCode,
        status,
        `${method} ${url} ${JSON.stringify(payload)} → ${res.statusCode} ${res.body}`,
      );
      const body = res.json() as { problems: { field: string }[] };
      assert.ok(
        body.problems.some((p) => p.field === field),
        `${method} ${url}: problems ${JSON.stringify(body.problems)} name ${field}`,
      );
    }
    assert.equal(await snapshot(), before);
  });

  it('the timeline shows recorded ranges, gaps and clips of a day', async () => {
    const seg = (await list(h, '?type=segment')).items[0] as RecordingView;
    const d = new Date(seg.start);
    const day = `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
    const res = await h.app.inject({ method: 'GET', url: `/api/cameras/cam/timeline?day=${day}` });
    assert.equal(res.statusCode, 200, res.body);
    const t = res.json();
    assert.equal(t.ranges.length, 1);
    assert.equal(t.ranges[0].start, seg.start);
    assert.ok(t.gaps.length >= 1);
    assert.ok(t.recordedSeconds >= 3);
  });

  it('the OpenAPI document is generated from the schemas', async () => {
    // Every route has a tag and a summary (the plugin registers no hidden route).
    const routes = h.app.printRoutes({ commonPrefix: false });
    assert.match(routes, /recordings/);
  });
});

describe('retention and the storage cap on real files', () => {
  it('deletes old recordings, never a protected one, and warns a day ahead once', async () => {
    await repairFragmentedMp4(closedSegment);
    const dir = mkdtempSync(join(root, 'ret-'));
    const media = join(dir, 'media');
    const now = Date.now();
    const old = now - 3 * DAY_MS;
    const oldSeg = `cam/${segName(old)}`;
    const oldProtectedSeg = `cam/${segName(old + 10_000)}`;
    const edgeSeg = `cam/${segName(now - 2 * DAY_MS + 3600_000)}`; // expires within the next day
    const youngSeg = `cam/${segName(now - 60_000)}`;
    const oldClip = `cam/clips/${clipFileName('cam', old, 'api')}`;
    const oldProtectedClip = `cam/clips/${clipFileName('cam', old + 1, 'api')}`;
    for (const rel of [oldSeg, oldProtectedSeg, edgeSeg, youngSeg]) put(media, rel, closedSegment);
    for (const rel of [oldClip, oldProtectedClip]) put(media, rel, clipFile);
    for (const rel of [oldProtectedSeg, oldProtectedClip]) {
      const parts = rel.split('/');
      const name = parts.pop() as string;
      mkdirSync(join(media, ...parts, '.protected'), { recursive: true });
      writeFileSync(join(media, ...parts, '.protected', name), '');
    }
    const clock = { now };
    const h = await harness(dir, [camera('cam', { retainDays: 2, clipRetainDays: 1 })], { clock });
    try {
      const remaining = (await list(h, '?order=asc')).items.map((r) => r.path);
      assert.deepEqual(remaining.sort(), [oldProtectedSeg, edgeSeg, youngSeg, oldProtectedClip].sort());
      for (const rel of [oldSeg, oldClip]) assert.ok(!existsSync(join(media, rel)), `${rel} deleted`);
      for (const rel of [oldProtectedSeg, oldProtectedClip]) assert.ok(existsSync(join(media, rel)), `${rel} kept`);
      const reasons = h.events
        .filter((e) => e.name === 'recording.deleted')
        .map((e) => (e.payload as { reason: string }).reason);
      assert.deepEqual(reasons, ['retention', 'retention']);
      // The edge segment expires within a day: listed, and announced once.
      const expiring = await h.app.inject({ method: 'GET', url: '/api/recordings/expiring?within=1d' });
      assert.deepEqual(
        expiring.json().items.map((i: { recording: RecordingView }) => i.recording.path),
        [edgeSeg],
      );
      const announced = () =>
        h.events.filter((e) => e.name === 'recording.expiring').map((e) => (e.payload as { path: string }).path);
      assert.deepEqual(announced(), [edgeSeg]);
      await h.service.cleanupNow();
      assert.deepEqual(announced(), [edgeSeg], 'once per recording');
      // A day later it goes.
      clock.now = now + DAY_MS;
      await h.service.cleanupNow();
      assert.ok(!existsSync(join(media, edgeSeg)));
      assert.ok(existsSync(join(media, oldProtectedSeg)) && existsSync(join(media, oldProtectedClip)));
    } finally {
      await h.close();
    }
  });

  it('the storage cap deletes the oldest unprotected recordings across cameras', async () => {
    await repairFragmentedMp4(closedSegment);
    const dir = mkdtempSync(join(root, 'cap-'));
    const media = join(dir, 'media');
    const size = statSync(closedSegment).size;
    const t0 = Date.now() - 3600_000;
    const rels = [
      `a/${segName(t0)}`,
      `b/${segName(t0 + 5000)}`,
      `a/${segName(t0 + 10_000)}`,
      `b/${segName(t0 + 15_000)}`,
      `a/${segName(t0 + 20_000)}`,
    ];
    for (const rel of rels) put(media, rel, closedSegment);
    mkdirSync(join(media, 'a/.protected'), { recursive: true });
    writeFileSync(join(media, 'a/.protected', rels[0]?.split('/')[1] as string), '');
    const h = await harness(dir, [camera('a'), camera('b')], { storageMaxBytes: Math.floor(size * 2.5) });
    try {
      const kept = (await list(h, '?order=asc')).items.map((r) => r.path);
      // Protected a0 stays (even though oldest); b1 and a2 go; a0 + b3 + a4 = 3 files > 2.5: the cap
      // cannot be met without the protected file, so the next oldest (b3) goes as well.
      assert.deepEqual(kept, [rels[0], rels[4]]);
      assert.ok(
        h.events
          .filter((e) => e.name === 'recording.deleted')
          .every((e) => (e.payload as { reason: string }).reason === 'storage'),
      );
    } finally {
      await h.close();
    }
  });
});

describe('a full media disk', () => {
  it('pauses recording below the reserve with the reason per recorded camera, and resumes at twice the reserve', async () => {
    const dir = mkdtempSync(join(root, 'full-'));
    const disk = { totalBytes: 1e9, freeBytes: 1e6 };
    const cams = [camera('a'), camera('b', { continuous: false })];
    const h = await harness(dir, cams, { diskUsage: async () => ({ ...disk }) });
    const changes: boolean[] = [];
    h.bus.on('recording.paused', (e) => changes.push(e.paused), 'test');
    try {
      await h.service.scanNow();
      assert.equal(h.service.recordingPaused(), true);
      assert.match(h.service.recordingError('a') ?? '', /media disk full: 1 MB free of 1000 MB/);
      assert.equal(h.service.recordingError('b'), null, 'a camera that is not recorded has nothing to report');
      // Reserve: 5 % of this 1 GB disk (50 MB, less than 64 MiB); resume only from 100 MB free.
      disk.freeBytes = 60e6;
      await h.service.scanNow();
      assert.equal(h.service.recordingPaused(), true, 'no flapping just above the reserve');
      disk.freeBytes = 101e6;
      await h.service.scanNow();
      assert.equal(h.service.recordingPaused(), false);
      assert.equal(h.service.recordingError('a'), null);
      assert.deepEqual(changes, [true, false]);
    } finally {
      await h.close();
    }
  });
});
