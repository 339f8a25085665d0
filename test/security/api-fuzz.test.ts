/**
 * Property-based fuzzing of the HTTP API, driven by the OpenAPI document the server serves
 * (`GET /api/openapi.json`): for every operation, fast-check generates path parameters, query
 * strings and bodies — from the schemas, and pure junk (wrong types, huge strings, deep nesting,
 * `__proto__`/`constructor` keys, bytes that are not UTF-8, wrong content types, oversized
 * bodies) — against the real server with real engines and a synthetic camera.
 *
 * Every answer must be below 500; every rejection must be in the one error shape; a rejected
 * request must change nothing (Camstack's cameras and recordings, go2rtc's streams, MediaMTX's
 * paths); the server must stay healthy. State-changing operations are only sent requests that
 * are invalid by construction (checked with Ajv against the operation's own schema), so each of
 * them must be rejected. Streams that hold their connection (mjpeg, stream.mp4, events) get no
 * body, only hostile path parameters and queries.
 *
 * Reproduce a failure with CAMSTACK_FUZZ_SEED=<seed printed> (and CAMSTACK_FUZZ_RUNS=<n>).
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { Ajv } from 'ajv';
import ajvFormats from 'ajv-formats';
import fc from 'fast-check';
import { SyntheticCameraServer } from '../../scripts/synthetic-cameras.js';
import { freePorts } from '../helpers/ports.js';
import { type ServerProcess, startServerProcess } from '../helpers/server-process.js';
import {
  assertErrorShape,
  call,
  fillPath,
  isStreaming,
  type JsonSchema,
  type Operation,
  openApiOperations,
  type Parameter,
  type Res,
  type StateSnapshot,
  stateSnapshot,
} from './support.js';

const SEED = Number(process.env.CAMSTACK_FUZZ_SEED ?? Date.now() % 2 ** 31);
const RUNS = Number(process.env.CAMSTACK_FUZZ_RUNS ?? 30);
const CAMERA = 'front';
const BODY_LIMIT = 64 * 1024;
const SAFE = new Set(['GET', 'HEAD']);

const ajv = new Ajv({ strict: false, allErrors: false, validateFormats: true });
ajvFormats.default(ajv);
const validators = new Map<JsonSchema, (v: unknown) => boolean>();
function valid(schema: JsonSchema, value: unknown): boolean {
  let fn = validators.get(schema);
  if (!fn) {
    const compiled = ajv.compile(schema);
    fn = (v) => compiled(v) as boolean;
    validators.set(schema, fn);
  }
  return fn(value);
}

/** Percent-encodes every byte of the UTF-8 form except unreserved characters (lone surrogates too). */
function pct(text: string): string {
  let out = '';
  for (const b of Buffer.from(text, 'utf8')) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9_.~-]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Path segments written as they go on the wire (already encoded where needed). */
const HOSTILE_SEGMENTS = [
  '..',
  '.',
  '%2e%2e',
  '%2E%2E%2F',
  '..%2f..%2f..%2fetc%2fpasswd',
  '%2Fetc%2Fpasswd',
  '%00',
  `${CAMERA}%00`,
  `${CAMERA}%00.jpg`,
  '%ff%fe',
  '%c0%ae%c0%ae',
  '%',
  '%zz',
  '__proto__',
  'constructor',
  'prototype',
  'hasOwnProperty',
  'FRONT',
  `${CAMERA}%20`,
  '%E2%80%AE',
  'seg_0',
  'clip_-1',
  'seg_1e3',
  'seg_99999999999999999999',
  `${'a'.repeat(65)}`,
  'x'.repeat(4000),
];

/** Text that stands for any scalar in a query string or a path. */
const junkText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc.string({ unit: 'grapheme', maxLength: 30 }),
  fc.constantFrom('', ' ', 'null', 'undefined', 'NaN', '-1', '1e309', '0x10', 'true', '[]', '{}', '\u0000', '\r\n'),
  fc.integer({ min: 1, max: 20_000 }).map((n) => 'A'.repeat(n)),
);

function schemaValue(schema: JsonSchema): fc.Arbitrary<string> {
  if (schema.enum) return fc.constantFrom(...schema.enum.map(String));
  if (schema.type === 'boolean') return fc.constantFrom('true', 'false');
  if (schema.type === 'integer' || schema.type === 'number') {
    return fc.integer({ min: (schema.minimum ?? -1000) - 5, max: (schema.maximum ?? 1_000_000) + 5 }).map(String);
  }
  if (schema.format === 'date-time') {
    return fc
      .date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true })
      .map((d) => d.toISOString());
  }
  if (typeof schema.pattern === 'string') return fc.stringMatching(new RegExp(schema.pattern));
  return fc.string({ maxLength: 40 });
}

