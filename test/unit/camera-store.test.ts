import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { toCameraView } from '../../server/src/cameras/api-schemas.js';
import { CameraStore } from '../../server/src/cameras/store.js';
import { toEventSettings } from '../../server/src/config/events-config.js';
import { type Camera, type Config, loadConfig } from '../../server/src/config/load.js';
import { DEFAULT_MOTION_CONFIG } from '../../server/src/config/motion.js';
import { DomainError } from '../../server/src/domain-errors.js';
import { EventBus } from '../../server/src/events/bus.js';
import { type ApiError, fromDomainError } from '../../server/src/http/errors.js';
import { SecretRedactor } from '../../server/src/log/redact.js';

const tmpRoot = mkdtempSync(join(tmpdir(), 'camstack-store-'));
after(() => rmSync(tmpRoot, { recursive: true, force: true }));

interface Fixture {
  dir: string;
  optionsPath: string;
  camerasPath: string;
  config: Config;
  bus: EventBus;
  redactor: SecretRedactor;
  store: CameraStore;
}

interface FixtureOptions {
  optionsCameras?: Record<string, unknown>[];
  fileCameras?: Record<string, unknown>[];
  maxCameras?: number;
  /** Where the store writes (default: the cameras file loadConfig read). */
  writeTo?: (dir: string) => string;
}

function reload(f: Pick<Fixture, 'optionsPath'>): Config {
  return loadConfig({ optionsPath: f.optionsPath, env: {} });
}

function fixture(opts: FixtureOptions = {}): Fixture {
  const dir = mkdtempSync(join(tmpRoot, 'case-'));
  const optionsPath = join(dir, 'options.json');
  const camerasPath = join(dir, 'cameras.yaml');
  writeFileSync(
    optionsPath,
    JSON.stringify({
      cameras_file: camerasPath,
      cameras: opts.optionsCameras ?? [],
      ...(opts.maxCameras === undefined ? {} : { max_cameras: opts.maxCameras }),
    }),
  );
  writeFileSync(camerasPath, `${JSON.stringify({ cameras: opts.fileCameras ?? [] })}\n`);
  const config = reload({ optionsPath });
  const bus = new EventBus();
  const redactor = new SecretRedactor();
  const store = new CameraStore({
    cameras: config.cameras,
    camerasFile: opts.writeTo ? opts.writeTo(dir) : config.camerasFile,
    maxCameras: config.maxCameras,
    allowTestSources: false,
    bus,
    redactor,
  });
  return { dir, optionsPath, camerasPath, config, bus, redactor, store };
}

/** Every bus event about cameras, in order. */
function record(bus: EventBus): string[] {
  const events: string[] = [];
  bus.on('camera.added', (e) => events.push(`added ${e.camera.id}`), 'test');
  bus.on('camera.updated', (e) => events.push(`updated ${e.camera.id}`), 'test');
  bus.on('camera.removed', (e) => events.push(`removed ${e.camera.id}`), 'test');
  return events;
}

/** The store's error as the API answers it (the store throws DomainErrors; http/ maps them). */
async function apiError(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof DomainError, `expected a DomainError, got ${String(err)}`);
    return fromDomainError(err);
  }
  assert.fail('expected a DomainError');
}

function fields(err: ApiError): string[] {
  return err.problems.map((p) => p.field);
}

const FRONT = { id: 'front', name: 'Front door', source: 'rtsp://front.local/stream' };
const GARAGE_OPTION = { id: 'garage', name: 'Garage', source: 'rtsp://garage.local/s', password: 'option-secret' };

