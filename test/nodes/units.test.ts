/**
 * Pure parts of the Node-RED package: message validation, the SSE parser, backoff, and the facts
 * it shares with the server (limits and event types from the contract, the add-on's hostname).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { normalizeBaseUrl } from '../../nodes/src/client.js';
import {
  ADDON_REPOSITORY_URL,
  addonHostname,
  DEFAULT_BASE_URL,
  EVENT_TYPES,
  MAX_CLIP_SECONDS,
  MAX_PRE_ROLL_SECONDS,
  MAX_SNAPSHOT_WIDTH,
  MIN_SNAPSHOT_WIDTH,
} from '../../nodes/src/constants.js';
import { SseParser } from '../../nodes/src/event-stream.js';
import { eventCamera, eventLinks } from '../../nodes/src/nodes/events/index.js';
import { snapshotFileName } from '../../nodes/src/nodes/snapshot/index.js';
import { backoffDelay } from '../../nodes/src/signals.js';
import {
  RECORD_ACTIONS,
  resolveAction,
  resolveCamera,
  resolveCameraFilter,
  resolveClipRequest,
  resolveEventTypes,
  resolveWidth,
  ValidationError,
} from '../../nodes/src/validate.js';
import { STREAMED_EVENTS } from '../../server/src/events/routes.js';

const root = new URL('../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');

function throwsField(fn: () => unknown, field: string, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ValidationError, `a ValidationError, got ${String(err)}`);
    assert.equal(err.field, field);
    assert.match(err.message, pattern);
    return true;
  });
}

describe('message validation', () => {
  it('takes msg.camera over the node camera and rejects what is not a camera id', () => {
    assert.equal(resolveCamera('porch', 'garden'), 'porch');
    assert.equal(resolveCamera(undefined, 'garden'), 'garden');
    assert.equal(resolveCamera('', 'garden'), 'garden');
    throwsField(() => resolveCamera('Front Door', 'garden'), 'camera', /msg\.camera must be a camera id.*"Front Door"/);
    throwsField(() => resolveCamera('../etc', undefined), 'camera', /camera id/);
    throwsField(() => resolveCamera(42, undefined), 'camera', /got 42/);
    throwsField(() => resolveCamera('x'.repeat(65), undefined), 'camera', /1 to 64/);
    throwsField(() => resolveCamera(undefined, ''), 'camera', /no camera: choose one in the node or set msg\.camera/);
  });

  it('reads the action from msg.action, else a string payload, else the node', () => {
    assert.equal(resolveAction('stop', 'clip', 'clip', RECORD_ACTIONS), 'stop');
    assert.equal(resolveAction(undefined, 'START', 'clip', RECORD_ACTIONS), 'start');
    assert.equal(resolveAction(undefined, 1_700_000_000_000, 'clip', RECORD_ACTIONS), 'clip');
    assert.equal(resolveAction(undefined, { any: 1 }, 'start', RECORD_ACTIONS), 'start');
    throwsField(
      () => resolveAction('pause', undefined, 'clip', RECORD_ACTIONS),
      'action',
      /msg\.action must be one of "clip", "start", "stop", got "pause"/,
    );
    throwsField(
      () => resolveAction(undefined, 'record please', 'clip', RECORD_ACTIONS),
      'action',
      /msg\.payload must be one of/,
    );
  });

  it('accepts pre-roll and duration within Camstack limits only', () => {
    assert.deepEqual(resolveClipRequest({ preRoll: 5, duration: '20' }, {}), { preRoll: 5, duration: 20 });
    assert.deepEqual(resolveClipRequest({}, { preRoll: '', duration: '10' }), { duration: 10 });
    assert.deepEqual(resolveClipRequest({ duration: 7 }, { duration: '10' }), { duration: 7 });
    assert.deepEqual(resolveClipRequest({}, {}), {});
    throwsField(() => resolveClipRequest({ duration: -5 }, {}), 'duration', /from 1 to 3600, got -5/);
    throwsField(() => resolveClipRequest({ duration: 0 }, {}), 'duration', /from 1 to 3600/);
    throwsField(() => resolveClipRequest({ duration: 86_400 }, {}), 'duration', /got 86400/);
    throwsField(() => resolveClipRequest({ duration: 2.5 }, {}), 'duration', /whole number/);
    throwsField(() => resolveClipRequest({ duration: 'ten' }, {}), 'duration', /number of seconds, got "ten"/);
    throwsField(() => resolveClipRequest({ duration: Number.NaN }, {}), 'duration', /got NaN/);
    throwsField(() => resolveClipRequest({ preRoll: 301 }, {}), 'preRoll', /from 0 to 300/);
    throwsField(() => resolveClipRequest({ preRoll: -1 }, {}), 'preRoll', /from 0 to 300/);
  });

  it('accepts a snapshot width from 16 to 3840 pixels', () => {
    assert.equal(resolveWidth(undefined, ''), undefined);
    assert.equal(resolveWidth(640, ''), 640);
    assert.equal(resolveWidth(undefined, '320'), 320);
    throwsField(() => resolveWidth(8, ''), 'width', /from 16 to 3840/);
    throwsField(() => resolveWidth(10_000, ''), 'width', /from 16 to 3840/);
    throwsField(() => resolveWidth(Buffer.alloc(3), ''), 'width', /a Buffer of 3 bytes/);
  });

  it('parses event filters: camera lists and known event types', () => {
    assert.deepEqual(resolveCameraFilter(''), []);
    assert.deepEqual(resolveCameraFilter('a, b,a'), ['a', 'b']);
    assert.deepEqual(resolveCameraFilter(['porch']), ['porch']);
    throwsField(() => resolveCameraFilter('Porch'), 'camera', /not a camera id/);
    throwsField(() => resolveCameraFilter({ id: 1 }), 'camera', /string or an array of strings/);
    assert.deepEqual(resolveEventTypes('camera.status,snapshot.saved'), ['camera.status', 'snapshot.saved']);
    assert.deepEqual(resolveEventTypes([]), []);
    throwsField(() => resolveEventTypes(['camera.status', 'motion']), 'types', /unknown event type "motion"/);
  });
});

describe('camera events in the events node', () => {
  it('carry the picture of the moment and the clip as URLs of the server; nothing for other events', () => {
    const url = (p: string) => `http://camstack:8098${p}`;
    assert.deepEqual(
      eventLinks('camera.event', { pictureUrl: '/api/camera-events/evt_3/picture.jpg', clipId: 'clip_9' }, url),
      {
        picture: 'http://camstack:8098/api/camera-events/evt_3/picture.jpg',
        clip: 'http://camstack:8098/api/recordings/clip_9/video',
      },
    );
    assert.deepEqual(eventLinks('camera.event', { pictureUrl: null, clipId: null }, url), {});
    assert.deepEqual(eventLinks('camera.event', { pictureUrl: 'http://evil/x', clipId: '../x' }, url), {});
    assert.deepEqual(eventLinks('clip.saved', { pictureUrl: '/api/x' }, url), {});
  });
});

describe('what the nodes share with the server', () => {
  it('takes the limits and event types from the contract, and the bus has the same event names', () => {
    // The values are the contract's own (re-exported, inlined by the build); the bus and the
    // stream are tied to the contract at compile time (events/bus.ts).
    assert.equal(MAX_PRE_ROLL_SECONDS, 300);
    assert.equal(MAX_CLIP_SECONDS, 3600);
    assert.equal(MIN_SNAPSHOT_WIDTH, 16);
    assert.equal(MAX_SNAPSHOT_WIDTH, 3840);
    assert.deepEqual([...STREAMED_EVENTS], [...EVENT_TYPES]);
  });

  it('defaults to the add-on direct API by its Supervisor hostname', () => {
    const config = read('addon/config.yaml');
    assert.equal(/^url: (.+)$/m.exec(config)?.[1], ADDON_REPOSITORY_URL, 'the repository users add');
    assert.match(config, /^slug: camstack$/m);
    assert.match(config, /^ {2}8098\/tcp:/m, 'the direct API port');
    // supervisor/store/utils.py: sha1 of the lowercased repository URL, first 8 hex digits.
    const hash = createHash('sha1').update(ADDON_REPOSITORY_URL.toLowerCase()).digest('hex').slice(0, 8);
    assert.equal(DEFAULT_BASE_URL, `http://${hash}-camstack:8098`);
    assert.equal(addonHostname('https://github.com/Someone/My_Addons', 'my_addon').endsWith('-my-addon'), true);
  });
});

describe('plumbing', () => {
  it('parses Server-Sent Events across chunk boundaries, CRLF and comments', () => {
    const p = new SseParser();
    assert.deepEqual(p.push('retry: 3000\n\n: ping\n\nid: 1\nevent: camera.status\nda'), []);
    assert.deepEqual(p.push('ta: {"id":"a"}\r\n\r'), []);
    assert.deepEqual(p.push('\nid: 2\ndata: line1\ndata: line2\n\n'), [
      { event: 'camera.status', data: '{"id":"a"}', id: '1' },
      { event: 'message', data: 'line1\nline2', id: '2' },
    ]);
  });

  it('backs off 1, 2, 4 … seconds up to the cap, with jitter', () => {
    const mid = () => 0.5;
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 7].map((n) => backoffDelay(n, 1000, 30_000, mid)),
      [1000, 2000, 4000, 8000, 16_000, 30_000, 30_000],
    );
    assert.equal(
      backoffDelay(1, 1000, 30_000, () => 0),
      800,
    );
    assert.equal(
      backoffDelay(1, 1000, 30_000, () => 1),
      1200,
    );
  });

  it('normalises the server URL and refuses credentials in it', () => {
    assert.equal(normalizeBaseUrl(' http://local-camstack:8098/ '), 'http://local-camstack:8098');
    assert.equal(normalizeBaseUrl('https://cams.example/camstack/'), 'https://cams.example/camstack');
    assert.throws(() => normalizeBaseUrl('local-camstack:8098'), /http:\/\/ or https:\/\//);
    assert.throws(() => normalizeBaseUrl('not a url'), /not a URL/);
    assert.throws(() => normalizeBaseUrl('http://user:pw@host:8098'), /token field/);
  });

  it('names saved snapshots like Camstack does and finds the camera of an event', () => {
    assert.equal(snapshotFileName('porch', new Date(2026, 0, 2, 3, 4, 5, 6)), 'porch_20260102-030405-006.jpg');
    assert.equal(eventCamera({ camera: 'porch', path: 'x' }), 'porch');
    assert.equal(eventCamera({ camera: { id: 'porch', name: 'Porch' } }), 'porch');
    assert.equal(eventCamera({ id: 'porch', state: 'streaming' }), 'porch');
    assert.equal(eventCamera({ name: 'go2rtc', state: 'running' }), null);
  });
});