/** A path parameter, encoded for the wire. */
function pathValue(param: Parameter, op: Operation): fc.Arbitrary<string> {
  const own = schemaValue(param.schema).map(pct);
  const hostile = fc.oneof(
    fc.constantFrom(...HOSTILE_SEGMENTS),
    junkText.map(pct),
    fc.string({ unit: 'binary', maxLength: 40 }).map((s) => pct(`../${s}`)),
  );
  const arb = fc.oneof(own, hostile, ...(param.name === 'id' ? [fc.constant(CAMERA)] : []));
  // A state-changing call without a body (DELETE, clips/stop, restarts) must not name a thing that
  // exists: a schema-valid enum value (an engine) or the camera would be a real, accepted call.
  if (!SAFE.has(op.method) && !op.body) {
    return arb.filter((v) => {
      let decoded: string;
      try {
        decoded = decodeURIComponent(v);
      } catch {
        return true;
      }
      if (param.schema.enum) return !valid(param.schema, decoded);
      return decoded !== CAMERA;
    });
  }
  return arb;
}

/** A query string: the operation's parameters (valid or junk), unknown keys, duplicates, pollution. */
function queryArb(op: Operation): fc.Arbitrary<string> {
  const params = op.params.filter((p) => p.in === 'query');
  const pairs = params.map((p) =>
    fc.option(
      fc.oneof(
        schemaValue(p.schema).map((v) => [[p.name, pct(v)]]),
        junkText.map((v) => [[p.name, pct(v)]]),
        fc.tuple(schemaValue(p.schema), junkText).map(([a, b]) => [
          [p.name, pct(a)],
          [p.name, pct(b)],
        ]),
      ),
      { nil: [] as string[][] },
    ),
  );
  const extra = fc.option(
    fc.constantFrom(
      [['__proto__[polluted]', '1']],
      [['constructor[prototype][polluted]', '1']],
      [['__proto__', 'x']],
      [['unknown', 'x']],
      [['a'.repeat(5000), '1']],
      [['%ff', '%fe']],
    ),
    { nil: [] as string[][] },
  );
  return fc.tuple(fc.tuple(...pairs), extra).map(([ps, ex]) => {
    const all = [...ps.flat(), ...ex];
    return all.length === 0 ? '' : `?${all.map(([k, v]) => `${k}=${v}`).join('&')}`;
  });
}

interface BodyCase {
  contentType: string | null;
  body: string | Buffer;
  label: string;
}

/** Values of the wrong type (or out of range) for a schema; junk for anything else. */
function wrongValue(schema: JsonSchema): fc.Arbitrary<unknown> {
  return fc.oneof(
    fc.constantFrom(null, true, 0, -1, 1e308, '', 'x'.repeat(70_000), [], {}, [1, 2], { a: 1 }),
    fc.jsonValue({ maxDepth: 3 }),
    ...(typeof schema.maximum === 'number' ? [fc.constant(schema.maximum + 1)] : []),
    ...(typeof schema.minimum === 'number' ? [fc.constant(schema.minimum - 1), fc.constant(schema.minimum + 0.5)] : []),
    ...(typeof schema.maxLength === 'number' ? [fc.constant('y'.repeat(schema.maxLength + 1))] : []),
  );
}

/** A valid-looking object for a schema with exactly one field broken (or one key too many). */
function mutatedObject(schema: JsonSchema): fc.Arbitrary<unknown> {
  const object = schema.anyOf?.find((s) => s.type === 'object') ?? schema;
  const props = object.properties ?? {};
  const keys = Object.keys(props);
  const base: Record<string, unknown> = { id: 'fuzz_cam', name: 'Fuzz', source: 'rtsp://127.0.0.1:9/fuzz' };
  const filled = Object.fromEntries(keys.filter((k) => k in base).map((k) => [k, base[k]]));
  const breakOne =
    keys.length === 0
      ? fc.constant(filled)
      : fc.constantFrom(...keys).chain((k) => wrongValue(props[k] ?? {}).map((v) => ({ ...filled, [k]: v })));
  const extraKey = fc
    .oneof(fc.constantFrom('unknown', 'isAdmin', 'password_hash', '__defineGetter__'), fc.string({ maxLength: 20 }))
    .filter((k) => !keys.includes(k))
    .map((k) => ({ ...filled, [k]: 1 }));
  return fc.oneof(breakOne, extraKey);
}

