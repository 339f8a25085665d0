/**
 * Crash safety: the whole server (Node, MediaMTX, go2rtc) is killed with SIGKILL in the middle of
 * a segment and of a clip, like a power cut, then started again on the same folders. The index
 * must be consistent with the disk, every indexed file must pass ffprobe, the open segment must
 * lose at most its last fragment, the interrupted clip must be finished, and recording resumes.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SyntheticCameraServer } from '../../scripts/synthetic-cameras.js';
import { resolveBinaries } from '../../server/src/engines/binaries.js';
import { readMp4Info } from '../../server/src/recordings/mp4.js';
import { parseSegmentName } from '../../server/src/recordings/naming.js';
import type { RecordingView } from '../../server/src/recordings/service.js';
import { freePorts } from '../helpers/ports.js';
import { isAlive, processesMatching, waitUntil } from '../helpers/processes.js';
import { type ServerProcess, startServerProcess } from '../helpers/server-process.js';

const bins = resolveBinaries();

async function list(sp: ServerProcess): Promise<RecordingView[]> {
  const res = await fetch(`${sp.baseUrl}/api/recordings?limit=1000&order=asc`, { signal: AbortSignal.timeout(10_000) });
  assert.equal(res.status, 200);
  return ((await res.json()) as { items: RecordingView[] }).items;
}

/**
 * Where the media of a file ends, by ffprobe (which must read it without error). For fragmented
 * MP4 ffprobe reports each stream's end as its duration and adds the video's start offset to the
 * format duration (the first segment of a recording starts with audio before the first keyframe),
 * so the longest stream is the comparable figure.
 */
function ffprobeDuration(file: string): number {
  const out = execFileSync(bins.ffprobe, ['-v', 'error', '-show_entries', 'stream=duration', '-of', 'csv=p=0', file]);
  return Math.max(...String(out).trim().split('\n').map(Number));
}

