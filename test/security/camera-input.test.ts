/**
 * Hostile camera input through the API, against the real server and engines:
 *
 * - camera URLs built to break out of FFmpeg's argv or a shell (metacharacters, `$(…)`,
 *   backticks, a leading `-`, `file:`, `concat:`, `subfile:`, CR/LF, 64 KB, bytes that are not
 *   UTF-8) are refused with a 400 naming the field, on POST and PUT, and change nothing;
 * - a URL that is valid but full of characters a shell would care about (a query with `&` and `*`,
 *   credentials with `$(…)`, `;` and backticks) is accepted, and reaches the camera literally: a
 *   stand-in camera sees exactly that path and those credentials, no shell ran, no file appeared;
 * - every route that takes an id refuses traversal (`..`, `%2e%2e%2f`, encoded slashes, absolute
 *   paths, NUL) with 400/404 and never serves a file from outside the media directory.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SyntheticCameraServer } from '../../scripts/synthetic-cameras.js';
import { freePorts } from '../helpers/ports.js';
import { processesMatching, processTable, waitUntil } from '../helpers/processes.js';
import { type ServerProcess, startServerProcess } from '../helpers/server-process.js';
import {
  assertErrorShape,
  call,
  fillPath,
  type Operation,
  openApiOperations,
  type StateSnapshot,
  stateSnapshot,
} from './support.js';

const CAMERA = 'front';

function json(method: string, body: unknown): Parameters<typeof call>[2] {
  return {
    method,
    headers: { 'content-type': 'application/json' },
    body: Buffer.isBuffer(body) ? body : JSON.stringify(body),
  };
}

describe('hostile camera input', () => {
  let sim: SyntheticCameraServer;
  let sp: ServerProcess;
  let baseline: StateSnapshot;
  let ops: Operation[];
  /** A camera that accepts a connection and records it, then never answers (FFmpeg keeps waiting). */
  let standin: Server;
  let standinPort: number;
  const seenByCamera: IncomingMessage[] = [];
  const SENTINEL = `outside-media-${process.pid}-sentinel`;

  before(async () => {
    const [rtspPort, apiPort, holdPort] = (await freePorts(3)) as [number, number, number];
    sim = new SyntheticCameraServer({ rtspPort, apiPort });
    await sim.start();
    await sim.addCamera({ name: CAMERA, width: 320, height: 240, fps: 10, audio: false });
    standinPort = holdPort;
    // Like a real camera: 401 asking for Basic credentials, then a request that never ends.
    standin = createServer((req, res) => {
      seenByCamera.push(req);
      if (!req.headers.authorization) {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="camera"', 'content-length': '0' }).end();
      }
    });
    await new Promise<void>((r) => standin.listen(standinPort, '127.0.0.1', r));
    sp = await startServerProcess({ env: { CAMSTACK_STATUS_POLL_MS: '500' } });
    // A file next to the media dir that no request may ever return.
    await writeFile(join(sp.dir, 'secret.txt'), SENTINEL);
    await mkdir(join(sp.dir, 'media'), { recursive: true });
    const created = await call(
      sp.baseUrl,
      '/api/cameras',
      json('POST', { id: CAMERA, name: 'Front', source: sim.url(CAMERA) }),
    );
    assert.equal(created.status, 201, created.body);
    ops = await openApiOperations(sp.baseUrl);
    await new Promise((r) => setTimeout(r, 1500));
    baseline = await stateSnapshot(sp.baseUrl, sp.enginePorts);
  });

  after(async () => {
    standin?.closeAllConnections();
    await new Promise((r) => standin?.close(r));
    await sp?.cleanup();
    await sim?.stop();
  });

  const marker = () => join(sp.dir, 'pwned');
  const HOSTILE_URLS: [string, string | Buffer][] = [
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell's ${IFS}, on purpose
    ['a ; command', 'rtsp://127.0.0.1:554/live;touch${IFS}/tmp/camstack-pwned'],
    ['$(…) substitution', 'rtsp://127.0.0.1:554/$(touch /tmp/camstack-pwned)'],
    ['backticks', 'rtsp://127.0.0.1:554/`touch /tmp/camstack-pwned`'],
    ['a pipe', 'rtsp://127.0.0.1:554/a|touch /tmp/camstack-pwned'],
    ['redirection', 'rtsp://127.0.0.1:554/a>/tmp/camstack-pwned'],
    ['& outside the query', 'rtsp://127.0.0.1:554/a&touch'],
    ['quotes', `rtsp://127.0.0.1:554/a'b"c`],
    ['file:///etc/passwd', 'file:///etc/passwd'],
    ['a bare path', '/etc/passwd'],
    ['-i /etc/passwd', '-i /etc/passwd'],
    ['a leading -', '-re'],
    ['-f lavfi', '-f lavfi -i testsrc'],
    ['concat:', 'concat:/etc/passwd|/etc/shadow'],
    ['subfile:', 'subfile:,,start,0,end,0,,:/etc/passwd'],
    ['pipe:', 'pipe:0'],
    ['fd:', 'fd:3'],
    ['data:', 'data:text/plain;base64,cm9vdA=='],
    ['gopher://', 'gopher://127.0.0.1:70/x'],
    ['ffmpeg: (a test source outside development)', 'ffmpeg:virtual?video'],
    ['exec: (go2rtc runs a command)', 'exec:touch /tmp/camstack-pwned'],
    ['CR/LF injection', 'rtsp://127.0.0.1:554/a\r\nInjected: header'],
    ['a NUL byte', 'rtsp://127.0.0.1:554/a\u0000b'],
    ['a tab', 'rtsp://127.0.0.1:554/a\tb'],
    ['percent-encoded CR/LF', 'rtsp://127.0.0.1:554/a%0d%0aInjected:%20x'],
    ['64 KB', `rtsp://127.0.0.1:554/${'a'.repeat(64 * 1024 - 40)}`],
    ['just over the length limit', `rtsp://127.0.0.1:554/${'a'.repeat(2048)}`],
    ['the replacement character (text that was not UTF-8)', 'rtsp://127.0.0.1:554/\ufffd'],
    ['a lone surrogate', 'rtsp://127.0.0.1:554/\ud800'],
    ['no host', 'rtsp:///path'],
    ['a space', 'rtsp://127.0.0.1:554/a b'],
  ];

  it('refuses every hostile URL on POST with a 400 naming the field, and nothing changes', async () => {
    for (const [what, source] of HOSTILE_URLS) {
      for (const field of ['source', 'substream'] as const) {
        const body = { id: 'hostile', name: 'Hostile', source: sim.url(CAMERA), [field]: source };
        const res = await call(sp.baseUrl, '/api/cameras', json('POST', body));
        const err = assertErrorShape(res, `${what} in ${field}`);
        assert.ok(
          res.status === 400 || res.status === 413,
          `${what} in ${field}: ${res.status} ${res.body.slice(0, 300)}`,
        );
        if (res.status === 400) {
          const fields = (err.problems as { field: string }[]).map((p) => p.field);
          assert.ok(
            fields.includes(field),
            `${what} in ${field}: the problem names ${field}, got ${fields.join(', ')}`,
          );
        }
      }
    }
    // The same text as bytes that are not UTF-8 at all.
    const raw = Buffer.concat([
      Buffer.from('{"id":"hostile","name":"Hostile","source":"rtsp://127.0.0.1:554/'),
      Buffer.from([0xff, 0xfe, 0xc0, 0xae]),
      Buffer.from('"}'),
    ]);
    const res = await call(sp.baseUrl, '/api/cameras', json('POST', raw));
    assert.equal(res.status, 400, res.body);
    assertErrorShape(res, 'non-UTF-8 bytes');
    assert.deepEqual(await stateSnapshot(sp.baseUrl, sp.enginePorts), baseline);
    assert.equal(existsSync('/tmp/camstack-pwned'), false, 'no command ran');
  });

  it('refuses every hostile URL on PUT of an existing camera, and the camera keeps its source', async () => {
    for (const [what, source] of HOSTILE_URLS) {
      const res = await call(sp.baseUrl, `/api/cameras/${CAMERA}`, json('PUT', { source }));
      assert.ok(res.status === 400 || res.status === 413, `${what}: ${res.status} ${res.body.slice(0, 300)}`);
      assertErrorShape(res, what);
    }
    assert.deepEqual(await stateSnapshot(sp.baseUrl, sp.enginePorts), baseline);
    assert.equal(existsSync('/tmp/camstack-pwned'), false, 'no command ran');
  });

  it('a valid URL full of shell characters, with hostile credentials, reaches the camera literally', async () => {
    const path = '/video.mjpg?a=1&b=2&star=*&tilde=~';
    const username = 'admin;id';
    const password = `p$(touch ${marker()})\`id\`;|&'"`;
    const res = await call(
      sp.baseUrl,
      '/api/cameras',
      json('POST', {
        id: 'literal',
        name: 'Literal',
        source: `http://127.0.0.1:${standinPort}${path}`,
        username,
        password,
      }),
    );
    assert.equal(res.status, 201, res.body);
    const view = JSON.parse(res.body) as Record<string, unknown>;
    assert.equal(view.hasCredentials, true);
    assert.ok(!res.body.includes('p$(touch'), 'the password is not returned');
    // Verification (or a viewer) makes FFmpeg ask the camera; wake it with a snapshot request too.
    const wake = call(sp.baseUrl, '/api/cameras/literal/snapshot.jpg?maxAge=0', { timeoutMs: 60_000 }).catch(
      () => null,
    );
    let argvs: string[][] = [];
    await waitUntil(
      () => {
        argvs = processesMatching(sp.dir)
          .concat(processTable().filter((p) => p.argv.some((a) => a.includes(`127.0.0.1:${standinPort}`))))
          .map((p) => p.argv)
          .filter((argv) => argv.some((a) => a.includes(`127.0.0.1:${standinPort}`)));
        return seenByCamera.some((r) => r.headers.authorization) && argvs.length > 0;
      },
      60_000,
      'FFmpeg to connect to the stand-in camera',
    );
    const authed = seenByCamera.find((r) => r.headers.authorization) as IncomingMessage;
    assert.equal(authed.url, path, 'the camera got exactly the path and query given');
    const auth = String(authed.headers.authorization);
    assert.match(auth, /^Basic /);
    assert.equal(
      Buffer.from(auth.slice(6), 'base64').toString('utf8'),
      `${username}:${password}`,
      'the camera got exactly the credentials given',
    );
    for (const argv of argvs) {
      const exe = argv[0] ?? '';
      assert.ok(!/(^|\/)(sh|bash|dash|zsh)$/.test(exe), `no shell runs the URL: ${JSON.stringify(argv)}`);
      // The URL is ONE argument, with the credentials percent-encoded into it.
      const arg = argv.find((a) => a.includes(`127.0.0.1:${standinPort}`)) ?? '';
      assert.ok(arg.endsWith(`127.0.0.1:${standinPort}${path}`) || arg.includes(`${standinPort}${path}`), arg);
      assert.ok(!arg.includes('$(touch'), `the password is percent-encoded in the argument: ${arg}`);
    }
    assert.equal(existsSync(marker()), false, 'no command in the password ran');
    await wake;
    const removed = await call(sp.baseUrl, '/api/cameras/literal', { method: 'DELETE' });
    assert.equal(removed.status, 204);
    // Removed from both engines again.
    await waitUntil(
      async () => JSON.stringify(await stateSnapshot(sp.baseUrl, sp.enginePorts)) === JSON.stringify(baseline),
      30_000,
      'the engines to drop the removed camera',
    );
  });

  it('traversal in every id of every route: 400 or 404, never a file from outside the media dir', async () => {
    const traversal = [
      '..',
      '.',
      '%2e%2e',
      '%2e%2e%2f%2e%2e%2fsecret.txt',
      '..%2f..%2fsecret.txt',
      '..%2F..%2F..%2F..%2Fetc%2Fpasswd',
      '%2Fetc%2Fpasswd',
      '%2F',
      '..%5c..%5csecret.txt',
      `${CAMERA}%2f..%2f..%2fsecret.txt`,
      `${CAMERA}%00`,
      `${CAMERA}%00..%2fsecret.txt`,
      '%00',
      '%c0%ae%c0%ae%c0%af',
      '....%2f%2fsecret.txt',
      'seg_1%2f..%2f..',
      'clip_1%00.mp4',
    ];
    const before = await stateSnapshot(sp.baseUrl, sp.enginePorts);
    const routes = ops.filter((o) => /\{\w+\}/.test(o.path));
    assert.ok(routes.length >= 15, `${routes.length} routes with ids`);
    let n = 0;
    for (const op of routes) {
      const names = [...op.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1] as string);
      for (const name of names) {
        for (const bad of traversal) {
          const values = Object.fromEntries(
            names.map((k) => [k, k === name ? bad : k === 'id' ? CAMERA : k === 'rid' ? 'seg_1' : 'x']),
          );
          const path = fillPath(op.path, values);
          const headers: Record<string, string> = {};
          let body: string | undefined;
          if (op.body) {
            headers['content-type'] = op.body.contentType;
            body = op.body.contentType.includes('json') ? '{}' : 'v=0\r\n'.repeat(3);
          }
          const res = await call(sp.baseUrl, path, { method: op.method, headers, ...(body ? { body } : {}) });
          const what = `${op.method} ${path}`;
          assert.ok(res.status === 400 || res.status === 404, `${what}: ${res.status} ${res.body.slice(0, 200)}`);
          assertErrorShape(res, what);
          assert.ok(!res.body.includes(SENTINEL) && !res.body.includes('root:x:0:0'), `${what} served a file`);
          n++;
        }
      }
    }
    // The panel's static files: no way up either (404 or the panel's own index.html).
    for (const p of [
      '/..%2fsecret.txt',
      '/%2e%2e/%2e%2e/etc/passwd',
      '/assets/..%2f..%2f..%2fpackage.json',
      '/assets/%2e%2e%2f%2e%2e%2fsrc%2fmain.ts',
      '/..%2f..%2f..%2f..%2fetc%2fpasswd',
      '/%00',
      '/.git/config',
      '/assets/..%5c..%5cpackage.json',
    ]) {
      const res = await call(sp.baseUrl, p);
      assert.ok(res.status === 404 || res.status === 400 || res.status === 200, `${p}: ${res.status}`);
      if (res.status === 200) assert.match(res.body, /<!doctype html>/i, `${p}: only the panel's index.html`);
      assert.ok(
        !res.body.includes(SENTINEL) && !res.body.includes('root:x:0:0') && !res.body.includes('"workspaces"'),
        p,
      );
    }
    assert.ok(n > 100, `${n} requests`);
    assert.deepEqual(await stateSnapshot(sp.baseUrl, sp.enginePorts), before);
  });
});
