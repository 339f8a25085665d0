import assert from 'node:assert/strict';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { HealthReport } from '../../server/src/http/health.js';
import { isAlive, processesMatching, waitUntil } from '../helpers/processes.js';
import { type ServerProcess, startServerProcess } from '../helpers/server-process.js';

async function waitHealth(sp: ServerProcess, pred: (h: HealthReport) => boolean, timeoutMs: number, what: string) {
  let last: HealthReport | null = null;
  await waitUntil(
    async () => {
      last = await sp.json<HealthReport>('/api/health').catch(() => null);
      return last !== null && pred(last);
    },
    timeoutMs,
    `${what} (last health: ${JSON.stringify(last)})`,
  );
  return last as unknown as HealthReport;
}

describe('server with the real engines', () => {
  let sp: ServerProcess;
  before(async () => {
    sp = await startServerProcess();
  });
  after(async () => {
    await sp?.cleanup();
  });

  it('brings go2rtc and MediaMTX to running once their APIs answer', async () => {
    const h = await waitHealth(sp, (x) => x.status === 'ok', 30_000, 'both engines running');
    assert.equal(h.engines.go2rtc.state, 'running');
    assert.equal(h.engines.mediamtx.state, 'running');
    assert.ok(h.engines.go2rtc.pid && isAlive(h.engines.go2rtc.pid));
    assert.ok(h.engines.mediamtx.pid && isAlive(h.engines.mediamtx.pid));
    // The engines really answer, on loopback, on the ports we gave them.
    const g = await fetch(`http://127.0.0.1:${sp.enginePorts.go2rtcApi}/api`);
    assert.equal(g.status, 200);
    const m = await fetch(`http://127.0.0.1:${sp.enginePorts.mediamtxApi}/v3/info`);
    assert.equal(((await m.json()) as { version: string }).version, 'v1.20.1');
    // Liveness and readiness.
    assert.equal((await fetch(`${sp.baseUrl}/api/health/live`)).status, 200);
    assert.equal((await fetch(`${sp.baseUrl}/api/health/ready`)).status, 200);
  });

  it('kill -9 of go2rtc: health says degraded, then go2rtc runs again with a new pid', async () => {
    const before = await waitHealth(sp, (x) => x.status === 'ok', 30_000, 'both engines running');
    const oldPid = before.engines.go2rtc.pid as number;
    process.kill(oldPid, 'SIGKILL');
    const degraded = await waitHealth(sp, (x) => x.status === 'degraded', 5_000, 'degraded after kill -9');
    assert.notEqual(degraded.engines.go2rtc.state, 'running');
    assert.match(degraded.reasons.join('\n'), /go2rtc/);
    assert.equal((await fetch(`${sp.baseUrl}/api/health/ready`)).status, 503);
    const back = await waitHealth(
      sp,
      (x) => x.engines.go2rtc.state === 'running' && x.engines.go2rtc.pid !== oldPid,
      20_000,
      'go2rtc running again',
    );
    assert.ok(back.engines.go2rtc.restarts >= 1);
    assert.ok(isAlive(back.engines.go2rtc.pid as number));
    assert.equal(back.engines.mediamtx.state, 'running', 'MediaMTX was not touched');
  });

  it('SIGINT: exits within 10 s and leaves no go2rtc, MediaMTX or FFmpeg process behind', async () => {
    await waitHealth(sp, (x) => x.status === 'ok', 30_000, 'both engines running');
    // Make go2rtc start an FFmpeg child: a test stream with a long-lived consumer.
    const g = `http://127.0.0.1:${sp.enginePorts.go2rtcApi}`;
    const put = await fetch(
      `${g}/api/streams?name=probe&src=${encodeURIComponent('ffmpeg:virtual?video&size=320x240#video=h264')}`,
      {
        method: 'PUT',
      },
    );
    assert.equal(put.status, 200);
    const consumer = new AbortController();
    const stream = await fetch(`${g}/api/stream.mp4?src=probe`, { signal: consumer.signal });
    const reader = stream.body?.getReader();
    await reader?.read(); // media is flowing, so FFmpeg runs
    // The engines and their children: every process whose argv names this test's dir, plus descendants.
    const isFfmpeg = (p: { argv: string[] }) => p.argv[0]?.endsWith('ffmpeg') ?? false;
    await waitUntil(() => processesMatching(sp.dir).some(isFfmpeg), 10_000, 'go2rtc to start an FFmpeg child');
    const watched = processesMatching(sp.dir).map((p) => p.pid);
    assert.ok(watched.length >= 3, 'go2rtc, MediaMTX and FFmpeg are running');

    const t0 = Date.now();
    sp.proc.kill('SIGINT');
    const exit = await Promise.race([sp.exited, new Promise<null>((r) => setTimeout(() => r(null), 10_000))]);
    consumer.abort();
    assert.ok(exit, 'the server exited within 10 s of SIGINT');
    assert.equal(exit.code, 0);
    assert.ok(Date.now() - t0 < 10_000);
    const left = watched.filter(isAlive);
    assert.deepEqual(left, [], `processes left behind: ${JSON.stringify(processesMatching(sp.dir))}`);
    assert.deepEqual(processesMatching(sp.dir), []);
  });
});