describe('kill -9 mid-recording, then restart', () => {
  let sim: SyntheticCameraServer;
  let dir: string;
  const servers: ServerProcess[] = [];

  before(async () => {
    const [rtspPort, apiPort] = (await freePorts(2)) as [number, number];
    sim = new SyntheticCameraServer({ rtspPort, apiPort });
    await sim.start();
    await sim.addCamera({ name: 'cam', width: 320, height: 240, fps: 10, audio: true });
    dir = mkdtempSync(join(tmpdir(), 'camstack-crash-'));
  });

  after(async () => {
    for (const sp of servers) await sp.cleanup();
    await sim?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const start = async (): Promise<ServerProcess> => {
    const sp = await startServerProcess({
      options: {
        data_dir: join(dir, 'data'),
        media_dir: join(dir, 'media'),
        cameras: [{ id: 'cam', name: 'Cam', source: sim.url('cam'), recording: { continuous: true } }],
      },
      env: {
        CAMSTACK_SEGMENT_SECONDS: '4',
        CAMSTACK_RECORDING_SCAN_MS: '500',
        CAMSTACK_RECORDING_FULL_SCAN_MS: '1000',
        CAMSTACK_RECONCILE_MS: '1000',
      },
    });
    servers.push(sp);
    return sp;
  };

  it('loses at most the last fragment, keeps the index consistent, finishes the clip and resumes', async () => {
    const first = await start();
    await waitUntil(async () => (await list(first)).filter((r) => !r.inProgress).length >= 2, 30_000, 'segments');
    const clip = await fetch(`${first.baseUrl}/api/cameras/cam/clips`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ preRoll: 2, duration: 60 }),
    });
    assert.equal(clip.status, 201);
    const clipId = ((await clip.json()) as { clip: RecordingView }).clip.id;
    // Mid-segment: a part or two into the segment being written.
    let open: RecordingView | undefined;
    await waitUntil(
      async () => {
        open = (await list(first)).find((r) => r.type === 'segment' && r.inProgress && r.durationSeconds >= 2);
        return open !== undefined;
      },
      15_000,
      'a segment 2 s into recording',
    );
    await new Promise((r) => setTimeout(r, 500));

    // Power cut: every process of this Camstack at once.
    const victims = [first.proc.pid as number, ...processesMatching(dir).map((p) => p.pid)];
    const killedAt = Date.now();
    for (const pid of victims) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await first.exited;
    await waitUntil(() => victims.every((pid) => !isAlive(pid)), 5000, 'every process gone');

    // On disk: the segment MediaMTX was writing is still open (no duration in its header).
    const segDir = join(dir, 'media', 'cam');
    const openOnDisk: string[] = [];
    for (const name of readdirSync(segDir).filter((n) => parseSegmentName(n) !== null)) {
      if ((await readMp4Info(join(segDir, name))).durationMs === 0) openOnDisk.push(name);
    }
    assert.equal(openOnDisk.length, 1, `one open segment left by the crash: ${openOnDisk.join(', ')}`);
    const crashed = `cam/${openOnDisk[0]}`;
    const crashedStart = parseSegmentName(openOnDisk[0] as string) as number;

    // Start again on the same folders.
    const second = await start();
    await waitUntil(
      async () => {
        const items = await list(second);
        const clipDone =
          items.find((r) => r.id === clipId && !r.inProgress) ?? items.find((r) => r.type === 'clip' && !r.inProgress);
        const resumed = items.some((r) => r.type === 'segment' && Date.parse(r.start) > killedAt && !r.inProgress);
        return clipDone !== undefined && resumed;
      },
      60_000,
      'the interrupted clip finished and recording resumed',
    );

    // What is on disk now must be in the index after a few scans (500 ms each).
    const onDisk = readdirSync(join(dir, 'media', 'cam')).filter((n) => parseSegmentName(n) !== null);
    const clipsOnDisk = readdirSync(join(dir, 'media', 'cam', 'clips')).filter((n) => n.endsWith('.mp4'));
    await new Promise((r) => setTimeout(r, 2000));
    const items = await list(second);
    // The crashed segment: repaired, complete, losing at most the last fragment (1 s parts).
    const repaired = items.find((r) => r.path === crashed);
    assert.ok(repaired, 'the crashed segment is indexed');
    assert.equal(repaired.inProgress, false);
    const recordedBeforeKill = (killedAt - crashedStart) / 1000;
    assert.ok(
      repaired.durationSeconds >= recordedBeforeKill - 1.6,
      `kept ${repaired.durationSeconds} s of ${recordedBeforeKill.toFixed(1)} s`,
    );
    // The clip interrupted by the crash was saved from what was recorded before it.
    const clipRow = items.find((r) => r.type === 'clip');
    assert.ok(clipRow && !clipRow.inProgress && clipRow.durationSeconds >= 2, `clip ${JSON.stringify(clipRow)}`);

    // The index matches the disk, both ways, and every indexed file plays.
    const ids = new Set<string>();
    for (const r of items) {
      assert.ok(!ids.has(r.id), `duplicate ${r.id}`);
      ids.add(r.id);
      assert.ok(r.path, `${r.id} has a file`);
      const file = join(dir, 'media', r.path);
      assert.ok(existsSync(file), `${r.path} exists`);
      if (r.inProgress) continue;
      const d = ffprobeDuration(file);
      assert.ok(
        d > 0 && Math.abs(d - r.durationSeconds) < 0.6,
        `${r.path}: ffprobe ${d} s, index ${r.durationSeconds} s`,
      );
    }
    const indexed = new Set(items.map((r) => r.path));
    for (const name of onDisk) assert.ok(indexed.has(`cam/${name}`), `cam/${name} on disk is indexed`);
    for (const name of clipsOnDisk) {
      assert.ok(indexed.has(`cam/clips/${name}`), `clip ${name} on disk is indexed`);
    }
    assert.equal(items.filter((r) => r.inProgress && r.type === 'clip').length, 0);
  });
});