describe('CameraStore: add, update, remove persist and survive a reload', () => {
  it('adds a camera with defaults filled in and writes it to the cameras file', async () => {
    const f = fixture();
    const camera = await f.store.add({ ...FRONT, recording: { retainDays: 3 } });
    assert.deepEqual(camera, {
      id: 'front',
      name: 'Front door',
      source: 'rtsp://front.local/stream',
      substream: null,
      username: null,
      password: null,
      enabled: true,
      sourceType: 'rtsp',
      origin: 'file',
      recording: { continuous: false, retainDays: 3, clipRetainDays: 30, preRollSeconds: 0, clipSeconds: 20 },
      events: toEventSettings(undefined),
      onvif: null,
      motion: DEFAULT_MOTION_CONFIG,
    });
    assert.deepEqual(f.store.list(), [camera]);
    assert.deepEqual(reload(f).cameras, [camera]);
  });

  it('events settings: a partial update keeps the other fields, survives a reload; a bad type changes nothing', async () => {
    const f = fixture({ fileCameras: [{ ...FRONT, events: { post_roll_seconds: 20 } }] });
    const changed = await f.store.update('front', { events: { record: ['person'], notify: ['person'] } });
    assert.deepEqual(changed.events, {
      ...toEventSettings(undefined),
      record: ['person'],
      notify: ['person'],
      postRollSeconds: 20,
    });
    assert.deepEqual(reload(f).cameras[0]?.events, changed.events);
    await assert.rejects(
      f.store.update('front', { events: { record: ['smoke'] } } as never),
      (err: Error & { problems?: { field: string }[] }) =>
        err.problems?.some((p) => p.field.startsWith('events.record')) === true,
    );
    await assert.rejects(
      f.store.update('front', { events: { postRollSeconds: 0 } }),
      (err: Error & { problems?: { field: string }[] }) => err.problems?.[0]?.field === 'events.postRollSeconds',
    );
    assert.deepEqual(reload(f).cameras[0]?.events, changed.events, 'nothing changed');
  });

  it('updates as a partial merge: omitted fields keep their value, null clears', async () => {
    const f = fixture({
      fileCameras: [
        {
          ...FRONT,
          substream: 'rtsp://front.local/sub',
          username: 'admin',
          password: 'hunter22',
          enabled: false,
          recording: { continuous: true, retain_days: 9 },
        },
      ],
    });
    const renamed = await f.store.update('front', { name: 'Porch', recording: { clipSeconds: 40 } });
    assert.equal(renamed.id, 'front', 'renaming keeps the id');
    assert.equal(renamed.name, 'Porch');
    assert.equal(renamed.substream, 'rtsp://front.local/sub');
    assert.equal(renamed.username, 'admin');
    assert.equal(renamed.password, 'hunter22', 'an omitted password is kept');
    assert.equal(renamed.enabled, false);
    assert.deepEqual(renamed.recording, {
      continuous: true,
      retainDays: 9,
      clipRetainDays: 30,
      preRollSeconds: 0,
      clipSeconds: 40,
    });
    assert.deepEqual(reload(f).cameras, [renamed]);

    const cleared = await f.store.update('front', { password: null, substream: null, enabled: true });
    assert.equal(cleared.password, null);
    assert.equal(cleared.username, 'admin');
    assert.equal(cleared.substream, null);
    assert.equal(cleared.enabled, true);
    assert.deepEqual(reload(f).cameras, [cleared]);
  });

  it('removes a camera from the file', async () => {
    const f = fixture({ fileCameras: [FRONT, { ...FRONT, id: 'back', name: 'Back' }] });
    const removed = await f.store.remove('front');
    assert.equal(removed.id, 'front');
    assert.deepEqual(
      f.store.list().map((c) => c.id),
      ['back'],
    );
    assert.deepEqual(
      reload(f).cameras.map((c) => c.id),
      ['back'],
    );
  });

  it('keeps options cameras out of the file and file cameras in their order', async () => {
    const f = fixture({ optionsCameras: [GARAGE_OPTION], fileCameras: [FRONT] });
    await f.store.add({ id: 'yard', name: 'Yard', source: 'rtsp://yard.local/s' });
    const text = readFileSync(f.camerasPath, 'utf8');
    assert.doesNotMatch(text, /garage|option-secret/);
    assert.deepEqual(
      reload(f).cameras.map((c) => `${c.origin}:${c.id}`),
      ['options:garage', 'file:front', 'file:yard'],
    );
  });

  it('a no-op update writes nothing and emits nothing', async () => {
    const f = fixture({ fileCameras: [FRONT] });
    const events = record(f.bus);
    const before = readFileSync(f.camerasPath, 'utf8');
    await f.store.update('front', { name: 'Front door' });
    assert.equal(readFileSync(f.camerasPath, 'utf8'), before);
    assert.deepEqual(events, []);
  });
});

