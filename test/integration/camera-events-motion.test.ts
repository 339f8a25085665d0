/**
 * Camstack's own motion detector, wired: turned on for a camera through the API, it reports the
 * synthetic camera's moving test pattern as a motion event (source `motion`) and shows how it is
 * doing; turned off, its FFmpeg goes and the event ends. Settings that leave nothing to watch are
 * refused and change nothing. (The detector itself is tested in motion.test.ts.)
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SyntheticCameraServer } from '../../scripts/synthetic-cameras.js';
import type { CameraEventList } from '../../server/src/contract/index.js';
import { freePorts } from '../helpers/ports.js';
import { processesMatching, waitUntil } from '../helpers/processes.js';
import { type ServerProcess, startServerProcess } from '../helpers/server-process.js';

describe('motion detector as a camera event source', () => {
  let sim: SyntheticCameraServer;
  let dir: string;
  let sp: ServerProcess;

  before(async () => {
    const [rtspPort, apiPort] = (await freePorts(2)) as [number, number];
    sim = new SyntheticCameraServer({ rtspPort, apiPort });
    await sim.start();
    await sim.addCamera({ name: 'yard', width: 320, height: 240, fps: 10, gopSeconds: 1, audio: false });
    dir = await mkdtemp(join(tmpdir(), 'camstack-motion-'));
    await writeFile(join(dir, 'cameras.yaml'), 'cameras: []\n');
    sp = await startServerProcess({
      options: { data_dir: join(dir, 'data'), media_dir: join(dir, 'media'), cameras_file: join(dir, 'cameras.yaml') },
    });
    const add = await fetch(`${sp.baseUrl}/api/cameras`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'yard', name: 'Yard', source: sim.url('yard'), events: { record: [] } }),
    });
    assert.equal(add.status, 201, await add.text());
  });

  after(async () => {
    await sp?.cleanup();
    await sim?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const put = (body: unknown) =>
    fetch(`${sp.baseUrl}/api/cameras/yard`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const motionEvents = async () =>
    ((await (await fetch(`${sp.baseUrl}/api/camera-events?camera=yard&type=motion`)).json()) as CameraEventList).items;
  // The detector reads the restream of this server's MediaMTX (the camera has no substream).
  const detectors = () =>
    processesMatching(`:${sp.enginePorts.mediamtxRtsp}/yard`).filter((p) =>
      p.argv.some((a) => a.includes('format=gray')),
    );

  it('is off by default: no detector runs', async () => {
    const camera = (await (await fetch(`${sp.baseUrl}/api/cameras/yard`)).json()) as { motion: { enabled: boolean } };
    assert.equal(camera.motion.enabled, false);
    const sources = (await (await fetch(`${sp.baseUrl}/api/cameras/yard/events`)).json()) as { motion: unknown };
    assert.equal(sources.motion, null);
  });

  it('refuses settings that leave nothing to watch, and changes nothing', async () => {
    const res = await put({
      motion: {
        enabled: true,
        zones: [
          {
            mode: 'exclude',
            points: [
              [0, 0],
              [1, 0],
              [1, 1],
              [0, 1],
            ],
          },
        ],
      },
    });
    assert.equal(res.status, 400);
    const body = (await res.json()) as { problems: { field: string }[] };
    assert.ok(
      body.problems.some((p) => p.field.startsWith('motion')),
      JSON.stringify(body),
    );
    const camera = (await (await fetch(`${sp.baseUrl}/api/cameras/yard`)).json()) as { motion: { enabled: boolean } };
    assert.equal(camera.motion.enabled, false);
  });

  it('turned on: the moving picture is a motion event from the detector; turned off: its FFmpeg goes, the event ends', async () => {
    assert.equal((await put({ motion: { enabled: true, fps: 3, sensitivity: 80 } })).status, 200);
    await waitUntil(
      async () => (await motionEvents()).some((e) => e.active && e.source === 'motion'),
      60_000,
      'a motion event',
    );
    const sources = (await (await fetch(`${sp.baseUrl}/api/cameras/yard/events`)).json()) as {
      types: string[];
      motion: { running: boolean; healthy: boolean; fps: number; motion: boolean };
    };
    assert.equal(sources.motion.running, true);
    assert.equal(sources.motion.healthy, true);
    assert.equal(sources.motion.motion, true);
    assert.ok(sources.types.includes('motion'));
    assert.equal(detectors().length, 1, 'one detector FFmpeg');
    assert.equal((await put({ motion: { enabled: false } })).status, 200);
    await waitUntil(async () => (await motionEvents()).every((e) => !e.active), 20_000, 'the event ended');
    await waitUntil(() => detectors().length === 0, 20_000, 'the detector gone');
  });
});
