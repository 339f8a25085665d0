/**
 * Fault: cameras that are never reachable — a closed port, and a "black hole" (a TCP listener
 * that accepts and never answers, like a hung camera or a firewall that lets SYNs through) — both
 * recorded 24/7, so Camstack keeps trying. There must be no busy loop: the CPU time the server and
 * its engines consume with them (from /proc utime+stime, not the wall clock) stays close to an idle
 * baseline measured in the same test, the black hole sees a handful of connection attempts, not
 * hundreds, and the status says what is going on (offline, the reason, retries, next retry).
 */
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../helpers/ports.js';
import { waitUntil } from '../helpers/processes.js';
import { type ServerProcess, startServerProcess } from '../helpers/server-process.js';
import { api, engines, status, strays, treeCpuSeconds } from './support.js';

const WINDOW_MS = 20_000;

/** CPU seconds the server's process tree uses during `ms` of wall time. */
async function cpuOver(sp: ServerProcess, ms: number): Promise<number> {
  const pid = sp.proc.pid as number;
  const before = treeCpuSeconds(pid);
  await new Promise((r) => setTimeout(r, ms));
  return treeCpuSeconds(pid) - before;
}

describe('a camera that is never reachable', () => {
  let sp: ServerProcess;
  let blackhole: Server;
  const sockets: Socket[] = [];
  let accepted = 0;

  before(async () => {
    blackhole = createServer((s) => {
      accepted += 1;
      sockets.push(s);
      s.on('error', () => undefined);
    });
    await new Promise<void>((r) => blackhole.listen(0, '127.0.0.1', r));
    sp = await startServerProcess();
    await waitUntil(
      async () => {
        const e = await engines(sp);
        return e.go2rtc.state === 'running' && e.mediamtx.state === 'running';
      },
      30_000,
      'both engines running',
    );
  });

  after(async () => {
    for (const s of sockets) s.destroy();
    blackhole?.close();
    await sp?.cleanup();
  });

  it('closed port and black hole: no busy loop (CPU time near idle), retries with backoff visible in the status', async () => {
    // Idle baseline: the same server with no camera, after start-up settled.
    await new Promise((r) => setTimeout(r, 3000));
    const idle = await cpuOver(sp, WINDOW_MS);

    const closedPort = await freePort();
    const holePort = (blackhole.address() as { port: number }).port;
    for (const [id, url] of [
      ['closed', `rtsp://127.0.0.1:${closedPort}/stream`],
      ['blackhole', `rtsp://127.0.0.1:${holePort}/stream`],
    ] as const) {
      const r = await api(sp, 'POST', '/api/cameras', {
        id,
        name: id,
        source: url,
        recording: { continuous: true },
      });
      assert.equal(r.status, 201, JSON.stringify(r.body));
    }
    for (const id of ['closed', 'blackhole']) {
      await waitUntil(
        async () => {
          const s = await status(sp, id);
          return s.state === 'offline' && (s.retries ?? 0) >= 1 && !!s.nextRetryAt;
        },
        120_000,
        `${id} offline with a retry scheduled`,
      );
    }
    const closed = await status(sp, 'closed');
    assert.match(closed.lastError ?? '', /refused/i, `closed port: ${closed.lastError}`);
    const hole = await status(sp, 'blackhole');
    assert.ok(hole.lastError, 'the black hole has a reason too');
    assert.ok(Date.parse(hole.nextRetryAt as string) > Date.now() - 1000, 'the next retry is in the future');

    const acceptedBefore = accepted;
    const faulty = await cpuOver(sp, WINDOW_MS);
    const attempts = accepted - acceptedBefore;
    const after1 = await status(sp, 'closed');
    console.log(
      `never-reachable cameras: CPU ${faulty.toFixed(2)} s per ${WINDOW_MS / 1000} s (idle ${idle.toFixed(2)} s); ` +
        `black-hole connections ${attempts} in the window; retries ${after1.retries}, next ${after1.nextRetryAt}`,
    );
    // A busy loop burns a whole core (≈ the window). Generous: 3× idle plus 10 % of a core.
    assert.ok(
      faulty <= idle * 3 + (0.1 * WINDOW_MS) / 1000,
      `CPU with unreachable cameras ${faulty.toFixed(2)} s vs idle ${idle.toFixed(2)} s`,
    );
    // MediaMTX retries every 5 s, our checks back off from 10 s: a few connections, not hundreds.
    assert.ok(attempts <= WINDOW_MS / 1000, `${attempts} connections to the black hole in ${WINDOW_MS / 1000} s`);
    assert.ok((after1.retries ?? 0) >= (closed.retries ?? 0), 'retries only grow while it fails');

    // No processes pile up: only the two engines run for this server.
    const e = await engines(sp);
    assert.deepEqual(strays(sp.dir, [e.go2rtc.pid as number, e.mediamtx.pid as number]), []);
  });
});