describe('an engine binary that exits at once on every start', () => {
  let sp: ServerProcess;
  after(async () => {
    await sp?.cleanup();
  });

  it('ends in failed after the restart cap, with its stderr in lastError, while the rest keeps running', async () => {
    const { mkdtemp } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const dir = await mkdtemp(join(tmpdir(), 'camstack-badbin-'));
    const bad = join(dir, 'go2rtc');
    await writeFile(bad, '#!/bin/sh\necho "fatal: cannot open config (simulated crash)" >&2\nexit 3\n');
    await chmod(bad, 0o755);
    sp = await startServerProcess({ env: { CAMSTACK_GO2RTC_BIN: bad, CAMSTACK_BACKOFF_BASE_MS: '100' } });
    const h = await waitHealth(sp, (x) => x.engines.go2rtc.state === 'failed', 30_000, 'go2rtc failed');
    assert.equal(h.status, 'degraded');
    assert.match(h.engines.go2rtc.lastError ?? '', /simulated crash/);
    assert.ok(h.engines.go2rtc.restarts >= 5, `restarted ${h.engines.go2rtc.restarts} times before failing`);
    assert.equal(h.engines.go2rtc.pid, null);
    assert.match(h.reasons.join('\n'), /go2rtc failed/);
    // Stays failed (no more restarts) while MediaMTX keeps running.
    await new Promise((r) => setTimeout(r, 1500));
    const later = await sp.json<HealthReport>('/api/health');
    assert.equal(later.engines.go2rtc.state, 'failed');
    assert.equal(later.engines.go2rtc.restarts, h.engines.go2rtc.restarts);
    assert.equal(later.engines.mediamtx.state, 'running');
  });
});

describe('a server killed with -9', () => {
  it('leaves engines behind, and the next start reaps them before starting its own', async () => {
    const first = await startServerProcess();
    try {
      const h = await waitHealth(first, (x) => x.status === 'ok', 30_000, 'both engines running');
      const enginePids = [h.engines.go2rtc.pid as number, h.engines.mediamtx.pid as number];
      first.proc.kill('SIGKILL');
      await first.exited;
      assert.ok(enginePids.every(isAlive), 'engines survive their parent being killed with -9');
      // A new server on the same data dir.
      const second = await startServerProcess({
        options: { data_dir: join(first.dir, 'data'), media_dir: join(first.dir, 'media') },
      });
      try {
        await waitUntil(() => enginePids.every((p) => !isAlive(p)), 10_000, 'orphaned engines reaped');
        await waitHealth(second, (x) => x.status === 'ok', 30_000, 'second server healthy');
      } finally {
        await second.cleanup();
      }
    } finally {
      await first.cleanup();
    }
  });
});
