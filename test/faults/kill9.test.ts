/**
 * Faults: kill -9 of each process in turn while a camera records 24/7 — go2rtc, MediaMTX, the
 * MJPEG FFmpeg job, and the server itself (its engines left behind as orphans). Recovery as the
 * README says: the engine is back with a new pid, the camera streams again, recording resumes,
 * no process is left behind (nothing outside the running server's tree names this test's
 * folder), and the index matches the files on disk (every complete recording passes ffprobe).
 *
 * One camera, one data folder, one server per life: the tests run in order and build on each
 * other. (test/integration/recordings-crash.test.ts covers killing every process at once.)
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SyntheticCameraServer } from '../../scripts/synthetic-cameras.js';
import { freePorts } from '../helpers/ports.js';
import { descendantsOf, isAlive, processesMatching, processTable, waitUntil } from '../helpers/processes.js';
import { type ServerProcess, startServerProcess } from '../helpers/server-process.js';
import { assertIndexMatchesDisk, engines, fixtureClip, longestGap, segments, status, strays } from './support.js';

async function snapshotSource(sp: ServerProcess, id: string): Promise<string | null> {
  try {
    const res = await fetch(`${sp.baseUrl}/api/cameras/${id}/snapshot.jpg?maxAge=0`, {
      signal: AbortSignal.timeout(15_000),
    });
    await res.arrayBuffer();
    return res.status === 200 ? res.headers.get('x-snapshot-source') : null;
  } catch {
    return null;
  }
}

/** Reads an MJPEG stream in the background, noting when each frame arrived. */
function mjpegReader(url: string) {
  const ctrl = new AbortController();
  const frames: number[] = [];
  const done = (async () => {
    const res = await fetch(url, { signal: ctrl.signal });
    assert.equal(res.status, 200);
    const marker = Buffer.from('--camstackframe');
    let tail = Buffer.alloc(0);
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      let buf = Buffer.concat([tail, Buffer.from(chunk)]);
      for (let i = buf.indexOf(marker); i >= 0; i = buf.indexOf(marker)) {
        frames.push(Date.now());
        buf = buf.subarray(i + marker.length);
      }
      tail = buf.subarray(Math.max(0, buf.length - marker.length));
    }
  })().catch((err: unknown) => {
    if (!ctrl.signal.aborted) throw err;
  });
  return { frames, close: () => ctrl.abort(), done };
}

