/**
 * `npm run demo` as a new user meets it (scripts/demo.ts, on free ports and its own folder): the
 * panel is served (built when missing or stale), a recorded camera has segments, a thumbnail and a
 * clip within a minute, and killing the demo with SIGKILL leaves none of its processes running.
 * Seen before the fix: "The panel is not built" at /, nothing in Recordings, and the synthetic
 * cameras' MediaMTX still running after the demo was killed.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { RecordingView } from '../../server/src/contract/index.js';
import { freeEnginePorts, freePorts } from '../helpers/ports.js';
import { descendantsOf, isAlive, processesMatching, waitUntil } from '../helpers/processes.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

describe('npm run demo', () => {
  let demo: ChildProcess;
  let dir: string;
  let base: string;
  let out = '';

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'camstack-demo-'));
    const [port, rtsp, camApi, mqtt] = (await freePorts(4)) as [number, number, number, number];
    base = `http://127.0.0.1:${port}`;
    demo = spawn(process.execPath, ['--import', 'tsx', join(root, 'scripts', 'demo.ts')], {
      cwd: root,
      env: {
        ...process.env,
        CAMSTACK_PORT: String(port),
        CAMSTACK_DEMO_DIR: dir,
        CAMSTACK_DEMO_RTSP_PORT: String(rtsp),
        CAMSTACK_DEMO_CAMERA_API_PORT: String(camApi),
        CAMSTACK_DEMO_MQTT_PORT: String(mqtt),
        CAMSTACK_ENGINE_PORTS: JSON.stringify(await freeEnginePorts()),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    demo.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    demo.stderr?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    await waitUntil(
      () => {
        if (demo.exitCode !== null) throw new Error(`the demo exited with ${demo.exitCode}:\n${out}`);
        return out.includes('Camstack demo is running');
      },
      120_000,
      'the demo to start',
    );
  });

  after(async () => {
    if (demo.exitCode === null && demo.signalCode === null) demo.kill('SIGKILL');
    for (const p of processesMatching(dir)) process.kill(p.pid, 'SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  it('serves the built panel at /', async () => {
    const res = await fetch(`${base}/`);
    assert.equal(res.status, 200);
    const html = await res.text();
    assert.doesNotMatch(html, /not built/i);
    assert.match(html, /<script[^>]+type="module"/);
  });

  it('has something recorded within a minute: segments with a thumbnail, and a clip with its pre-roll', async () => {
    let items: RecordingView[] = [];
    await waitUntil(
      async () => {
        const res = await fetch(`${base}/api/recordings?camera=front_door&limit=200`);
        items = ((await res.json()) as { items: RecordingView[] }).items;
        return (
          items.some((r) => r.type === 'segment') &&
          items.some((r) => r.type === 'clip' && r.trigger === 'demo' && !r.inProgress)
        );
      },
      60_000,
      'a segment (10-minute segments: the first one is still open) and a saved clip of front_door',
    ).catch((err: unknown) => {
      throw new Error(`${String(err)}\n${JSON.stringify(items)}\n${out.split('\n').slice(-40).join('\n')}`);
    });
    const segment = items.find((r) => r.type === 'segment') as RecordingView;
    const thumb = await fetch(`${base}/api/recordings/${segment.id}/thumbnail.jpg`);
    assert.equal(thumb.status, 200);
    assert.equal(thumb.headers.get('content-type'), 'image/jpeg');
    const clip = items.find((r) => r.type === 'clip' && r.trigger === 'demo') as RecordingView;
    assert.equal(clip.trigger, 'demo');
    assert.ok(clip.durationSeconds >= 5, `the clip holds its pre-roll and duration (${clip.durationSeconds} s)`);
  });

  it('killed with SIGKILL, it leaves none of its processes running', async () => {
    const children = descendantsOf(demo.pid as number);
    assert.ok(
      children.some((p) => p.argv.some((a) => a.includes('mediamtx'))),
      'the demo runs MediaMTX (engine and synthetic cameras)',
    );
    demo.kill('SIGKILL');
    await waitUntil(
      () => children.every((p) => !isAlive(p.pid)),
      15_000,
      `every process the demo started to end (left: ${children
        .filter((p) => isAlive(p.pid))
        .map((p) => p.argv.slice(0, 2).join(' '))
        .join('; ')})`,
    );
  });
});
