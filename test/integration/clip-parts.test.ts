/**
 * A saved clip never comes back as a second clip. Seen before the fix: a clip recorded by FFmpeg
 * (a camera that is not recorded) was saved, but its part file stayed; the next full scan took it
 * for a crash's leftover and "recovered" it as a new clip, named after the request while the saved
 * one is named after its first keyframe.
 */
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SyntheticCameraServer } from '../../scripts/synthetic-cameras.js';
import type { RecordingView } from '../../server/src/contract/index.js';
import { freePorts } from '../helpers/ports.js';
import { waitUntil } from '../helpers/processes.js';
import { type ServerProcess, startServerProcess } from '../helpers/server-process.js';

describe('clip part files', () => {
  let sim: SyntheticCameraServer;
  let dir: string;

  before(async () => {
    const [rtspPort, apiPort] = (await freePorts(2)) as [number, number];
    sim = new SyntheticCameraServer({ rtspPort, apiPort });
    await sim.start();
    await sim.addCamera({ name: 'door', width: 320, height: 240, fps: 10, gopSeconds: 1, audio: false });
    dir = await mkdtemp(join(tmpdir(), 'camstack-parts-'));
    await writeFile(join(dir, 'cameras.yaml'), 'cameras: []\n');
  });

  after(async () => {
    await sim?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const options = () => ({
    data_dir: join(dir, 'data'),
    media_dir: join(dir, 'media'),
    cameras_file: join(dir, 'cameras.yaml'),
  });
  // Full scans (where leftovers are recovered) every second.
  const env = { CAMSTACK_RECORDING_FULL_SCAN_MS: '1000', CAMSTACK_RECORDING_SCAN_MS: '500' };

  async function clips(sp: ServerProcess): Promise<RecordingView[]> {
    const res = await fetch(`${sp.baseUrl}/api/recordings?type=clip&limit=100`);
    return ((await res.json()) as { items: RecordingView[] }).items;
  }

  it('a saved FFmpeg clip leaves no part file, and a part of a saved clip is removed at start, not recovered', async () => {
    const clipsDir = join(dir, 'media', 'door', 'clips');
    let sp: ServerProcess = await startServerProcess({ options: options(), env });
    let partName: string | undefined;
    try {
      const add = await fetch(`${sp.baseUrl}/api/cameras`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ id: 'door', name: 'Door', source: sim.url('door') }),
      });
      assert.equal(add.status, 201);
      const start = await fetch(`${sp.baseUrl}/api/cameras/door/clips`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ duration: 3, preRoll: 0 }),
      });
      assert.equal(start.status, 201);
      await waitUntil(
        async () => {
          partName = (await readdir(clipsDir).catch(() => [] as string[])).find((n) => n.endsWith('.part'));
          return partName !== undefined;
        },
        20_000,
        'the recorder writing its part file',
      );
      await waitUntil(async () => (await clips(sp)).some((c) => !c.inProgress), 40_000, 'the clip saved');
      // A few full scans later: still one clip, and no part file.
      await new Promise((r) => setTimeout(r, 3000));
      assert.equal((await clips(sp)).length, 1);
      assert.deepEqual(
        (await readdir(clipsDir)).filter((n) => n.endsWith('.part')),
        [],
        'the part file went with the commit',
      );
      const saved = (await clips(sp))[0] as RecordingView;
      // Camstack stopped between the commit and removing the part: put a part back in place.
      await sp.cleanup();
      await copyFile(join(dir, 'media', saved.path as string), join(clipsDir, partName as string));
      sp = await startServerProcess({ options: options(), env });
      await waitUntil(
        async () => !(await readdir(clipsDir)).includes(partName as string),
        20_000,
        'the stale part removed',
      );
      const after = await clips(sp);
      assert.deepEqual(
        after.map((c) => c.id),
        [saved.id],
        'still the one clip: the part was not recovered as a second',
      );
      assert.doesNotMatch(sp.output(), /recovered a clip interrupted by a crash/);
    } finally {
      await sp.cleanup();
    }
  });
});