describe('kill -9 mid-recording', () => {
  let sim: SyntheticCameraServer;
  let dir: string;
  let sp: ServerProcess;
  const servers: ServerProcess[] = [];
  const figures: Record<string, unknown> = {};

  const start = async (): Promise<ServerProcess> => {
    const s = await startServerProcess({
      options: {
        data_dir: join(dir, 'data'),
        media_dir: join(dir, 'media'),
        cameras: [{ id: 'cam', name: 'Cam', source: sim.url('cam'), recording: { continuous: true } }],
      },
      env: {
        CAMSTACK_SEGMENT_SECONDS: '4',
        CAMSTACK_RECORDING_SCAN_MS: '500',
        CAMSTACK_RECORDING_FULL_SCAN_MS: '1000',
      },
    });
    servers.push(s);
    return s;
  };

  /** The running server's own processes: itself, its engines and their children, its FFmpeg jobs. */
  const ownTree = (s: ServerProcess) => [
    s.proc.pid as number,
    ...descendantsOf(s.proc.pid as number).map((p) => p.pid),
  ];

  const streamingAndRecording = async (s: ServerProcess, sinceMs: number, what: string) => {
    await waitUntil(
      async () =>
        (await status(s, 'cam')).state === 'streaming' &&
        (await segments(s, 'cam')).some((r) => r.startMs >= sinceMs && !r.inProgress),
      90_000,
      what,
    );
  };

  before(async () => {
    const [rtspPort, apiPort] = (await freePorts(2)) as [number, number];
    sim = new SyntheticCameraServer({ rtspPort, apiPort });
    await sim.start();
    await sim.addCamera({ name: 'cam', loopFile: fixtureClip() });
    dir = mkdtempSync(join(tmpdir(), 'camstack-kill9-'));
    sp = await start();
    await streamingAndRecording(sp, 0, 'the camera streaming with a complete segment');
  });

  after(async () => {
    for (const s of servers) await s.cleanup();
    for (const p of processesMatching(dir)) process.kill(p.pid, 'SIGKILL');
    await sim?.stop();
    rmSync(dir, { recursive: true, force: true });
    console.log(`kill -9 recovery: ${JSON.stringify(figures)}`);
  });

  it('go2rtc: back with a new pid, live frames from go2rtc again, recording never interrupted', async () => {
    const old = (await engines(sp)).go2rtc.pid as number;
    assert.equal(await snapshotSource(sp, 'cam'), 'go2rtc');
    const killedAt = Date.now();
    process.kill(old, 'SIGKILL');
    let pid = 0;
    await waitUntil(
      async () => {
        const g = (await engines(sp)).go2rtc;
        pid = g.pid ?? 0;
        return g.state === 'running' && pid !== old;
      },
      60_000,
      'go2rtc running with a new pid',
    );
    await waitUntil(async () => (await snapshotSource(sp, 'cam')) === 'go2rtc', 60_000, 'a live frame from go2rtc');
    const liveAfter = (Date.now() - killedAt) / 1000;
    assert.ok(!isAlive(old));
    // MediaMTX records on: no hole around the kill beyond the segment boundaries.
    await waitUntil(
      async () => (await segments(sp, 'cam')).some((r) => r.startMs > killedAt && !r.inProgress),
      60_000,
      'a segment recorded after the kill',
    );
    const gap = longestGap(await segments(sp, 'cam'), killedAt - 5000, Date.now());
    figures.go2rtc = { liveAfterSeconds: liveAfter, recordingGapSeconds: gap };
    assert.ok(gap < 2, `recording gap around a go2rtc kill: ${gap} s`);
    assert.equal((await status(sp, 'cam')).state, 'streaming');
    assert.deepEqual(strays(dir, ownTree(sp)), []);
  });

  it('MediaMTX: back with a new pid, the camera streams again, recording resumes, the index matches the disk', async () => {
    const old = (await engines(sp)).mediamtx.pid as number;
    const killedAt = Date.now();
    process.kill(old, 'SIGKILL');
    await waitUntil(
      async () => {
        const m = (await engines(sp)).mediamtx;
        return m.state === 'running' && m.pid !== old;
      },
      60_000,
      'MediaMTX running with a new pid',
    );
    await streamingAndRecording(sp, killedAt, 'streaming and a complete segment after the kill');
    const segs = await segments(sp, 'cam');
    const resumed = segs.find((r) => r.startMs >= killedAt);
    const gap = longestGap(segs, killedAt - 5000, Date.now());
    figures.mediamtx = { recordingResumedAfterSeconds: ((resumed?.startMs ?? 0) - killedAt) / 1000, gapSeconds: gap };
    assert.ok(gap <= 15, `recording gap around a MediaMTX kill: ${gap} s`);
    assert.ok(!isAlive(old));
    assert.equal(await snapshotSource(sp, 'cam'), 'go2rtc', 'live again through go2rtc');
    // The segment MediaMTX was writing is repaired and indexed like the others.
    await assertIndexMatchesDisk(sp, join(dir, 'media'), ['cam']);
    assert.deepEqual(strays(dir, ownTree(sp)), []);
  });

  it('an FFmpeg job (MJPEG): restarted while its viewer keeps receiving frames; gone after the viewer leaves', async () => {
    const viewer = mjpegReader(`${sp.baseUrl}/api/cameras/cam/mjpeg`);
    const mjpegJob = () =>
      descendantsOf(sp.proc.pid as number).find((p) => p.argv.includes('image2pipe') && p.argv.includes('mjpeg'));
    try {
      await waitUntil(() => viewer.frames.length >= 3 && mjpegJob() !== undefined, 60_000, 'MJPEG frames arriving');
      const job = mjpegJob() as { pid: number };
      const killedAt = Date.now();
      process.kill(job.pid, 'SIGKILL');
      await waitUntil(
        () => {
          const next = mjpegJob();
          return next !== undefined && next.pid !== job.pid && viewer.frames.some((t) => t > killedAt + 500);
        },
        60_000,
        'a new MJPEG FFmpeg and frames on the same connection',
      );
      figures.mjpeg = { framesAgainAfterSeconds: ((viewer.frames.find((t) => t > killedAt) ?? 0) - killedAt) / 1000 };
      assert.ok(!isAlive(job.pid));
    } finally {
      viewer.close();
    }
    // The viewer left: the job stops after its linger (5 s), nothing left behind.
    await waitUntil(() => mjpegJob() === undefined, 30_000, 'the MJPEG job stopped');
    assert.deepEqual(strays(dir, ownTree(sp)), []);
    assert.equal(
      descendantsOf(sp.proc.pid as number).filter((p) => p.argv.some((a) => a.endsWith('ffmpeg'))).length,
      0,
      'no FFmpeg left running',
    );
  });

  it('the server itself: the next start reaps the orphaned engines, recording resumes, the index matches the disk', async () => {
    const e = await engines(sp);
    const orphans = [e.go2rtc.pid as number, e.mediamtx.pid as number];
    const killedAt = Date.now();
    sp.proc.kill('SIGKILL');
    await sp.exited;
    // The engines usually outlive their parent (that is what the reaping is for), but one may also
    // die on its own first (SIGPIPE on its next log line to the dead server's pipe): either is fine,
    // what counts is that none is left after the next start.
    const outlived = orphans.filter((pid) => isAlive(pid)).length;
    process.stdout.write(`# engines alive after the server was killed: ${outlived} of ${orphans.length}\n`);
    sp = await start();
    await waitUntil(() => orphans.every((pid) => !isAlive(pid)), 30_000, 'the orphans reaped');
    await streamingAndRecording(sp, killedAt, 'streaming and recording again after the restart');
    const segs = await segments(sp, 'cam');
    const resumed = segs.find((r) => r.startMs >= killedAt);
    figures.server = {
      recordingResumedAfterSeconds: ((resumed?.startMs ?? 0) - killedAt) / 1000,
      gapSeconds: longestGap(segs, killedAt - 5000, Date.now()),
    };
    await assertIndexMatchesDisk(sp, join(dir, 'media'), ['cam']);
    assert.deepEqual(strays(dir, ownTree(sp)), []);
    // Nothing of this test is a child of init (an orphan) except the synthetic camera's own processes.
    const simPids = new Set(sim.pids());
    const adopted = processTable().filter(
      (p) => p.ppid === 1 && p.argv.some((a) => a.includes(dir)) && !simPids.has(p.pid),
    );
    assert.deepEqual(adopted, []);
  });
});
