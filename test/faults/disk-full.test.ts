/**
 * Fault: the media disk fills up. The media folder is a real small file system (a 40 MB tmpfs;
 * a loop-mounted ext4 image where tmpfs cannot be mounted), filled with a filler file next to the
 * recordings, while a 4 Mbit/s camera records 24/7.
 *
 * - With a storage cap below what is free, retention deletes the oldest recordings and the disk
 *   never fills (the normal case).
 * - Without a cap, recording stops cleanly before the disk is full, says why in the camera's status
 *   and its MQTT state, keeps every saved segment intact (ffprobe reads each one), and resumes by
 *   itself once space returns (the filler is deleted).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SyntheticCameraServer } from '../../scripts/synthetic-cameras.js';
import { type Mosquitto, type Recorder, recorder, startMosquitto } from '../helpers/mosquitto.js';
import { freePorts } from '../helpers/ports.js';
import { processesMatching, waitUntil } from '../helpers/processes.js';
import { type ServerProcess, startServerProcess } from '../helpers/server-process.js';
import { assertIndexMatchesDisk, fixtureClip, segments, status } from './support.js';

const DISK_MB = 40;

function freeBytes(dir: string): number {
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
}

/** Mounts a small file system at `mnt`: tmpfs, else an ext4 image on a loop device. */
function mountSmallDisk(mnt: string, scratch: string): string {
  mkdirSync(mnt, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${DISK_MB}m`, 'tmpfs', mnt], { stdio: 'pipe' });
    return 'tmpfs';
  } catch (tmpfsErr) {
    try {
      const img = join(scratch, 'disk.img');
      execFileSync('truncate', ['-s', `${DISK_MB}M`, img]);
      execFileSync('mkfs.ext4', ['-q', '-F', img], { stdio: 'pipe' });
      execFileSync('mount', ['-o', 'loop', img, mnt], { stdio: 'pipe' });
      return 'ext4 on a loop device';
    } catch (loopErr) {
      throw new Error(
        `this test needs to mount a ${DISK_MB} MB file system (run it as root, or in a container allowed to ` +
          `mount): tmpfs failed (${String(tmpfsErr)}), a loop-mounted ext4 image failed (${String(loopErr)})`,
      );
    }
  }
}

function stateField(payload: Buffer, field: string): unknown {
  try {
    return (JSON.parse(payload.toString('utf8')) as Record<string, unknown>)[field];
  } catch {
    return undefined;
  }
}

function fill(dir: string, name: string, leaveBytes: number): void {
  const mb = Math.floor((freeBytes(dir) - leaveBytes) / 1048576);
  if (mb > 0) execFileSync('dd', ['if=/dev/zero', `of=${join(dir, name)}`, 'bs=1M', `count=${mb}`], { stdio: 'pipe' });
}

describe('media disk full', () => {
  let sim: SyntheticCameraServer;
  let broker: Mosquitto;
  let dir: string;
  let mnt: string;
  let mounted = false;
  const servers: ServerProcess[] = [];
  const figures: Record<string, unknown> = {};

  const start = async (sub: string, options: Record<string, unknown>): Promise<ServerProcess> => {
    const sp = await startServerProcess({
      options: {
        media_dir: join(mnt, sub),
        data_dir: join(dir, `data-${sub}`),
        storage_min_free_percent: 0,
        cameras: [{ id: 'cam', name: 'Cam', source: sim.url('cam'), recording: { continuous: true } }],
        ...options,
      },
      env: {
        CAMSTACK_SEGMENT_SECONDS: '2',
        CAMSTACK_RECORDING_SCAN_MS: '500',
        CAMSTACK_RECORDING_FULL_SCAN_MS: '2000',
        CAMSTACK_MQTT_RECONNECT_MS: '200',
      },
    });
    servers.push(sp);
    await waitUntil(
      async () => (await segments(sp, 'cam')).filter((s) => !s.inProgress).length >= 2,
      60_000,
      'two complete segments',
    );
    return sp;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'camstack-diskfull-'));
    mnt = join(dir, 'media');
    figures.fileSystem = mountSmallDisk(mnt, dir);
    mounted = true;
    broker = await startMosquitto();
    const [rtspPort, apiPort] = (await freePorts(2)) as [number, number];
    sim = new SyntheticCameraServer({ rtspPort, apiPort });
    await sim.start();
    await sim.addCamera({
      name: 'cam',
      loopFile: fixtureClip({ width: 640, height: 360, fps: 10, bitrateKbps: 4000 }),
    });
  });

  after(async () => {
    for (const sp of servers) await sp.cleanup();
    for (const p of processesMatching(dir)) process.kill(p.pid, 'SIGKILL');
    await sim?.stop();
    await broker?.cleanup();
    if (mounted) {
      try {
        execFileSync('umount', [mnt], { stdio: 'pipe' });
      } catch {
        execFileSync('umount', ['-l', mnt], { stdio: 'pipe' });
      }
    }
    rmSync(dir, { recursive: true, force: true });
    console.log(`disk full: ${JSON.stringify(figures)}`);
  });

  it('a storage cap below the free space: the oldest recordings go first and the disk never fills', async () => {
    const capBytes = 6e6;
    // Leave 12 MB free: recording more than that proves the cap, not the disk, set the limit.
    fill(mnt, 'filler-cap', 12 * 1048576);
    const freeAtStart = freeBytes(mnt);
    const sp = await start('capped', { storage_max_gb: capBytes / 1e9 });
    const seen = new Map<string, number>();
    let minFree = Number.POSITIVE_INFINITY;
    let firstId = '';
    await waitUntil(
      async () => {
        minFree = Math.min(minFree, freeBytes(mnt));
        const s = await status(sp, 'cam');
        assert.equal(s.recordingError, null, 'recording never paused');
        for (const seg of await segments(sp, 'cam')) {
          firstId ||= seg.id;
          seen.set(seg.id, Math.max(seen.get(seg.id) ?? 0, seg.size));
        }
        const written = [...seen.values()].reduce((a, b) => a + b, 0);
        return written > freeAtStart + 2e6;
      },
      180_000,
      'more recorded than the disk had free',
    );
    const now = await segments(sp, 'cam');
    const kept = now.filter((s) => !s.inProgress).reduce((a, s) => a + s.size, 0);
    figures.cap = {
      capBytes,
      keptBytes: kept,
      minFreeBytes: minFree,
      written: [...seen.values()].reduce((a, b) => a + b, 0),
    };
    assert.ok(!now.some((s) => s.id === firstId), 'the oldest segment was deleted');
    assert.ok(kept <= capBytes, `complete recordings ${kept} B within the cap ${capBytes} B`);
    assert.ok(minFree > 1e6, `free space stayed above 1 MB (lowest ${minFree} B)`);
    // The camera pauses so retention stops deleting while the index is compared with the disk.
    await sim.pause('cam');
    await waitUntil(async () => !(await segments(sp, 'cam')).some((s) => s.inProgress), 30_000, 'recording closed');
    await assertIndexMatchesDisk(sp, join(mnt, 'capped'), ['cam']);
    await sim.resume('cam');
    await sp.cleanup();
    rmSync(join(mnt, 'filler-cap'));
    rmSync(join(mnt, 'capped'), { recursive: true, force: true });
  });

  it('no cap: recording stops cleanly with the reason in the status and MQTT, saved segments intact, resumes when space returns', async () => {
    const sp = await start('full', {
      storage_max_gb: 0,
      mqtt_host: '127.0.0.1',
      mqtt_port: broker.port,
    });
    const rec: Recorder = await recorder(broker.url, ['camstack/camera/cam/state']);
    try {
      // Leave 3 MB: the camera's own recording runs the disk down to the reserve.
      fill(mnt, 'filler', 3 * 1048576);
      const filledAt = Date.now();
      await waitUntil(async () => (await status(sp, 'cam')).recordingError !== null, 60_000, 'recording paused');
      const paused = await status(sp, 'cam');
      figures.pausedAfterSeconds = (Date.now() - filledAt) / 1000;
      assert.match(paused.recordingError ?? '', /media disk full/);
      assert.equal(paused.recording, false);
      assert.equal(paused.state, 'streaming', 'live view goes on');
      const mqttState = await rec.waitFor(
        (m) => /media disk full/.test(String(stateField(m.payload, 'recording_error'))),
        30_000,
        'MQTT state with the recording error',
      );
      assert.ok(mqttState);

      // Stopped cleanly: nothing grows any more, the disk is not at 0, every saved segment plays.
      await new Promise((r) => setTimeout(r, 3000));
      const before = freeBytes(mnt);
      await new Promise((r) => setTimeout(r, 3000));
      figures.freeWhilePaused = freeBytes(mnt);
      assert.ok(freeBytes(mnt) > 0 && freeBytes(mnt) >= before, 'nothing written while paused');
      assert.ok(!(await segments(sp, 'cam')).some((s) => s.inProgress), 'no segment left open');
      await assertIndexMatchesDisk(sp, join(mnt, 'full'), ['cam']);

      // Space returns: recording resumes by itself, the error clears everywhere.
      const freedAt = Date.now();
      rmSync(join(mnt, 'filler'));
      await waitUntil(
        async () => {
          const s = await status(sp, 'cam');
          const resumed = (await segments(sp, 'cam')).some((seg) => seg.startMs >= freedAt && !seg.inProgress);
          return s.recordingError === null && s.recording && resumed;
        },
        60_000,
        'recording again after space returned',
      );
      const resumedSeg = (await segments(sp, 'cam')).find((seg) => seg.startMs >= freedAt);
      figures.resumedAfterSeconds = ((resumedSeg?.startMs ?? 0) - freedAt) / 1000;
      await rec.waitFor(
        (m) => m.at >= freedAt && stateField(m.payload, 'recording_error') === null,
        30_000,
        'MQTT state without the error',
      );
      await assertIndexMatchesDisk(sp, join(mnt, 'full'), ['cam']);
    } finally {
      await rec.close();
    }
  });
});