describe('CameraStore: credentials', () => {
  it('splits credentials out of the source URL and stores them apart', async () => {
    const f = fixture();
    const camera = await f.store.add({ ...FRONT, source: 'rtsp://admin:p%40ss%3Aw0rd@front.local:554/stream' });
    assert.equal(camera.source, 'rtsp://front.local:554/stream');
    assert.equal(camera.username, 'admin');
    assert.equal(camera.password, 'p@ss:w0rd');
    const text = readFileSync(f.camerasPath, 'utf8');
    assert.match(text, /source: rtsp:\/\/front\.local:554\/stream\n/);
    assert.deepEqual(reload(f).cameras, [camera]);
  });

  it('credentials in a new URL replace the stored ones; explicit ones must agree', async () => {
    const f = fixture({ fileCameras: [{ ...FRONT, username: 'old', password: 'old-secret' }] });
    const changed = await f.store.update('front', { source: 'rtsp://new:new-secret@front.local/other' });
    assert.equal(changed.source, 'rtsp://front.local/other');
    assert.equal(changed.username, 'new');
    assert.equal(changed.password, 'new-secret');

    const userOnly = await f.store.update('front', { source: 'rtsp://someone@front.local/other' });
    assert.equal(userOnly.username, 'someone');
    assert.equal(userOnly.password, 'new-secret', 'a URL without a password keeps the stored password');

    const conflict = await apiError(
      f.store.update('front', { source: 'rtsp://a:b-secret@front.local/x', password: 'c-secret' }),
    );
    assert.equal(conflict.statusCode, 400);
    assert.deepEqual(fields(conflict), ['password']);
    assert.deepEqual(f.store.get('front'), userOnly);
  });

  it('never puts the username or password into a view, and registers new passwords with the redactor', async () => {
    const f = fixture({ optionsCameras: [GARAGE_OPTION] });
    await f.store.add({ ...FRONT, username: 'viewer-user', password: 'first-secret' });
    await f.store.update('front', { password: 'second-secret' });
    await f.store.add({
      id: 'side',
      name: 'Side',
      source: 'http://side.local/snap.jpg?user=side-user&pwd=third-secret',
    });
    const views = JSON.stringify(f.store.list().map(toCameraView));
    for (const secret of [
      'viewer-user',
      'first-secret',
      'second-secret',
      'side-user',
      'third-secret',
      'option-secret',
    ]) {
      assert.ok(!views.includes(secret), `${secret} leaked into a view`);
    }
    assert.match(views, /"hasCredentials":true/);
    for (const secret of ['first-secret', 'second-secret']) {
      assert.equal(f.redactor.redact(`failed with ${secret}`), 'failed with ***');
    }
  });
});

describe('CameraStore: validation', () => {
  it('rejects an invalid camera with every problem named by its API field, changing nothing', async () => {
    const f = fixture({ fileCameras: [FRONT] });
    const events = record(f.bus);
    const before = readFileSync(f.camerasPath, 'utf8');
    const err = await apiError(
      f.store.add({
        id: 'Bad Id',
        name: '  ',
        source: 'rtsp://h/x;rm -rf /',
        substream: 'ftp://h/x',
        recording: { retainDays: 0, preRollSeconds: 61 },
      }),
    );
    assert.equal(err.statusCode, 400);
    assert.equal(err.code, 'validation_failed');
    assert.deepEqual([...new Set(fields(err))].sort(), [
      'id',
      'name',
      'recording.preRollSeconds',
      'recording.retainDays',
      'source',
      'substream',
    ]);
    assert.match(err.message, /recording\.retainDays must be an integer from 1 to 3650 \(got 0\)/);
    assert.equal(readFileSync(f.camerasPath, 'utf8'), before);
    assert.equal(f.store.list().length, 1);
    assert.deepEqual(events, []);
  });

  it('rejects unknown fields from JavaScript callers too', async () => {
    const f = fixture();
    const input = { ...FRONT, colour: 'red', recording: { retain: 3 } };
    const err = await apiError(f.store.add(input as unknown as Parameters<CameraStore['add']>[0]));
    assert.deepEqual(fields(err), ['colour', 'recording.retain']);
    assert.match(err.problems[0]?.message ?? '', /unknown field "colour"/);
  });

  it('refuses to change the id (400 naming id) and 404s an unknown camera', async () => {
    const f = fixture({ fileCameras: [FRONT] });
    const err = await apiError(f.store.update('front', { id: 'back', name: 'Back' }));
    assert.equal(err.statusCode, 400);
    assert.deepEqual(fields(err), ['id']);
    assert.equal(f.store.get('front')?.name, 'Front door');
    assert.equal((await f.store.update('front', { id: 'front', name: 'Same id' })).name, 'Same id');

    assert.equal((await apiError(f.store.update('nope', { name: 'x' }))).statusCode, 404);
    assert.equal((await apiError(f.store.remove('nope'))).statusCode, 404);
  });

  it('keeps the stored URL when given back the redacted URL the API showed', async () => {
    const f = fixture();
    const secretUrl = 'http://cam.local/cgi-bin/snap.cgi?user=admin&password=zz-secret&channel=1';
    await f.store.add({ ...FRONT, source: secretUrl });
    const shown = toCameraView(f.store.get('front') as Camera).source;
    assert.equal(shown, 'http://cam.local/cgi-bin/snap.cgi?user=***&password=***&channel=1');
    const updated = await f.store.update('front', { source: shown, name: 'Renamed' });
    assert.equal(updated.source, secretUrl);
    assert.equal(updated.name, 'Renamed');
  });
});