function deepArray(depth: number): string {
  return `${'['.repeat(depth)}${']'.repeat(depth)}`;
}

function deepObject(depth: number): string {
  return `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

/** Raw bodies that no JSON route may accept. */
const RAW_JUNK: BodyCase[] = [
  { contentType: 'application/json', body: '{"__proto__":{"polluted":true}}', label: '__proto__ key' },
  {
    contentType: 'application/json',
    body: '{"constructor":{"prototype":{"polluted":true}}}',
    label: 'constructor.prototype key',
  },
  {
    contentType: 'application/json',
    body: '{"id":"p","name":"P","source":"rtsp://127.0.0.1:9/p","__proto__":{"enabled":false}}',
    label: 'valid camera plus __proto__',
  },
  { contentType: 'application/json', body: deepArray(30_000), label: 'arrays nested 30000 deep' },
  { contentType: 'application/json', body: deepObject(10_000), label: 'objects nested 10000 deep' },
  {
    contentType: 'application/json',
    body: Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]),
    label: 'not UTF-8',
  },
  { contentType: 'application/json', body: Buffer.from([0xc0, 0xae, 0x00, 0x80]), label: 'binary' },
  { contentType: 'application/json', body: '', label: 'empty JSON' },
  { contentType: 'application/json', body: '{"name":', label: 'truncated JSON' },
  { contentType: 'application/json', body: '\ufeff{"unknown":1}', label: 'BOM and an unknown key' },
  { contentType: 'application/json', body: `{"name":"${'z'.repeat(BODY_LIMIT)}"}`, label: 'over the body limit' },
  { contentType: 'application/json', body: 'NaN', label: 'NaN' },
  { contentType: 'application/json; charset=latin1', body: '{"x":1}', label: 'latin1 charset' },
  { contentType: 'text/plain', body: '{"id":"t","name":"T","source":"rtsp://127.0.0.1:9/t"}', label: 'text/plain' },
  { contentType: 'application/x-www-form-urlencoded', body: 'id=t&name=T&source=rtsp%3A%2F%2Fx', label: 'form' },
  { contentType: 'multipart/form-data; boundary=x', body: '--x\r\n\r\n--x--', label: 'multipart' },
  { contentType: 'application/xml', body: '<camera id="t"/>', label: 'xml' },
  { contentType: null, body: '{"id":"t"}', label: 'no Content-Type' },
];

function bodyArb(op: Operation): fc.Arbitrary<BodyCase> {
  const spec = op.body;
  if (!spec) return fc.constant({ contentType: null, body: '', label: 'none' });
  if (!spec.contentType.includes('json')) {
    // WHEP: an SDP offer as text. Anything not an offer, in the right type or not.
    return fc.oneof(
      fc
        .string({ unit: 'binary', maxLength: 200 })
        .map((s) => ({ contentType: spec.contentType, body: s, label: 'junk SDP' })),
      fc.constantFrom<BodyCase>(
        { contentType: spec.contentType, body: 'v=0\r\n', label: 'short SDP' },
        { contentType: spec.contentType, body: 'x'.repeat(BODY_LIMIT + 1), label: 'oversized SDP' },
        {
          contentType: spec.contentType,
          body: Buffer.from([0xff, 0xfe, 0xfd, 0, 1, 2, 3, 4, 5, 6, 7]),
          label: 'binary SDP',
        },
        { contentType: 'application/json', body: '{"type":"offer","sdp":"v=0"}', label: 'JSON to WHEP' },
        { contentType: 'text/plain', body: 'v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\n', label: 'text/plain SDP' },
      ),
    );
  }
  const invalidJson = fc
    .oneof(mutatedObject(spec.schema), fc.jsonValue({ maxDepth: 4 }), fc.anything({ maxDepth: 2 }))
    .filter((v) => {
      const text = JSON.stringify(v);
      return text !== undefined && !valid(spec.schema, JSON.parse(text));
    })
    .map((v): BodyCase => ({ contentType: 'application/json', body: JSON.stringify(v), label: 'schema-invalid JSON' }));
  return fc.oneof({ weight: 3, arbitrary: invalidJson }, { weight: 2, arbitrary: fc.constantFrom(...RAW_JUNK) });
}

interface FuzzRequest {
  path: string;
  body: BodyCase;
}

function requestArb(op: Operation): fc.Arbitrary<FuzzRequest> {
  const pathParams = op.params.filter((p) => p.in === 'path');
  const values = fc.tuple(...pathParams.map((p) => pathValue(p, op)));
  const streaming = isStreaming(op);
  const query = queryArb(op);
  const body = streaming ? fc.constant<BodyCase>({ contentType: null, body: '', label: 'none' }) : bodyArb(op);
  return fc.tuple(values, query, body).map(([vals, q, b]) => ({
    path: fillPath(op.path, Object.fromEntries(pathParams.map((p, i) => [p.name, vals[i] ?? '']))) + q,
    body: b,
  }));
}

/** Long runs of one character (huge generated strings) shortened for the failure message. */
function squeeze(text: string): string {
  return text.replace(/(.)\1{63,}/gs, (run, c: string) => `${c.repeat(8)}…(${run.length}×)`).slice(0, 8000);
}

type CallOptionsLike = Parameters<typeof call>[2] & object;

function jsonBody(body: string): CallOptionsLike {
  return { method: 'POST', headers: { 'content-type': 'application/json' }, body };
}

describe('fuzzing every operation of the served OpenAPI document', () => {
  let sim: SyntheticCameraServer;
  let sp: ServerProcess;
  let ops: Operation[];
  let baseline: StateSnapshot;
  const seen = new Map<string, Map<number, number>>();

  before(async () => {
    const [rtspPort, apiPort] = (await freePorts(2)) as [number, number];
    sim = new SyntheticCameraServer({ rtspPort, apiPort });
    await sim.start();
    await sim.addCamera({ name: CAMERA, width: 320, height: 240, fps: 10, audio: false });
    sp = await startServerProcess({ env: { CAMSTACK_STATUS_POLL_MS: '500' } });
    const created = await call(sp.baseUrl, '/api/cameras', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: CAMERA, name: 'Front', source: sim.url(CAMERA) }),
    });
    assert.equal(created.status, 201, created.body);
    ops = await openApiOperations(sp.baseUrl);
    // Let the engines take the camera before the baseline is read.
    await new Promise((r) => setTimeout(r, 1500));
    baseline = await stateSnapshot(sp.baseUrl, sp.enginePorts);
    assert.ok(Object.keys(baseline.go2rtcStreams).includes(CAMERA), JSON.stringify(baseline.go2rtcStreams));
  });

  after(async () => {
    if (process.env.CAMSTACK_TEST_DUMP) await writeFile(process.env.CAMSTACK_TEST_DUMP, sp?.output() ?? '');
    await sp?.cleanup();
    await sim?.stop();
  });

  it('the document lists the operations to fuzz', (t) => {
    t.diagnostic(`seed ${SEED}, ${RUNS} runs per operation, ${ops.length} operations`);
    assert.ok(ops.length >= 20, `${ops.length} operations`);
    for (const path of ['/api/cameras', '/api/cameras/{id}', '/api/recordings/{rid}', '/api/events']) {
      assert.ok(
        ops.some((o) => o.path === path),
        `${path} is in the document`,
      );
    }
  });

  it('every operation: no 5xx, one error shape, no state change on a rejected request', async (t) => {
    let index = 0;
    for (const op of ops) {
      const name = `${op.method} ${op.path}`;
      const counts = new Map<number, number>();
      seen.set(name, counts);
      const check = async (req: FuzzRequest) => {
        const headers: Record<string, string> = {};
        if (req.body.contentType) headers['content-type'] = req.body.contentType;
        const hasBody = op.body !== null && !isStreaming(op);
        let res: Res;
        try {
          res = await call(sp.baseUrl, req.path, {
            method: op.method,
            headers,
            ...(hasBody ? { body: req.body.body } : {}),
          });
        } catch (err) {
          // The server may close a connection on a request it cannot parse (e.g. a path too long
          // for Node's HTTP parser); it must still be alive and answering afterwards.
          const alive = await call(sp.baseUrl, '/api/health/live').then(
            (r) => r.status === 200,
            () => false,
          );
          assert.ok(alive, `${name} ${req.path.slice(0, 200)}: ${String(err)} and the server stopped answering`);
          counts.set(0, (counts.get(0) ?? 0) + 1);
          return;
        }
        counts.set(res.status, (counts.get(res.status) ?? 0) + 1);
        const what = `${name} as ${op.method} ${req.path.slice(0, 300)} [${req.body.label}] → ${res.status}`;
        assert.ok(res.status < 500, `${what}: ${res.body.slice(0, 500)}`);
        if (res.status >= 400) assertErrorShape(res, what);
        if (!SAFE.has(op.method)) {
          assert.ok(res.status >= 400, `${what}: an invalid request was accepted: ${res.body.slice(0, 300)}`);
          assert.deepEqual(await stateSnapshot(sp.baseUrl, sp.enginePorts), baseline, `${what}: state changed`);
        }
      };
      await fc
        .assert(fc.asyncProperty(requestArb(op), check), { numRuns: RUNS, seed: SEED + index, endOnFailure: true })
        .catch((err: unknown) => {
          throw new Error(
            `${name} (seed ${SEED + index}; rerun with CAMSTACK_FUZZ_SEED=${SEED}):\n${squeeze(`${String(err)}\n${String((err as { cause?: unknown }).cause ?? '')}`)}`,
          );
        });
      index++;
      // Reads change nothing either.
      if (SAFE.has(op.method)) {
        assert.deepEqual(await stateSnapshot(sp.baseUrl, sp.enginePorts), baseline, `${name}: state changed`);
      }
    }
    t.diagnostic([...seen].map(([n, c]) => `${n}: ${[...c].map(([s, k]) => `${s}×${k}`).join(' ')}`).join('\n'));
  });

  it('hostile requests found by fuzzing and the parser limits: 4xx in the one error shape, with the security headers', async () => {
    const cases: [string, string, CallOptionsLike, number, string][] = [
      ['JSON body nested 30000 deep', '/api/cameras', jsonBody(deepArray(30_000)), 400, 'validation_failed'],
      [
        'JSON object nested 10000 deep',
        `/api/cameras/${CAMERA}`,
        { ...jsonBody(deepObject(10_000)), method: 'PUT' },
        400,
        'validation_failed',
      ],
      ['no route (GET)', '/api/no/such/route', {}, 404, 'not_found'],
      ['no route (POST)', '/nowhere', { method: 'POST' }, 404, 'not_found'],
      ['broken percent-encoding in the path', '/api/cameras/%zz', {}, 400, 'bad_url'],
      [
        'path parameter over the router limit (no route matches it)',
        `/api/cameras/${'a'.repeat(200)}`,
        {},
        404,
        'not_found',
      ],
      ['request line over 16 KiB', `/api/cameras?x=${'a'.repeat(20_000)}`, {}, 431, 'headers_too_large'],
      ['a header over 16 KiB', '/api/cameras', { headers: { 'x-big': 'b'.repeat(20_000) } }, 431, 'headers_too_large'],
    ];
    for (const [what, path, opts, status, code] of cases) {
      const res = await call(sp.baseUrl, path, opts);
      assert.equal(res.status, status, `${what}: ${res.body.slice(0, 300)}`);
      assert.equal(assertErrorShape(res, what).code, code, what);
      assert.equal(res.headers['x-content-type-options'], 'nosniff', what);
      assert.match(String(res.headers['content-security-policy']), /frame-ancestors 'self'/, what);
    }
    // The query of a 404 is not echoed (on the direct port it may hold the token).
    const echoed = await call(sp.baseUrl, '/api/nope?token=secret-in-query');
    assert.doesNotMatch(echoed.body, /secret-in-query/);
    assert.deepEqual(await stateSnapshot(sp.baseUrl, sp.enginePorts), baseline);
  });

  it('stays healthy: alive, both engines running, no request failed inside the server', async () => {
    assert.equal(sp.proc.exitCode, null, 'the server is alive');
    const health = await call(sp.baseUrl, '/api/health');
    assert.equal(health.status, 200);
    assert.equal((JSON.parse(health.body) as { status: string }).status, 'ok', health.body);
    assert.doesNotMatch(sp.output(), /"msg":"request failed"/, 'no 500 was logged');
    assert.doesNotMatch(sp.output(), /"statusCode":5\d\d/, 'no 5xx was answered');
    assert.doesNotMatch(sp.output(), /uncaught|unhandled/i);
    assert.deepEqual(await stateSnapshot(sp.baseUrl, sp.enginePorts), baseline);
  });
});
