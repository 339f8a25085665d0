/**
 * Shared by the security tests: raw HTTP requests (any bytes, any header, any source address),
 * the API's one error shape, the served OpenAPI document as a list of operations, and a
 * snapshot of everything a rejected request must leave alone (the cameras, the recordings and
 * the engines' own configuration, read from go2rtc and MediaMTX themselves).
 */
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import type { EnginePorts } from '../../server/src/engines/ports.js';

export interface Res {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** The response was a stream (SSE, MJPEG, MP4): only its headers were read. */
  streaming: boolean;
}

export interface CallOptions {
  method?: string;
  headers?: Record<string, string>;
  /** Sent as is (a string is UTF-8); no Content-Type is added. */
  body?: string | Buffer;
  /** Source address of the client socket (a loopback address: 127.0.0.2 is "elsewhere"). */
  from?: string;
  timeoutMs?: number;
}

/**
 * One HTTP request with the path sent byte for byte (no URL normalisation: `..`, `%2e`, NUL
 * escapes reach the server as written). Streams are cut after their headers.
 */
export function call(base: string, path: string, opts: CallOptions = {}): Promise<Res> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        path,
        method: opts.method ?? 'GET',
        localAddress: opts.from ?? '127.0.0.1',
        headers: {
          ...(opts.body !== undefined ? { 'content-length': String(Buffer.byteLength(opts.body)) } : {}),
          ...opts.headers,
        },
        timeout: opts.timeoutMs ?? 20_000,
      },
      (res) => {
        const type = String(res.headers['content-type'] ?? '');
        const streaming = /event-stream|multipart|video\/mp4/.test(type) && (res.statusCode ?? 0) < 300;
        const chunks: Buffer[] = [];
        const done = () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
            streaming,
          });
        if (streaming) {
          res.destroy();
          done();
          return;
        }
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', done);
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timed out: ${opts.method ?? 'GET'} ${path}`)));
    req.on('error', reject);
    req.end(opts.body);
  });
}

export const ERROR_KEYS = ['code', 'error', 'message', 'problems', 'statusCode'];

/** The one error shape: `{statusCode, error, code, message, problems: [{field, message}]}`; returns it. */
export function assertErrorShape(res: Res, what: string): Record<string, unknown> {
  assert.match(String(res.headers['content-type']), /^application\/json/, `${what}: JSON error (${res.body})`);
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(res.body) as Record<string, unknown>;
  } catch {
    assert.fail(`${what}: the error body is not JSON: ${res.body.slice(0, 300)}`);
  }
  assert.deepEqual(Object.keys(body).sort(), ERROR_KEYS, `${what}: the one error shape, got ${res.body.slice(0, 300)}`);
  assert.equal(body.statusCode, res.status, what);
  assert.equal(typeof body.code, 'string', what);
  assert.equal(typeof body.message, 'string', what);
  assert.ok(Array.isArray(body.problems), what);
  for (const p of body.problems as unknown[]) {
    assert.deepEqual(Object.keys(p as object).sort(), ['field', 'message'], `${what}: problem shape`);
  }
  return body;
}

// ---------------------------------------------------------------------------------------------
// The OpenAPI document

export interface JsonSchema {
  type?: string | string[];
  pattern?: string;
  enum?: unknown[];
  format?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean;
  anyOf?: JsonSchema[];
  items?: JsonSchema;
  [key: string]: unknown;
}

export interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required?: boolean;
  schema: JsonSchema;
}

export interface Operation {
  method: string;
  /** OpenAPI form: `/api/cameras/{id}`. */
  path: string;
  params: Parameter[];
  body: { required: boolean; contentType: string; schema: JsonSchema } | null;
  responses: string[];
}

interface OpenApiDoc {
  paths: Record<
    string,
    Record<
      string,
      {
        parameters?: Parameter[];
        requestBody?: { required?: boolean; content: Record<string, { schema: JsonSchema }> };
        responses?: Record<string, unknown>;
      }
    >
  >;
}

export async function openApiOperations(base: string, headers: Record<string, string> = {}): Promise<Operation[]> {
  const res = await call(base, '/api/openapi.json', { headers });
  assert.equal(res.status, 200, res.body);
  const doc = JSON.parse(res.body) as OpenApiDoc;
  const ops: Operation[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const content = op.requestBody?.content ?? {};
      const [contentType, media] = Object.entries(content)[0] ?? [];
      ops.push({
        method: method.toUpperCase(),
        path,
        params: op.parameters ?? [],
        body:
          contentType && media
            ? { required: op.requestBody?.required ?? false, contentType, schema: media.schema }
            : null,
        responses: Object.keys(op.responses ?? {}),
      });
    }
  }
  return ops;
}

/** Streams that hold their connection by design: never sent a body, only probed. */
export function isStreaming(op: Operation): boolean {
  return /\/(mjpeg|stream\.mp4|events|ws)$/.test(op.path);
}

/** `/api/cameras/{id}` with the given (already encoded) values. */
export function fillPath(path: string, values: Record<string, string>): string {
  return path.replace(/\{(\w+)\}/g, (_m, name: string) => values[name] ?? 'x');
}

// ---------------------------------------------------------------------------------------------
// What must not change

export interface StateSnapshot {
  cameras: unknown;
  recordings: unknown;
  go2rtcStreams: Record<string, string[]>;
  mediamtxPaths: unknown;
}

async function getJson(url: string, headers: Record<string, string> = {}): Promise<unknown> {
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(10_000) });
  assert.equal(res.status, 200, `${url}: ${res.status}`);
  return res.json();
}

/**
 * Camstack's cameras and recordings, go2rtc's streams (name → source URLs; who is watching is
 * runtime, not configuration) and MediaMTX's configured paths.
 */
export async function stateSnapshot(
  base: string,
  ports: EnginePorts,
  headers: Record<string, string> = {},
): Promise<StateSnapshot> {
  const [cameras, recordings, streams, paths] = await Promise.all([
    getJson(`${base}/api/cameras`, headers),
    getJson(`${base}/api/recordings`, headers),
    getJson(`http://127.0.0.1:${ports.go2rtcApi}/api/streams`),
    getJson(`http://127.0.0.1:${ports.mediamtxApi}/v3/config/paths/list`),
  ]);
  const go2rtcStreams: Record<string, string[]> = {};
  for (const [name, s] of Object.entries((streams ?? {}) as Record<string, { producers?: { url?: string }[] }>)) {
    go2rtcStreams[name] = (s.producers ?? []).map((p) => p.url ?? '');
  }
  return { cameras, recordings, go2rtcStreams, mediamtxPaths: paths };
}