describe('CameraStore: options cameras, duplicates, max_cameras', () => {
  it('options cameras are read-only (409 telling where to edit them)', async () => {
    const f = fixture({ optionsCameras: [GARAGE_OPTION] });
    for (const attempt of [f.store.update('garage', { name: 'x' }), f.store.remove('garage')]) {
      const err = await apiError(attempt);
      assert.equal(err.statusCode, 409);
      assert.equal(err.code, 'read_only');
      assert.match(err.message, /add-on configuration/);
    }
    assert.deepEqual(f.store.list(), f.config.cameras);
  });

  it('a duplicate id is a 409, also against an options camera', async () => {
    const f = fixture({ optionsCameras: [GARAGE_OPTION], fileCameras: [FRONT] });
    for (const id of ['garage', 'front']) {
      const err = await apiError(f.store.add({ ...FRONT, id }));
      assert.equal(err.statusCode, 409);
      assert.equal(err.code, 'duplicate_id');
      assert.deepEqual(fields(err), ['id']);
    }
  });

  it('stops at max_cameras (options and file together)', async () => {
    const f = fixture({ optionsCameras: [GARAGE_OPTION], maxCameras: 2 });
    await f.store.add(FRONT);
    const err = await apiError(f.store.add({ ...FRONT, id: 'third' }));
    assert.equal(err.statusCode, 409);
    assert.equal(err.code, 'max_cameras');
    assert.equal(err.message, 'at most 2 cameras (max_cameras); remove one first');
    await f.store.remove('front');
    await f.store.add({ ...FRONT, id: 'third' });
  });
});

describe('CameraStore: concurrency', () => {
  it('concurrent adds of the same id: one wins, the other is a 409', async () => {
    const f = fixture();
    const results = await Promise.allSettled([
      f.store.add({ ...FRONT, name: 'First' }),
      f.store.add({ ...FRONT, name: 'Second' }),
    ]);
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    const rejected = results.find((r) => r.status === 'rejected');
    assert.ok(rejected?.status === 'rejected' && rejected.reason instanceof DomainError);
    assert.equal(fromDomainError(rejected.reason).statusCode, 409);
    assert.deepEqual(reload(f).cameras, f.store.list());
  });

  it('concurrent changes are all kept (no lost update)', async () => {
    const f = fixture({ fileCameras: [FRONT] });
    const ids = Array.from({ length: 8 }, (_, i) => `cam_${i}`);
    await Promise.all([
      ...ids.map((id) => f.store.add({ id, name: id, source: `rtsp://${id}.local/s` })),
      f.store.update('front', { name: 'Renamed' }),
      f.store.update('front', { enabled: false }),
    ]);
    const reloaded = reload(f).cameras;
    assert.deepEqual(reloaded, f.store.list());
    assert.deepEqual(
      reloaded.map((c) => c.id),
      ['front', ...ids],
    );
    assert.equal(reloaded[0]?.name, 'Renamed');
    assert.equal(reloaded[0]?.enabled, false);
  });
});

