/**
 * `npm run bench snapshot`: snapshot latency through Camstack (cached and cold) against go2rtc's
 * frame API called directly, all measured in the same run on the real engines and a synthetic
 * camera (1280x720, 10 fps, 2 s GOP). Targets: cached p50 ≤ 20 ms and ≥ 10× faster than the
 * direct frame API. Results go to docs/benchmarks.md ("Snapshots").
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { SyntheticCameraServer } from '../scripts/synthetic-cameras.js';
import { isJpeg } from '../server/src/snapshots/jpeg.js';
import { freePorts } from '../test/helpers/ports.js';
import { waitUntil } from '../test/helpers/processes.js';
import { startServerProcess } from '../test/helpers/server-process.js';

const COLD_RUNS = Number(process.env.BENCH_SNAPSHOT_COLD ?? 12);
const CACHED_RUNS = Number(process.env.BENCH_SNAPSHOT_CACHED ?? 300);

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

interface Stats {
  name: string;
  n: number;
  p50: number;
  p95: number;
  mean: number;
  bytes: number;
}

function summarise(name: string, samples: number[], bytes: number): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
  return { name, n: samples.length, p50: percentile(sorted, 50), p95: percentile(sorted, 95), mean, bytes };
}

/** One GET, timed to the last byte of the body. Returns ms and the response's snapshot source. */
async function timed(url: string): Promise<{ ms: number; bytes: number; source: string | null }> {
  const t0 = performance.now();
  const res = await fetch(url, { signal: AbortSignal.timeout(30_000) });
  const body = Buffer.from(await res.arrayBuffer());
  const ms = performance.now() - t0;
  if (res.status !== 200 || !isJpeg(body)) throw new Error(`${url} answered ${res.status} (${body.length} bytes)`);
  return { ms, bytes: body.length, source: res.headers.get('x-snapshot-source') };
}

function cpuModel(): string {
  try {
    return /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

function loadavg(): string {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  } catch {
    return 'unknown';
  }
}

const fmt = (n: number) => (n >= 100 ? n.toFixed(0) : n.toFixed(1));

const loadAtStart = loadavg();
const [rtspPort, apiPort] = (await freePorts(2)) as [number, number];
const sim = new SyntheticCameraServer({ rtspPort, apiPort });
await sim.start();
await sim.addCamera({ name: 'bench', width: 1280, height: 720, fps: 10, gopSeconds: 2, audio: false });
const sp = await startServerProcess({
  options: { log_level: 'warning' },
  env: { CAMSTACK_STATUS_POLL_MS: '500', CAMSTACK_RECONCILE_MS: '1000' },
});
try {
  const add = await fetch(`${sp.baseUrl}/api/cameras`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ id: 'bench', name: 'Bench', source: sim.url('bench') }),
  });
  if (add.status !== 201) throw new Error(`adding the camera failed: ${add.status} ${await add.text()}`);
  await waitUntil(
    async () =>
      ((await (await fetch(`${sp.baseUrl}/api/cameras/bench/status`)).json()) as { codec: string | null }).codec !==
      null,
    30_000,
    'the camera verified',
  );
  const ours = `${sp.baseUrl}/api/cameras/bench/snapshot.jpg`;
  const direct = `http://127.0.0.1:${sp.enginePorts.go2rtcApi}/api/frame.jpeg?src=bench`;
  await timed(`${ours}?maxAge=0`); // warm-up: the camera is being pulled from here on

  // Cold (a new capture every time) and the direct frame API, interleaved so drift hits both alike.
  const cold: number[] = [];
  const directMs: number[] = [];
  let coldBytes = 0;
  let directBytes = 0;
  for (let i = 0; i < COLD_RUNS; i++) {
    const d = await timed(direct);
    directMs.push(d.ms);
    directBytes = d.bytes;
    const c = await timed(`${ours}?maxAge=0`);
    if (c.source === 'cache') throw new Error('maxAge=0 was served from the cache');
    cold.push(c.ms);
    coldBytes = c.bytes;
  }

  // The HTTP floor of the same server: a route that does nothing (explains noise on a busy machine).
  const floor: number[] = [];
  for (let i = 0; i < CACHED_RUNS; i++) {
    const t0 = performance.now();
    await (await fetch(`${sp.baseUrl}/api/health/live`)).arrayBuffer();
    floor.push(performance.now() - t0);
  }

  const cached: number[] = [];
  let cachedBytes = 0;
  await timed(`${ours}?maxAge=600000`);
  for (let i = 0; i < CACHED_RUNS; i++) {
    const c = await timed(`${ours}?maxAge=600000`);
    if (c.source !== 'cache') throw new Error(`expected a cache hit, got ${c.source}`);
    cached.push(c.ms);
    cachedBytes = c.bytes;
  }

  const rows = [
    summarise('go2rtc frame API, direct (anchor)', directMs, directBytes),
    summarise('Camstack, cold (maxAge=0)', cold, coldBytes),
    summarise('Camstack, cached', cached, cachedBytes),
    summarise('Camstack GET /api/health/live (HTTP floor)', floor, 0),
  ];
  const [anchor, coldStats, cachedStats] = rows as [Stats, Stats, Stats];
  const out: string[] = [];
  out.push(`machine: ${availableParallelism()} CPUs, ${cpuModel()}, Node ${process.version}`);
  out.push(`load average at start: ${loadAtStart}; at end: ${loadavg()}`);
  out.push('camera: synthetic 1280x720, 10 fps, 2 s GOP, H.264; snapshots full size');
  out.push('');
  out.push('| path | n | p50 ms | p95 ms | mean ms | JPEG bytes |');
  out.push('|---|---|---|---|---|---|');
  for (const r of rows)
    out.push(`| ${r.name} | ${r.n} | ${fmt(r.p50)} | ${fmt(r.p95)} | ${fmt(r.mean)} | ${r.bytes} |`);
  out.push('');
  const speedup = anchor.p50 / cachedStats.p50;
  out.push(
    `cached p50 vs direct p50: ${speedup.toFixed(0)}x faster (target >= 10x: ${speedup >= 10 ? 'met' : 'MISSED'})`,
  );
  out.push(`cached p50: ${fmt(cachedStats.p50)} ms (target <= 20 ms: ${cachedStats.p50 <= 20 ? 'met' : 'MISSED'})`);
  out.push(
    `cold p50 / direct p50: ${(coldStats.p50 / anchor.p50).toFixed(2)} (Camstack's overhead on a fresh capture)`,
  );
  process.stdout.write(`${out.join('\n')}\n`);
} finally {
  await sp.cleanup();
  await sim.stop();
}
