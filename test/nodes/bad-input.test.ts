/**
 * Malformed `msg` fields against every Camstack Node-RED node (issue #10), in Node-RED's runtime
 * against the REAL Camstack server, reached through the recording proxy: wrong types, 1 MB
 * strings, hostile camera ids, out-of-range numbers, unknown actions and prototype-pollution
 * payloads. Each one must end in a clear, short error that reaches Catch nodes (`done(err)` →
 * `node.error(err, msg)`) with a red status, with NO request to Camstack, Object.prototype left
 * alone, no crash, and the node still working for the valid message that follows. The config
 * node (`camstack-server`) takes no messages: its URL, token and admin route get the same.
 * test/nodes/nodes.test.ts has the first bad-field table; this is the exhaustive one.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, afterEach, before, describe, it } from 'node:test';
import { normalizeBaseUrl, normalizeToken } from '../../nodes/src/client.js';
import type { ClipInfo } from '../../nodes/src/nodes/record/index.js';
import type { StreamInfo } from '../../nodes/src/nodes/stream/index.js';
import { resolveCamera, resolveCameraFilter, resolveEventTypes } from '../../nodes/src/validate.js';
import { waitUntil } from '../helpers/processes.js';
import {
  CAMERA,
  type Camstack,
  caughtMessage,
  helper,
  jpegSize,
  type Loaded,
  loadNode,
  type Msg,
  NODE_MODULES,
  startCamstack,
  TOKEN,
} from './harness.js';

const MB = 1 << 20;
/** 1 MB of camera-id characters: only its length is wrong. */
const HUGE = 'a'.repeat(MB);
/** 1 MB of digits: a "number" far beyond any limit. */
const HUGE_DIGITS = '9'.repeat(MB);
/** As a JSON node or an HTTP-in node parses it: own `__proto__` and `constructor` keys. */
const POLLUTION =
  '{"__proto__":{"polluted":1,"camera":"../..","action":"pause"},"constructor":{"prototype":{"polluted":1}}}';
const pollution = (): Record<string, unknown> => JSON.parse(POLLUTION) as Record<string, unknown>;
/** A longest error text that still reads as one clear line in the debug sidebar. */
const MAX_ERROR_CHARS = 500;

/** Keys a successful pollution would put on every object. */
const WATCHED = ['polluted', 'camera', 'action', 'duration', 'preRoll', 'width', 'types', 'payload', 'options'];
function assertNotPolluted(when: string): void {
  for (const key of WATCHED) {
    assert.equal(Object.hasOwn(Object.prototype, key), false, `${when}: Object.prototype.${key} was set`);
  }
  assert.equal(({} as Record<string, unknown>).polluted, undefined, `${when}: {}.polluted`);
  assert.equal(Object.getPrototypeOf({}), Object.prototype);
}