describe('CameraStore: events', () => {
  it('emits each event after the change is on disk', async () => {
    const f = fixture({ fileCameras: [FRONT] });
    const seen: string[] = [];
    const onDisk = () =>
      reload(f)
        .cameras.map((c) => `${c.id}=${c.name}`)
        .join(',');
    f.bus.on('camera.added', (e) => seen.push(`added ${e.camera.id}: ${onDisk()}`), 'test');
    f.bus.on('camera.updated', (e) => seen.push(`updated ${e.previous.name}→${e.camera.name}: ${onDisk()}`), 'test');
    f.bus.on('camera.removed', (e) => seen.push(`removed ${e.camera.id}: ${onDisk()}`), 'test');
    await f.store.add({ id: 'back', name: 'Back', source: 'rtsp://back.local/s' });
    await f.store.update('back', { name: 'Rear' });
    await f.store.remove('front');
    assert.deepEqual(seen, [
      'added back: front=Front door,back=Back',
      'updated Back→Rear: front=Front door,back=Rear',
      'removed front: back=Rear',
    ]);
  });

  it('a listener that throws changes nothing', async () => {
    const f = fixture();
    f.bus.on(
      'camera.added',
      () => {
        throw new Error('listener bug');
      },
      'test',
    );
    await f.store.add(FRONT);
    assert.equal(f.store.list().length, 1);
  });
});

describe('CameraStore: a failed write changes nothing', () => {
  /** Run add, update and remove against a store whose writes fail; check memory, disk and events. */
  async function expectNothingChanges(f: Fixture, onDisk: () => unknown): Promise<void> {
    const events = record(f.bus);
    const memory = f.store.list();
    const disk = onDisk();
    for (const attempt of [
      () => f.store.add({ id: 'new_cam', name: 'New', source: 'rtsp://new.local/s', password: 'new-secret' }),
      () => f.store.update('front', { name: 'Renamed' }),
      () => f.store.remove('front'),
    ]) {
      const err = await apiError(attempt());
      assert.equal(err.statusCode, 500);
      assert.equal(err.code, 'write_failed');
      assert.match(err.message, /nothing was changed/);
      assert.deepEqual(f.store.list(), memory);
      assert.deepEqual(onDisk(), disk);
    }
    assert.deepEqual(events, []);
    // The store still works afterwards (the queue is not stuck).
    assert.equal(f.store.get('front')?.name, 'Front door');
  }

  it('when the cameras file path is a directory', async () => {
    const f = fixture({
      fileCameras: [FRONT],
      writeTo: (dir) => {
        const target = join(dir, 'as-dir.yaml');
        mkdirSync(target);
        writeFileSync(join(target, 'keep'), 'x');
        return target;
      },
    });
    await expectNothingChanges(f, () => ({
      dir: readdirSync(f.dir).sort(),
      inside: readdirSync(join(f.dir, 'as-dir.yaml')),
    }));
  });

  it('when the cameras file directory cannot be created (a file is in the way)', async () => {
    const f = fixture({
      fileCameras: [FRONT],
      writeTo: (dir) => {
        writeFileSync(join(dir, 'blocker'), 'not a directory');
        return join(dir, 'blocker', 'cameras.yaml');
      },
    });
    await expectNothingChanges(f, () => ({
      dir: readdirSync(f.dir).sort(),
      blocker: readFileSync(join(f.dir, 'blocker'), 'utf8'),
    }));
  });

  it('when the directory is read-only: the existing file keeps its bytes', async (t) => {
    const f = fixture({ fileCameras: [FRONT] });
    const isRoot = process.getuid?.() === 0;
    // root ignores permission bits; the immutable attribute stops root too, where supported.
    const lock = isRoot ? () => execFileSync('chattr', ['+i', f.dir]) : () => chmodSync(f.dir, 0o555);
    const unlock = isRoot ? () => execFileSync('chattr', ['-i', f.dir]) : () => chmodSync(f.dir, 0o755);
    try {
      lock();
    } catch {
      t.skip('cannot make a directory read-only for root here (no chattr +i)');
      return;
    }
    try {
      await expectNothingChanges(f, () => ({
        dir: readdirSync(f.dir).sort(),
        bytes: readFileSync(f.camerasPath, 'utf8'),
      }));
    } finally {
      unlock();
    }
    assert.deepEqual(reload(f).cameras, f.config.cameras);
  });
});
