/**
 * `npm run bench soak`: a long run that looks for leaks. Four 720p cameras (three recorded 24/7, one
 * on demand) behind the compiled server (server/dist, as in the add-on), while live viewers join
 * and leave every few seconds in real Chromium (WebRTC, MSE over our WebSocket, MJPEG, in turn),
 * a snapshot is taken every 10 s, an SSE listener comes and goes every 30 s, and a clip is saved
 * every minute. Every 15 s it samples the resident memory, open file descriptors and threads of
 * our server and of each engine from /proc.
 *
 * Reported: growth after the warm-up (median of the last minute − median of the minute ending the
 * warm-up), and the least-squares slope over the same span in MiB per hour, for each process. The
 * anchor is each process's own memory at the end of the warm-up (growth is also given as a % of it).
 * Targets: server RSS growth < 10 MB after warm-up; file descriptors flat.
 *
 * With BENCH_SOAK_HEAP=1 the server also writes a V8 heap snapshot at the end of the warm-up and at
 * the end (`--heapsnapshot-signal`; each runs a full GC first), so the live heap is compared
 * without the garbage collector's timing, and the constructors that grew are listed.
 *
 * Env: BENCH_SOAK_MINUTES (total, default 30), BENCH_SOAK_WARMUP_MINUTES (default 5),
 * BENCH_SOAK_CHURN_MS (default 3000), BENCH_SOAK_HEAP (0/1), BENCH_SOAK_NODE_OPTIONS (flags for the
 * server's Node, e.g. `--max-semi-space-size=4`). Results go to docs/benchmarks.md ("Soak").
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SyntheticCameraServer } from '../scripts/synthetic-cameras.js';
import {
  closeSession,
  launchChromium,
  openLivePage,
  playMse,
  playWebrtc,
  watchMjpeg,
} from '../test/helpers/browser.js';
import { freePorts } from '../test/helpers/ports.js';
import { startServerProcess } from '../test/helpers/server-process.js';
import { type HeapSummary, heapGrowth, summarizeHeap, takeHeapSnapshot } from './lib/heap.js';
import { checkSegments, listRecordings, sourceClip, waitForSegments } from './lib/media.js';
import { fdCount, ffmpegJobs, mib, rssBytes, serverPids, threadCount } from './lib/procs.js';
import { loadavg, machineLine } from './lib/report.js';

const MINUTES = Number(process.env.BENCH_SOAK_MINUTES ?? 30);
const WARMUP_MIN = Number(process.env.BENCH_SOAK_WARMUP_MINUTES ?? 5);
const CHURN_MS = Number(process.env.BENCH_SOAK_CHURN_MS ?? 3000);
const SAMPLE_MS = 15_000;
const SEGMENT_S = 10;
const MAX_OPEN = 4;
const SPEC = { width: 1280, height: 720, fps: 25, kbps: 2000, gopSeconds: 2 };
const HEAP = process.env.BENCH_SOAK_HEAP === '1';
const heapDir = HEAP ? mkdtempSync(join(tmpdir(), 'camstack-heap-')) : null;

const root = fileURLToPath(new URL('..', import.meta.url));
process.stdout.write('building the server (npm run build)…\n');
execFileSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });

const clip = sourceClip(SPEC);
const [rtspPort, apiPort] = (await freePorts(2)) as [number, number];
const sim = new SyntheticCameraServer({ rtspPort, apiPort });
await sim.start();
const recorded = ['front', 'back', 'garage'];
const onDemand = 'porch';
const all = [...recorded, onDemand];
for (const name of all) await sim.addCamera({ name, loopFile: clip, audio: false });
const sp = await startServerProcess({
  entry: 'dist',
  options: {
    log_level: 'info',
    cameras: all.map((id) => ({
      id,
      name: id,
      source: sim.url(id),
      recording: { continuous: recorded.includes(id) },
    })),
  },
  env: {
    CAMSTACK_SEGMENT_SECONDS: String(SEGMENT_S),
    NODE_OPTIONS: [
      process.env.BENCH_SOAK_NODE_OPTIONS ?? '',
      heapDir ? `--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${heapDir}` : '',
    ]
      .join(' ')
      .trim(),
  },
});
const browser = await launchChromium();

type Key = 'node' | 'go2rtc' | 'mediamtx';
const KEYS: Key[] = ['node', 'go2rtc', 'mediamtx'];
interface Sample {
  t: number;
  rss: Record<Key, number>;
  fds: Record<Key, number>;
  threads: Record<Key, number>;
  ffmpeg: number;
  open: number;
}

const counts = {
  joins: 0,
  leaves: 0,
  joinFailures: 0,
  snapshots: 0,
  snapshotFailures: 0,
  clips: 0,
  clipFailures: 0,
  sse: 0,
};
const failures: string[] = [];
const note = (what: string, err: unknown): void => {
  if (failures.length < 20) failures.push(`${new Date().toISOString()} ${what}: ${String(err).slice(0, 200)}`);
};

try {
  await waitForSegments(sp.baseUrl, recorded, 180_000);
  const pids = serverPids(sp.proc.pid, sp.dir);
  const live = await openLivePage(browser, `${sp.baseUrl}/api/health`);
  const open: string[] = [];
  const samples: Sample[] = [];
  const t0 = Date.now();
  const end = t0 + MINUTES * 60_000;
  const warmEnd = t0 + WARMUP_MIN * 60_000;
  const load0 = loadavg();
  process.stdout.write(`soaking ${MINUTES} min (warm-up ${WARMUP_MIN} min), load ${load0}…\n`);

  const sample = (): void => {
    const rec = <T>(f: (pid: number) => T | null): Record<Key, T> =>
      Object.fromEntries(KEYS.map((k) => [k, f(pids[k]) ?? 0])) as Record<Key, T>;
    samples.push({
      t: Date.now(),
      rss: rec(rssBytes),
      fds: rec(fdCount),
      threads: rec(threadCount),
      ffmpeg: ffmpegJobs(sp.dir).length,
      open: open.length,
    });
  };

  let turn = 0;
  const join = async (): Promise<void> => {
    const camera = all[turn % all.length] as string;
    const mode = (['webrtc', 'mse', 'mjpeg'] as const)[Math.floor(turn / all.length) % 3];
    turn++;
    try {
      const session =
        mode === 'webrtc'
          ? (
              await playWebrtc(live.page, {
                url: `/api/cameras/${camera}/webrtc`,
                keepOpen: true,
                timeoutMs: 30_000,
                countMs: 200,
              })
            ).session
          : mode === 'mse'
            ? (
                await playMse(live.page, {
                  url: `/api/cameras/${camera}/ws`,
                  keepOpen: true,
                  timeoutMs: 30_000,
                  countMs: 200,
                })
              ).session
            : (
                await watchMjpeg(live.page, {
                  url: `/api/cameras/${camera}/mjpeg`,
                  keepOpen: true,
                  timeoutMs: 30_000,
                  samples: 2,
                })
              ).session;
      if (session) open.push(session);
      counts.joins++;
    } catch (err) {
      counts.joinFailures++;
      note(`${mode} ${camera}`, err);
    }
  };
  const leave = async (): Promise<void> => {
    const session = open.shift();
    if (!session) return;
    await closeSession(live.page, session).catch((err) => note('close', err));
    counts.leaves++;
  };

  let nextSample = 0;
  let nextSnapshot = 0;
  let nextSse = 0;
  let nextClip = Date.now() + 30_000;
  let clipTurn = 0;
  const heaps: HeapSummary[] = [];
  const rssAfterSnapshot: number[] = [];
  const snapshotHeap = async (): Promise<void> => {
    if (!heapDir) return;
    const file = await takeHeapSnapshot(pids.node, heapDir);
    rssAfterSnapshot.push(rssBytes(pids.node) ?? 0);
    heaps.push(summarizeHeap(file));
    rmSync(file, { force: true });
  };
  while (Date.now() < end) {
    const now = Date.now();
    if (HEAP && heaps.length === 0 && now >= warmEnd) await snapshotHeap();
    if (now >= nextSample) {
      sample();
      nextSample = now + SAMPLE_MS;
    }
    if (now >= nextSnapshot) {
      nextSnapshot = now + 10_000;
      const cam = all[counts.snapshots % all.length] as string;
      await fetch(`${sp.baseUrl}/api/cameras/${cam}/snapshot.jpg?maxAge=0`, { signal: AbortSignal.timeout(20_000) })
        .then(async (r) => {
          await r.arrayBuffer();
          if (!r.ok) throw new Error(`HTTP ${r.status}`);
          counts.snapshots++;
        })
        .catch((err) => {
          counts.snapshotFailures++;
          note(`snapshot ${cam}`, err);
        });
    }
    if (now >= nextSse) {
      nextSse = now + 30_000;
      const ctrl = new AbortController();
      setTimeout(() => ctrl.abort(), 10_000);
      fetch(`${sp.baseUrl}/api/events`, { signal: ctrl.signal })
        .then(async (r) => {
          counts.sse++;
          for await (const _ of r.body ?? []) {
            // drained until the abort
          }
        })
        .catch(() => {});
    }
    if (now >= nextClip) {
      nextClip = now + 60_000;
      const cam = recorded[clipTurn++ % recorded.length] as string;
      await fetch(`${sp.baseUrl}/api/cameras/${cam}/clips`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ preRoll: 5, duration: 5 }),
        signal: AbortSignal.timeout(20_000),
      })
        .then(async (r) => {
          const body = await r.text();
          if (!r.ok) throw new Error(`HTTP ${r.status} ${body}`);
          counts.clips++;
        })
        .catch((err) => {
          counts.clipFailures++;
          note(`clip ${cam}`, err);
        });
    }
    if (open.length >= MAX_OPEN || (open.length > 0 && Math.random() < 0.4)) await leave();
    else await join();
    await new Promise((r) => setTimeout(r, CHURN_MS));
  }
  while (open.length) await leave();
  await new Promise((r) => setTimeout(r, 5000));
  sample();
  await snapshotHeap();
  const t1 = Date.now();
  const load1 = loadavg();
  await live.close();

  // Recording stayed whole through the churn, and every clip asked for exists.
  await new Promise((r) => setTimeout(r, (SEGMENT_S + 3) * 1000));
  const { inWindow, gaps } = checkSegments(await listRecordings(sp.baseUrl, 'segment'), recorded, t0, t1, SEGMENT_S);
  const clips = (await listRecordings(sp.baseUrl, 'clip')).filter((c) => Date.parse(c.start) >= t0 - 10_000);

  const median = (xs: number[]): number => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length ? ((s[Math.floor((s.length - 1) / 2)] ?? 0) + (s[Math.ceil((s.length - 1) / 2)] ?? 0)) / 2 : 0;
  };
  const after = samples.filter((s) => s.t >= warmEnd);
  const warmWindow = samples.filter((s) => s.t >= warmEnd - 60_000 && s.t <= warmEnd);
  const lastWindow = samples.filter((s) => s.t >= t1 - 65_000);
  const slope = (k: Key): number => {
    // least squares of RSS (MiB) over time (h) after the warm-up
    const xs = after.map((s) => (s.t - warmEnd) / 3_600_000);
    const ys = after.map((s) => s.rss[k] / 2 ** 20);
    const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
    const my = ys.reduce((a, b) => a + b, 0) / ys.length;
    const num = xs.reduce((a, x, i) => a + (x - mx) * ((ys[i] ?? 0) - my), 0);
    const den = xs.reduce((a, x) => a + (x - mx) ** 2, 0);
    return den ? num / den : 0;
  };
  const lines = [
    '',
    `machine: ${machineLine()}; load ${load0} → ${load1}`,
    `server Node flags: ${process.env.BENCH_SOAK_NODE_OPTIONS || '(none)'}`,
    `run: ${((t1 - t0) / 60_000).toFixed(1)} min, warm-up ${WARMUP_MIN} min, ${samples.length} samples every ${SAMPLE_MS / 1000} s`,
    `activity: ${counts.joins} viewers joined / ${counts.leaves} left (${counts.joinFailures} failed to play), ${counts.snapshots} snapshots (${counts.snapshotFailures} failed), ${counts.sse} SSE listeners, ${counts.clips} clips asked (${counts.clipFailures} refused), ${clips.length} clips on record`,
    '',
    '| process | RSS at warm-up end MiB (anchor) | RSS at end MiB | growth MiB | growth % | slope MiB/h | fds after warm-up (min–max) | threads (min–max) |',
    '|---|---|---|---|---|---|---|---|',
    ...KEYS.map((k) => {
      const w = median(warmWindow.map((s) => s.rss[k]));
      const e = median(lastWindow.map((s) => s.rss[k]));
      const fd = after.map((s) => s.fds[k]);
      const th = after.map((s) => s.threads[k]);
      return `| ${k === 'node' ? 'Camstack server' : k} | ${mib(w)} | ${mib(e)} | ${mib(e - w)} | ${(((e - w) / w) * 100).toFixed(1)} % | ${slope(k).toFixed(1)} | ${Math.min(...fd)}–${Math.max(...fd)} | ${Math.min(...th)}–${Math.max(...th)} |`;
    }),
    '',
    ...(heaps.length === 2
      ? [
          `server live heap after a full GC (heap snapshots): ${mib(heaps[0]?.totalBytes ?? 0)} MiB at warm-up end → ${mib(heaps[1]?.totalBytes ?? 0)} MiB at the end (${mib((heaps[1]?.totalBytes ?? 0) - (heaps[0]?.totalBytes ?? 0))} MiB); RSS right after each snapshot ${rssAfterSnapshot.map((r) => mib(r)).join(' → ')} MiB`,
          'largest growth by constructor (bytes, count):',
          ...heapGrowth(heaps[0] as HeapSummary, heaps[1] as HeapSummary).map(
            (g) => `  ${g.key.padEnd(50)} ${(g.bytes / 1024).toFixed(1)} KiB  ${g.count >= 0 ? '+' : ''}${g.count}`,
          ),
        ]
      : []),
    `FFmpeg jobs running at the end (no viewers): ${samples.at(-1)?.ffmpeg ?? '?'}`,
    `segments in the run: ${inWindow}; dropped/gaps: ${gaps.length === 0 ? 'none' : gaps.join('; ')}`,
    `failures (first 20): ${failures.length === 0 ? 'none' : `\n  ${failures.join('\n  ')}`}`,
    '',
    'samples every 5 min (server RSS / go2rtc RSS / MediaMTX RSS MiB; server / go2rtc / MediaMTX fds; open viewers):',
    ...samples
      .filter((_, i) => i % Math.max(1, Math.round(300_000 / SAMPLE_MS)) === 0 || i === samples.length - 1)
      .map(
        (s) =>
          `  ${((s.t - t0) / 60_000).toFixed(1).padStart(5)} min  ${mib(s.rss.node)} / ${mib(s.rss.go2rtc)} / ${mib(s.rss.mediamtx)}  fds ${s.fds.node} / ${s.fds.go2rtc} / ${s.fds.mediamtx}  viewers ${s.open}`,
      ),
    '',
  ];
  process.stdout.write(lines.join('\n'));
} finally {
  await browser.close().catch(() => {});
  await sp.cleanup();
  await sim.stop();
  if (heapDir) rmSync(heapDir, { recursive: true, force: true });
}