/** A value, shortly, for an assertion message (1 MB strings, symbols and bigints included). */
function label(value: unknown): string {
  if (typeof value === 'string')
    return JSON.stringify(value.length > 30 ? `${value.slice(0, 30)}… (${value.length})` : value);
  if (Buffer.isBuffer(value)) return `Buffer(${value.length})`;
  if (typeof value === 'symbol' || typeof value === 'bigint' || typeof value === 'function') return String(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** Values of the wrong type for a field that wants a string (a camera id, an action). */
const NOT_STRINGS: [string, unknown][] = [
  ['a number', 42],
  ['zero', 0],
  ['NaN', Number.NaN],
  ['true', true],
  ['false', false],
  ['an object', { id: CAMERA }],
  ['an empty object', {}],
  ['an array', [CAMERA]],
  ['an empty array', []],
  ['a Buffer', Buffer.from(CAMERA)],
  ['a bigint', 7n],
  ['a symbol', Symbol(CAMERA)],
  ['a function', () => CAMERA],
  ['a Date', new Date()],
  ['a pollution payload', pollution()],
];

/** Camera ids that are not camera ids: paths, encodings, control bytes, shell, length. */
const HOSTILE_CAMERAS: [string, string][] = [
  ['..', '..'],
  ['../..', '../..'],
  ['a traversal to /etc/passwd', '../../../../etc/passwd'],
  ['a traversal inside', `${CAMERA}/../${CAMERA}`],
  ['%2e%2e', '%2e%2e'],
  ['%2e%2e%2f%2e%2e', '%2e%2e%2f%2e%2e'],
  ['%2F', `${CAMERA}%2Fsnapshot`],
  ['a NUL byte at the end', `${CAMERA}\u0000`],
  ['a NUL byte inside', 'por\u0000ch'],
  ['CR/LF inside (header injection)', `${CAMERA}\r\nX-Injected: 1`],
  ['LF inside', 'por\nch'],
  ['a semicolon', `${CAMERA};reboot`],
  ['$( )', '$(reboot)'],
  ['backticks', '`id`'],
  ['a pipe', `${CAMERA}|nc 1.2.3.4 80`],
  ['&&', `${CAMERA}&&id`],
  ['a redirect', `${CAMERA}>/tmp/x`],
  ['a glob', '*'],
  ['a query', `${CAMERA}?width=16`],
  ['a fragment', `${CAMERA}#x`],
  ['a URL', 'http://169.254.169.254/latest'],
  ['uppercase', CAMERA.toUpperCase()],
  ['a space inside', 'por ch'],
  ['a Greek omicron lookalike', 'p\u03bfrch'],
  ['a right-to-left override', `\u202e${CAMERA}`],
  ['a lone surrogate', `${CAMERA}\ud800`],
  ['65 characters', 'a'.repeat(65)],
  ['1 MB', HUGE],
];

/** Ids of the right form that name JavaScript's own properties: Camstack decides (404), nothing breaks. */
const OBJECT_KEY_IDS = ['__proto__', 'constructor', 'prototype', 'hasownproperty', 'tostring', 'valueof'];

/** Numbers a whole-seconds or pixels field must refuse, whatever its range. */
const NOT_WHOLE_NUMBERS: [string, unknown][] = [
  ['NaN', Number.NaN],
  ['Infinity', Number.POSITIVE_INFINITY],
  ['-Infinity', Number.NEGATIVE_INFINITY],
  ['1e308', 1e308],
  ['-1e308', -1e308],
  ['MAX_SAFE_INTEGER + 2', Number.MAX_SAFE_INTEGER + 2],
  ['MIN_VALUE', Number.MIN_VALUE],
  ['a float', 20.5],
  ['a float string', '20.5'],
  ['an exponent string', '2e1'],
  ['a hex string', '0x14'],
  ['"+20"', '+20'],
  ['"Infinity"', 'Infinity'],
  ['"NaN"', 'NaN'],
  ['a unit', '20s'],
  ['1 MB of digits', HUGE_DIGITS],
  ['1 MB of letters', HUGE],
  ['true', true],
  ['false', false],
  ['an array', [20]],
  ['an empty array', []],
  ['an object', {}],
  ['an object with valueOf', { valueOf: () => 20 }],
  ['a Buffer', Buffer.from('20')],
  ['a bigint', 20n],
  ['a pollution payload', pollution()],
];

/** Actions no node has, for msg.action (and, as text, msg.payload). */
const UNKNOWN_ACTIONS: [string, unknown][] = [
  ['an unknown word', 'pause'],
  ['__proto__', '__proto__'],
  ['constructor', 'constructor'],
  ['toString', 'toString'],
  ['hasOwnProperty', 'hasOwnProperty'],
  ['a shell command', 'stop; rm -rf /'],
  ['CR/LF inside', 'stop\r\nstart'],
  ['a NUL byte', 'stop\u0000'],
  ['1 MB', HUGE],
  ...NOT_STRINGS.map(([what, value]): [string, unknown] => [what, value]),
];

describe('Camstack Node-RED nodes: malformed msg fields (issue #10)', () => {
  let cs: Camstack;
  let seq = 0;
  const crashes: unknown[] = [];
  const onCrash = (err: unknown) => crashes.push(err);

  before(async () => {
    process.on('uncaughtException', onCrash);
    process.on('unhandledRejection', onCrash);
    helper.init(createRequire(import.meta.url).resolve('node-red'));
    cs = await startCamstack();
  });

  after(async () => {
    process.off('uncaughtException', onCrash);
    process.off('unhandledRejection', onCrash);
    await cs?.stop();
  });

  afterEach(async () => {
    await helper.unload();
    await waitUntil(() => cs.proxy.openRequests === 0, 5000, 'no request left open after close');
    assertNotPolluted('after the test');
    assert.deepEqual(crashes.map(String), [], 'no uncaught exception or unhandled rejection');
  });

  /**
   * Sends `msg` and expects the refusal: a Catch node gets an error matching `pattern` with the
   * message itself, the status turns red, nothing is sent on, and Camstack sees no request.
   */
  async function refused(l: Loaded, what: string, msg: Msg, pattern: RegExp, opts: { output?: boolean } = {}) {
    const tag = `bad-${++seq}`;
    msg.topic = tag;
    const sentOn = l.out.list.length;
    const shown = l.status.length;
    const requests = cs.proxy.requests.length;
    l.n1.receive(msg);
    const err = await l.caught.next(10_000, (m) => m.topic === tag);
    const text = caughtMessage(err);
    assert.match(text, pattern, what);
    assert.ok(text.length <= MAX_ERROR_CHARS, `${what}: a short message, got ${text.length} characters`);
    assert.doesNotMatch(text, /is not a function|Cannot read propert|undefined \(reading/, `${what}: ${text}`);
    assert.equal((err.error as { source?: { id?: string } }).source?.id, 'n1', `${what}: from the node`);
    assert.ok(
      l.status.slice(shown).some((st) => st.fill === 'red'),
      `${what}: a red status`,
    );
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(
      cs.proxy.requests.slice(requests).map((r) => `${r.method} ${r.path}`),
      [],
      `${what}: nothing sent to Camstack`,
    );
    if (opts.output !== false) {
      assert.deepEqual(l.out.list.slice(sentOn), [], `${what}: nothing sent on`);
    }
    assertNotPolluted(what);
  }

  /** No request so far had CR, LF, NUL, `..` or an encoding of them in its path. */
  function assertCleanPaths(): void {
    for (const r of cs.proxy.requests) {
      assert.doesNotMatch(r.path, /%0[0AD]|[\r\n\0]|\.\.|%2e|%2f|%5c/i, `request ${r.method} ${r.path}`);
      assert.doesNotMatch(r.body, /polluted/, `body of ${r.method} ${r.path}`);
    }
  }

  describe('camstack-snapshot', () => {
    it('refuses msg.camera of the wrong type, hostile or too long, then takes a snapshot', async () => {
      const l = await loadNode({ type: 'camstack-snapshot', camera: CAMERA }, cs.proxy.url);
      for (const [what, camera] of [...NOT_STRINGS, ...HOSTILE_CAMERAS]) {
        await refused(l, `camera ${what} ${label(camera)}`, { camera }, /msg\.camera must be a camera id \(/);
      }
      assert.match(l.status.at(-1)?.text ?? '', /invalid camera/);
      l.n1.receive({ topic: 'valid', width: 64 });
      const msg = await l.output(45_000);
      assert.equal(msg.topic, 'valid');
      assert.equal(jpegSize(msg.payload as Buffer).width, 64);
      assert.equal(l.status.at(-1)?.fill, 'green');
      assertCleanPaths();
    });

    it('refuses msg.width out of range, fractional, non-finite, 1 MB or not a number', async () => {
      const l = await loadNode({ type: 'camstack-snapshot', camera: CAMERA }, cs.proxy.url);
      const cases: [string, unknown][] = [
        ['negative', -16],
        ['zero', 0],
        ['below the minimum', 15],
        ['above the maximum', 3841],
        ['-0.5 as text', '-0.5'],
        ...NOT_WHOLE_NUMBERS,
      ];
      for (const [what, width] of cases) {
        await refused(l, `width ${what} ${label(width)}`, { width }, /msg\.width must be a (whole )?number of pixels/);
      }
      assert.match(l.status.at(-1)?.text ?? '', /invalid width/);
      l.n1.receive({ topic: 'valid', width: ' 32 ' });
      assert.equal(jpegSize((await l.output(45_000)).payload as Buffer).width, 32);
      assertCleanPaths();
    });

    it('ignores what it does not read: pollution payloads in msg.payload, msg.options and msg itself', async () => {
      const l = await loadNode({ type: 'camstack-snapshot', camera: CAMERA, save: 'media' }, cs.proxy.url);
      // A msg with own __proto__/constructor keys, as JSON.parse makes it: they are data, not a prototype.
      const msg = pollution();
      msg.payload = pollution();
      msg.options = pollution();
      msg.topic = 'polluted';
      const before = cs.proxy.requests.length;
      l.n1.receive(msg);
      const sent = await l.output(45_000);
      assert.ok(Buffer.isBuffer(sent.payload));
      assert.equal(sent.camera, CAMERA, 'the node camera, not the "camera" inside __proto__');
      assertNotPolluted('snapshot of a polluted msg');
      const seen = cs.proxy.requests.slice(before);
      assert.deepEqual(
        seen.map((r) => `${r.method} ${r.path.replace(/\?.*/, '')}`),
        [`POST /api/cameras/${CAMERA}/snapshot`, `GET /api/cameras/${CAMERA}/snapshot.jpg`],
      );
      assert.deepEqual(JSON.parse(seen[0]?.body ?? ''), { trigger: 'node-red' }, 'only what the node itself sends');
      assertCleanPaths();
    });
  });

  describe('camstack-record', () => {
    it('refuses msg.camera of the wrong type or hostile, msg.action/payload that are no action', async () => {
      const l = await loadNode({ type: 'camstack-record', camera: CAMERA, action: 'stop' }, cs.proxy.url);
      for (const [what, camera] of [...NOT_STRINGS, ...HOSTILE_CAMERAS]) {
        await refused(l, `camera ${what} ${label(camera)}`, { camera }, /msg\.camera must be a camera id \(/);
      }
      for (const [what, action] of UNKNOWN_ACTIONS) {
        await refused(
          l,
          `action ${what} ${label(action)}`,
          { action },
          /msg\.action must be one of "clip", "start", "stop", got /,
        );
      }
      for (const [what, payload] of UNKNOWN_ACTIONS.filter(([, v]) => typeof v === 'string')) {
        await refused(
          l,
          `payload ${what} ${label(payload)}`,
          { payload },
          /msg\.payload must be one of "clip", "start", "stop", got /,
        );
      }
      assert.match(l.status.at(-1)?.text ?? '', /invalid action/);
      assertCleanPaths();
    });

    it('refuses msg.duration and msg.preRoll out of range, fractional, non-finite or not numbers', async () => {
      const l = await loadNode({ type: 'camstack-record', camera: CAMERA, action: 'clip' }, cs.proxy.url);
      const durations: [string, unknown][] = [
        ['negative', -1],
        ['zero', 0],
        ['above an hour', 3601],
        ['a day', 86_400],
        ...NOT_WHOLE_NUMBERS,
      ];
      for (const [what, duration] of durations) {
        await refused(
          l,
          `duration ${what} ${label(duration)}`,
          { duration },
          /msg\.duration must be a (whole )?number of seconds/,
        );
      }
      const preRolls: [string, unknown][] = [['negative', -1], ['above five minutes', 301], ...NOT_WHOLE_NUMBERS];
      for (const [what, preRoll] of preRolls) {
        await refused(l, `preRoll ${what} ${label(preRoll)}`, { preRoll }, /msg\.preRoll must be a (whole )?number/);
      }
      // One bad field among good ones is enough to send nothing.
      await refused(
        l,
        'a good camera and action, a bad duration',
        { camera: CAMERA, action: 'clip', duration: -1 },
        /duration/,
      );
      assert.match(l.status.at(-1)?.text ?? '', /invalid preRoll|invalid duration/);
      assertCleanPaths();
    });

    it('keeps pollution payloads out of the request, and still records a clip afterwards', async () => {
      const l = await loadNode({ type: 'camstack-record', camera: CAMERA, action: 'clip' }, cs.proxy.url);
      await refused(
        l,
        'msg.duration as a pollution payload',
        { duration: pollution() },
        /msg\.duration must be a number/,
      );
      const msg = pollution();
      msg.payload = pollution(); // an object payload is not an action: the node's own (clip) it is
      msg.options = pollution();
      msg.duration = '2';
      msg.preRoll = 0;
      msg.trigger = 'evil'; // not a field of this node: Camstack's trigger stays node-red
      msg.topic = 'valid';
      const before = cs.proxy.requests.length;
      l.n1.receive(msg);
      const saved = await l.output(120_000);
      const clip = saved.payload as ClipInfo;
      assert.equal(saved.topic, 'valid');
      assert.equal(clip.camera, CAMERA);
      assert.equal(clip.trigger, 'node-red');
      const post = cs.proxy.requests.slice(before).find((r) => r.method === 'POST');
      assert.equal(post?.path, `/api/cameras/${CAMERA}/clips`);
      assert.deepEqual(JSON.parse(post?.body ?? ''), { preRoll: 0, duration: 2, trigger: 'node-red' });
      assertNotPolluted('after a clip of a polluted msg');
      assertCleanPaths();
    });
  });

  describe('camstack-stream', () => {
    it('refuses hostile cameras and unknown actions; non-string payloads are no action', async () => {
      const l = await loadNode({ type: 'camstack-stream', camera: CAMERA, action: 'status' }, cs.proxy.url);
      for (const [what, camera] of [...NOT_STRINGS, ...HOSTILE_CAMERAS]) {
        await refused(l, `camera ${what} ${label(camera)}`, { camera }, /msg\.camera must be a camera id \(/);
      }
      for (const [what, action] of UNKNOWN_ACTIONS) {
        await refused(
          l,
          `action ${what} ${label(action)}`,
          { action },
          /msg\.action must be one of "start", "stop", "status", got /,
        );
      }
      await refused(l, 'payload "go"', { payload: 'go' }, /msg\.payload must be one of "start", "stop", "status"/);
      // An inject's timestamp, a Buffer or an object in msg.payload: the node's own action (status).
      const requests = cs.proxy.requests.length;
      for (const [what, payload] of NOT_STRINGS.filter(([, v]) => typeof v !== 'string')) {
        l.n1.receive({ topic: `payload-${what}`, payload });
        const msg = await l.output(5000, (m) => m.topic === `payload-${what}`);
        assert.equal((msg.payload as StreamInfo).state, 'stopped', what);
        assert.equal(msg.camera, CAMERA);
      }
      assert.equal(cs.proxy.requests.length, requests, 'status asks Camstack nothing');
      assertNotPolluted('stream status of polluted payloads');
    });

    it('still holds a stream for a valid msg after the bad ones, and stops it', async () => {
      const l = await loadNode({ type: 'camstack-stream', camera: CAMERA }, cs.proxy.url);
      await refused(l, 'camera ../..', { camera: '../..' }, /msg\.camera/);
      await refused(l, 'action 1 MB', { action: HUGE }, /msg\.action/);
      l.n1.receive({ topic: 'valid', payload: pollution(), options: pollution() }); // object payload: start
      const warm = await l.output(45_000);
      assert.equal((warm.payload as StreamInfo).state, 'warm');
      l.n1.receive({ topic: 'stop', payload: 'stop' });
      assert.equal(((await l.output(10_000)).payload as StreamInfo).state, 'stopped');
      assertCleanPaths();
    });
  });

  describe('camstack-events', () => {
    it('refuses bad camera filters, unknown types and actions, keeping its subscription', async () => {
      const l = await loadNode({ type: 'camstack-events', camera: CAMERA, types: ['camera.status'] }, cs.proxy.url);
      await waitUntil(() => l.status.some((s) => s.fill === 'green'), 15_000, 'subscribed');
      const cameraCases: [string, unknown][] = [
        ...NOT_STRINGS.filter(([, v]) => !Array.isArray(v) || v.some((x) => typeof x !== 'string')),
        ['an array with a number', [CAMERA, 42]],
        ['an array with null', [CAMERA, null]],
        ['a nested array', [[CAMERA]]],
        ['an array with a Buffer', [Buffer.from(CAMERA)]],
        ['an array with a pollution payload', [pollution()]],
        ...HOSTILE_CAMERAS.filter(([, v]) => !v.includes(',')),
        ['a hostile id in a list', `${CAMERA},../..`],
        ['a hostile id in an array', [CAMERA, '%2e%2e']],
        ['65 cameras', Array.from({ length: 65 }, (_, i) => `cam_${i}`)],
        ['100 000 cameras as 1 MB of text', Array.from({ length: 100_000 }, (_, i) => `c${i}`).join(',')],
      ];
      for (const [what, camera] of cameraCases) {
        await refused(l, `camera ${what} ${label(camera)}`, { camera }, /msg\.camera/, { output: false });
      }
      const typeCases: [string, unknown][] = [
        ['an unknown type', 'motion'],
        ['an unknown type in an array', ['camera.status', 'motion']],
        ['__proto__', '__proto__'],
        ['constructor', ['constructor']],
        ['toString', 'toString'],
        ['a number', 42],
        ['true', true],
        ['an object', {}],
        ['a Buffer', Buffer.from('camera.status')],
        ['a pollution payload', pollution()],
        ['an array with a number', ['camera.status', 42]],
        ['an array with null', ['camera.status', null]],
        ['CR/LF inside', 'camera.status\r\nX-Injected: 1'],
        ['1 MB of one unknown type', HUGE],
        ['1 MB of many unknown types', 'x,'.repeat(MB / 2)],
        ['1000 distinct unknown types', Array.from({ length: 1000 }, (_, i) => `type_${i}`)],
      ];
      for (const [what, types] of typeCases) {
        await refused(l, `types ${what} ${label(types)}`, { types }, /msg\.types/, { output: false });
      }
      for (const [what, action] of UNKNOWN_ACTIONS) {
        await refused(
          l,
          `action ${what} ${label(action)}`,
          { action },
          /msg\.action must be one of "start", "stop", got /,
          { output: false },
        );
      }
      assert.equal(cs.proxy.openRequests, 1, 'the subscription it had is still open');
      // Valid again: the same camera twice is one camera.
      const subs = cs.proxy.seen('/api/events').length;
      l.n1.receive({ camera: Array(100).fill(CAMERA), types: 'camera.status, snapshot.saved', payload: pollution() });
      await waitUntil(() => cs.proxy.seen('/api/events').length > subs, 10_000, 'resubscribed');
      const path = decodeURIComponent(cs.proxy.seen('/api/events').at(-1)?.path ?? '');
      assert.match(path, new RegExp(`camera=${CAMERA}(&|$)`));
      assert.match(path, /types=camera\.status,snapshot\.saved/);
      await waitUntil(() => l.status.at(-1)?.fill === 'green', 10_000, 'connected again');
      assertCleanPaths();
    });
  });

  describe('ids of the right form that are JavaScript object keys', () => {
    it('go to Camstack encoded as they are, and come back as "no camera" errors', async () => {
      for (const type of ['camstack-snapshot', 'camstack-record', 'camstack-stream']) {
        const l = await loadNode({ type, camera: CAMERA }, cs.proxy.url);
        for (const id of OBJECT_KEY_IDS) {
          const before = cs.proxy.requests.length;
          l.n1.receive({ camera: id, topic: id });
          const err = await l.caught.next(30_000, (m) => m.topic === id);
          assert.match(caughtMessage(err), new RegExp(`no camera (with id )?"${id}"`), `${type} ${id}`);
          const paths = cs.proxy.requests.slice(before).map((r) => r.path);
          assert.ok(paths.length >= 1 && paths.every((p) => p.startsWith(`/api/cameras/${id}/`)), paths.join(' '));
          assertNotPolluted(`${type} ${id}`);
        }
        assert.equal(l.out.list.length, 0);
        await helper.unload();
      }
    });
  });

  describe('camstack-server (config node)', () => {
    it('a URL that is not text or not an http URL: a clear error on use, no request, no secret echoed', async () => {
      const cases: [string, unknown, RegExp][] = [
        ['a number', 8098, /Camstack URL must be text/],
        ['true', true, /Camstack URL must be text/],
        ['an object', { host: '127.0.0.1' }, /Camstack URL must be text/],
        ['an array', [cs.proxy.url], /Camstack URL must be text/],
        ['javascript:', 'javascript:alert(1)', /must start with http:\/\/ or https:\/\//],
        ['file:', 'file:///etc/passwd', /must start with http:\/\/ or https:\/\//],
        ['ftp with a password', 'ftp://user:secret@127.0.0.1/', /not in the Camstack URL/],
        ['http with a password', `http://user:secret@127.0.0.1:${cs.proxy.port}`, /not in the Camstack URL/],
        ['not a URL', 'camstack here', /is not a URL/],
        ['1 MB', HUGE, /is not a URL/],
      ];
      for (const [what, baseUrl, pattern] of cases) {
        const before = cs.proxy.requests.length;
        await helper.load(
          NODE_MODULES,
          [
            { id: 'f1', type: 'tab', label: 'bad url' },
            { id: 's1', type: 'camstack-server', baseUrl },
            { id: 'n1', type: 'camstack-snapshot', z: 'f1', x: 100, y: 100, server: 's1', camera: CAMERA, wires: [] },
            { id: 'catch', type: 'catch', z: 'f1', x: 100, y: 200, scope: null, wires: [['caught']] },
            { id: 'caught', type: 'helper', z: 'f1', x: 300, y: 200 },
          ],
          { s1: { token: TOKEN } },
        );
        const caught: Msg[] = [];
        helper.getNode('caught')?.on('input', (m: Msg) => caught.push(m));
        helper.getNode('n1')?.receive({ topic: what });
        await waitUntil(() => caught.length > 0, 10_000, `${what}: an error to Catch`);
        const text = caughtMessage(caught[0] as Msg);
        assert.match(text, pattern, `${what}: ${text.slice(0, 200)}`);
        assert.ok(text.length <= MAX_ERROR_CHARS, `${what}: a short message, got ${text.length} characters`);
        assert.doesNotMatch(text, /secret/, `${what}: the password is not repeated`);
        assert.equal(cs.proxy.requests.length, before, `${what}: nothing sent`);
        await helper.unload();
      }
    });

    it('a token Camstack could never accept is refused without repeating it, and nothing is sent', async () => {
      const tokens: [string, string][] = [
        ['CR/LF inside (header injection)', 'secret-token-0123\r\nX-Injected: 1'],
        ['a NUL byte', 'secret-token\u00000123'],
        ['a space inside', 'secret token 0123456'],
        ['non-ASCII', 'secret-tökèn-0123456'],
        ['an emoji', 'secret-token-\u{1f4a3}-0123'],
      ];
      for (const [what, token] of tokens) {
        const before = cs.proxy.requests.length;
        const l = await loadNode({ type: 'camstack-snapshot', camera: CAMERA }, cs.proxy.url, token);
        l.n1.receive({ topic: what });
        const text = caughtMessage(await l.caught.next(10_000));
        assert.match(text, /token/, `${what}: ${text}`);
        assert.doesNotMatch(text, /secret|X-Injected/, `${what}: the token is not repeated: ${text}`);
        assert.equal(l.status.at(-1)?.fill, 'red');
        assert.equal(cs.proxy.requests.length, before, `${what}: nothing sent`);
        await helper.unload();
      }
      // Surrounding whitespace (a pasted line) is not part of the token.
      const l = await loadNode({ type: 'camstack-snapshot', camera: CAMERA }, cs.proxy.url, ` ${TOKEN}\r\n`);
      l.n1.receive({ width: 32 });
      assert.equal(jpegSize((await l.output(45_000)).payload as Buffer).width, 32);
      assert.equal(cs.proxy.requests.at(-1)?.authorization, `Bearer ${TOKEN}`);
    });

    it('the admin route: hostile server ids and URLs get a 4xx and send nothing', async () => {
      await loadNode({ type: 'camstack-snapshot', camera: CAMERA }, cs.proxy.url);
      const before = cs.proxy.requests.length;
      for (const id of ['__proto__', 'constructor', 'prototype', '..%2f..%2fflows', '%00', 'x'.repeat(2000)]) {
        const res = await helper.request().get(`/camstack/${id}/cameras`);
        assert.ok(res.status === 409 || res.status === 404, `${id.slice(0, 20)}: ${res.status}`);
      }
      const urls: [string, RegExp][] = [
        ['javascript:alert(1)', /http:\/\/ or https:\/\//],
        ['file:///etc/passwd', /http:\/\/ or https:\/\//],
        ['ftp://user:secret@127.0.0.1/', /not in the Camstack URL/],
        [`http://user:secret@127.0.0.1:${cs.proxy.port}`, /not in the Camstack URL/],
        ['not a url', /is not a URL/],
        ['x'.repeat(4000), /is not a URL/],
      ];
      for (const [url, pattern] of urls) {
        const res = await helper
          .request()
          .get('/camstack/n0t_deployed/cameras')
          .query({ url })
          .set('X-Camstack-Token', TOKEN);
        assert.equal(res.status, 400, url.slice(0, 40));
        const body = JSON.stringify(res.body);
        assert.match(body, pattern, url.slice(0, 40));
        assert.doesNotMatch(body, /secret/);
        assert.ok(body.length <= MAX_ERROR_CHARS, `${url.slice(0, 20)}: a short answer, got ${body.length}`);
      }
      const badToken = await helper
        .request()
        .get('/camstack/n0t_deployed/cameras')
        .query({ url: cs.proxy.url })
        .set('X-Camstack-Token', 'secret-tökèn-0123456');
      assert.equal(badToken.status, 400);
      assert.doesNotMatch(JSON.stringify(badToken.body), /secret/);
      assert.equal(cs.proxy.requests.length, before, 'nothing sent to Camstack');
      assertNotPolluted('admin route');
      // Still answers for the deployed node.
      const ok = await helper.request().get('/camstack/s1/cameras');
      assert.equal(ok.status, 200);
    });
  });
});

describe('edge checks of the config node and the events filter, without Node-RED', () => {
  it('normalizes the token, refusing what no header could carry, without repeating it', () => {
    assert.equal(normalizeToken(undefined), '');
    assert.equal(normalizeToken(` ${TOKEN}\r\n`), TOKEN);
    for (const bad of [
      'se cret-token',
      'secret\r\nX: 1',
      'secret\u0000',
      'sécret',
      'secret\u{1f4a3}',
      42,
      {},
      ['secret'],
    ]) {
      assert.throws(
        () => normalizeToken(bad),
        (err: unknown) => err instanceof Error && /token/.test(err.message) && !/secret/.test(err.message),
        label(bad),
      );
    }
  });

  it('refuses a URL with a password before anything else, and quotes a bad URL cut short', () => {
    for (const url of ['ftp://user:secret@host', 'javascript://user:secret@x/', 'http://user:secret@host:8098']) {
      assert.throws(() => normalizeBaseUrl(url), /token field, not in the Camstack URL/);
    }
    assert.throws(
      () => normalizeBaseUrl(HUGE),
      (err: unknown) => err instanceof Error && /is not a URL/.test(err.message) && err.message.length < 200,
    );
  });

  it('names a few unknown event types, and counts the same camera once', () => {
    assert.throws(
      () => resolveEventTypes('x,'.repeat(MB / 2)),
      (err: unknown) => err instanceof Error && /unknown event type "x" \(known: /.test(err.message),
    );
    assert.throws(() => resolveEventTypes(['a', 'b', 'c', 'd', 'e']), /"a", "b", "c" and 2 more \(known: /);
    assert.deepEqual(resolveCameraFilter(Array(100).fill(CAMERA)), [CAMERA]);
    assert.throws(
      () => resolveCameraFilter(Array.from({ length: 65 }, (_, i) => `c${i}`)),
      /at most 64 cameras, got 65/,
    );
    assert.throws(
      () => resolveCamera(undefined, 42 as unknown as string),
      /the node's camera 42 is not a valid camera id/,
    );
  });
});
