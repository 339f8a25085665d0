import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify from 'fastify';
import { initialStatus } from '../../server/src/cameras/status.js';
import { EventBus, type ProcessState } from '../../server/src/events/bus.js';
import { createLogger } from '../../server/src/log/logger.js';
import { SecretRedactor } from '../../server/src/log/redact.js';
import {
  CLK_TCK,
  cpuPercent,
  descendants,
  parseStat,
  parseStatusRss,
  readGroupStats,
  readProcStats,
} from '../../server/src/metrics/proc-stats.js';
import { type FfmpegProgress, isProgressLine, ProgressParser } from '../../server/src/metrics/progress.js';
import { MetricsRegistry } from '../../server/src/metrics/registry.js';
import { metricsRoutes } from '../../server/src/metrics/routes.js';
import { type MetricsSnapshot, ProcessSampler, type SampledProcess } from '../../server/src/metrics/sampler.js';
import { ManagedProcess } from '../../server/src/supervisor/managed-process.js';
import { waitUntil } from '../helpers/processes.js';

/** Spawns a detached child (own process group) and kills the whole group when the test ends. */
function spawnChild(t: TestContext, command: string, args: string[]): ChildProcess & { pid: number } {
  const child = spawn(command, args, { stdio: 'ignore', detached: true });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not spawn ${command}`);
  t.after(() => {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  });
  return Object.assign(child, { pid });
}

function cmdline(pid: number): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return [];
  }
}

/** The sample value of one series in Prometheus text, or null when the series is absent. */
function seriesValue(text: string, series: string): number | null {
  for (const line of text.split('\n')) {
    if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1));
  }
  return null;
}

function fakeProcess(name: string, pid: number | null, state: ProcessState = 'running', restarts = 0): SampledProcess {
  return { name, pid, state, restarts };
}

describe('proc-stats (pure parts)', () => {
  it('parses /proc/<pid>/stat with spaces and parentheses in the command name', () => {
    const text =
      '4242 (my (odd) proc) S 1 4242 4242 0 -1 4194560 500 0 0 0 250 75 3 2 20 0 7 0 123456 10000000 900 ' +
      '18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 17 3 0 0 0 0 0';
    const s = parseStat(text);
    assert.ok(s);
    assert.equal(s.pid, 4242);
    assert.equal(s.comm, 'my (odd) proc');
    assert.equal(s.state, 'S');
    assert.equal(s.ppid, 1);
    assert.equal(s.utimeTicks, 250);
    assert.equal(s.stimeTicks, 75);
    assert.equal(s.cutimeTicks, 3);
    assert.equal(s.cstimeTicks, 2);
    assert.equal(s.threads, 7);
    assert.equal(s.startTimeTicks, 123456);
    assert.equal(parseStat('garbage'), null);
    assert.equal(parseStatusRss('Name:\tsleep\nVmRSS:\t    1234 kB\nThreads:\t1\n'), 1234 * 1024);
    assert.equal(parseStatusRss('Name:\tkthreadd\n'), 0);
    assert.equal(CLK_TCK, 100);
  });

  it('builds the descendant tree from ppids', () => {
    const table = [
      { pid: 1, ppid: 0 },
      { pid: 10, ppid: 1 },
      { pid: 11, ppid: 10 },
      { pid: 12, ppid: 11 },
      { pid: 13, ppid: 1 },
      { pid: 14, ppid: 10 },
    ];
    assert.deepEqual(descendants(10, table), [10, 11, 14, 12]);
    assert.deepEqual(descendants(99, table), [99]);
  });

  it('computes CPU percent between samples of the same process only', () => {
    const a = { pid: 5, startTime: 100, cpuSecondsTotal: 1 };
    assert.equal(cpuPercent(a, { ...a, cpuSecondsTotal: 1.5 }, 1), 50);
    assert.equal(cpuPercent(a, { ...a, cpuSecondsTotal: 5 }, 2), 200);
    assert.equal(cpuPercent(null, a, 1), null);
    assert.equal(cpuPercent(a, a, 0), null);
    assert.equal(cpuPercent(a, { ...a, startTime: 200 }, 1), null, 'pid reused');
    assert.equal(cpuPercent(a, { ...a, cpuSecondsTotal: 0.5 }, 1), 0, 'never negative');
  });
});

describe('proc-stats against real processes', { timeout: 60_000 }, () => {
  it('reads rss, fds, threads and start time of a sleeping child, and null once it is gone', async (t) => {
    const child = spawnChild(t, 'sleep', ['30']);
    await waitUntil(() => cmdline(child.pid)[0] === 'sleep', 5000, 'sleep exec');
    const stats = await readProcStats(child.pid);
    assert.ok(stats);
    assert.equal(stats.pid, child.pid);
    assert.ok(stats.rssBytes > 0, `rss ${stats.rssBytes}`);
    assert.ok(stats.openFds >= 3, `fds ${stats.openFds}`);
    assert.ok(stats.threads >= 1);
    assert.ok(stats.startTime > 0);
    assert.ok(stats.cpuSecondsTotal >= 0);

    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    assert.equal(await readProcStats(child.pid), null);
    assert.equal(await readGroupStats(child.pid), null);
    assert.equal(await readProcStats(-1), null);
  });

  it('sees the CPU seconds of a busy child increase', async (t) => {
    const child = spawnChild(t, process.execPath, ['-e', 'for(;;){}']);
    const first = await readProcStats(child.pid);
    assert.ok(first);
    let last = first;
    await waitUntil(
      async () => {
        const s = await readProcStats(child.pid);
        if (s !== null) last = s;
        return last.cpuSecondsTotal >= first.cpuSecondsTotal + 0.2;
      },
      20_000,
      'busy child to accumulate CPU time',
    );
    assert.ok(last.cpuSecondsTotal > first.cpuSecondsTotal);
    const pct = cpuPercent(first, last, 1);
    assert.ok(pct !== null && pct > 0);
  });

  it('sums a process and its grandchild into the group', async (t) => {
    // sh → node (busy grandchild); sh itself stays idle.
    const child = spawnChild(t, '/bin/sh', ['-c', '"$0" -e "for(;;){}" & wait', process.execPath]);
    let grandchild: number | undefined;
    await waitUntil(
      async () => {
        const g = await readGroupStats(child.pid);
        grandchild = g?.pids.find((p) => p !== child.pid && cmdline(p).includes('for(;;){}'));
        return grandchild !== undefined;
      },
      5000,
      'grandchild in the group',
    );
    assert.ok(grandchild !== undefined);
    const first = await readGroupStats(child.pid);
    assert.ok(first);
    assert.equal(first.pids[0], child.pid);
    assert.ok(first.pids.includes(grandchild));
    const root = await readProcStats(child.pid);
    const leaf = await readProcStats(grandchild);
    assert.ok(root && leaf);
    assert.ok(first.rssBytes >= root.rssBytes + leaf.rssBytes * 0.5, 'group rss includes the grandchild');
    assert.ok(first.openFds >= root.openFds + 3);
    assert.ok(first.threads >= root.threads + leaf.threads - 2);

    let later = first;
    await waitUntil(
      async () => {
        later = (await readGroupStats(child.pid)) ?? later;
        return later.cpuSecondsTotal >= first.cpuSecondsTotal + 0.2;
      },
      20_000,
      'group CPU to grow with the busy grandchild',
    );
    const rootLater = await readProcStats(child.pid);
    assert.ok(rootLater);
    assert.ok(rootLater.cpuSecondsTotal < 0.2 + root.cpuSecondsTotal, 'the shell itself stays idle');
  });
});

describe('MetricsRegistry', () => {
  it('exposes process, ffmpeg and camera series with labels and removes them', async () => {
    const bus = new EventBus();
    const registry = new MetricsRegistry({ bus });
    try {
      registry.observeProcess({
        name: 'go2rtc',
        state: 'running',
        restarts: 2,
        stats: { cpuSecondsTotal: 12.5, rssBytes: 4096, openFds: 17 },
      });
      registry.observeProcess({ name: 'mediamtx', state: 'backoff', restarts: 1, stats: null });
      registry.observeProgress('ffmpeg:front_door:clip', {
        frame: 250,
        fps: 25,
        bitrateKbps: 812.5,
        totalSizeBytes: 1000,
        outTimeUs: 10_000_000,
        speed: 1.01,
        dropFrames: 1,
        dupFrames: 0,
        ended: false,
      });
      bus.emit('camera.status', {
        status: { ...initialStatus('front_door'), state: 'streaming', viewers: 3, bitrateKbps: 2048, fps: 15 },
        previous: null,
      });
      registry.observeCameraStatus({ ...initialStatus('garage'), state: 'offline' });

      assert.match(registry.contentType, /^text\/plain; version=0\.0\.4/);
      let text = await registry.text();
      const expect = (series: string, value: number | null) => assert.equal(seriesValue(text, series), value, series);
      expect('camstack_process_cpu_seconds_total{process="go2rtc"}', 12.5);
      expect('camstack_process_resident_memory_bytes{process="go2rtc"}', 4096);
      expect('camstack_process_open_fds{process="go2rtc"}', 17);
      expect('camstack_process_restarts_total{process="go2rtc"}', 2);
      expect('camstack_process_up{process="go2rtc"}', 1);
      expect('camstack_process_up{process="mediamtx"}', 0);
      expect('camstack_process_restarts_total{process="mediamtx"}', 1);
      expect('camstack_process_cpu_seconds_total{process="mediamtx"}', null);
      expect('camstack_ffmpeg_fps{job="ffmpeg:front_door:clip"}', 25);
      expect('camstack_ffmpeg_speed{job="ffmpeg:front_door:clip"}', 1.01);
      expect('camstack_ffmpeg_bitrate_kbps{job="ffmpeg:front_door:clip"}', 812.5);
      expect('camstack_ffmpeg_frames_total{job="ffmpeg:front_door:clip"}', 250);
      expect('camstack_ffmpeg_dropped_frames_total{job="ffmpeg:front_door:clip"}', 1);
      expect('camstack_ffmpeg_dup_frames_total{job="ffmpeg:front_door:clip"}', 0);
      expect('camstack_camera_up{camera="front_door"}', 1);
      expect('camstack_camera_viewers{camera="front_door"}', 3);
      expect('camstack_camera_bitrate_kbps{camera="front_door"}', 2048);
      expect('camstack_camera_fps{camera="front_door"}', 15);
      expect('camstack_camera_up{camera="garage"}', 0);
      expect('camstack_camera_fps{camera="garage"}', null);
      assert.match(text, /^# TYPE camstack_process_cpu_seconds_total counter$/m);
      assert.match(text, /^# TYPE camstack_ffmpeg_fps gauge$/m);
      // prom-client's default Node metrics, under their own prefix
      assert.match(text, /^camstack_node_process_cpu_seconds_total \d/m);
      assert.match(text, /^camstack_node_nodejs_heap_size_used_bytes \d/m);

      // absolute values from /proc and FFmpeg replace, not add
      registry.observeProcess({
        name: 'go2rtc',
        state: 'running',
        restarts: 2,
        stats: { cpuSecondsTotal: 13, rssBytes: 8192, openFds: 18 },
      });
      text = await registry.text();
      expect('camstack_process_cpu_seconds_total{process="go2rtc"}', 13);
      expect('camstack_process_restarts_total{process="go2rtc"}', 2);

      registry.removeProcess('go2rtc');
      registry.removeJob('ffmpeg:front_door:clip');
      registry.removeCamera('front_door');
      text = await registry.text();
      assert.doesNotMatch(text, /process="go2rtc"/);
      assert.doesNotMatch(text, /job="ffmpeg:front_door:clip"/);
      assert.doesNotMatch(text, /camera="front_door"/);
      expect('camstack_process_up{process="mediamtx"}', 0);
      expect('camstack_camera_up{camera="garage"}', 0);
    } finally {
      registry.close();
    }
    // closed: bus events no longer reach it
    bus.emit('camera.status', { status: initialStatus('late'), previous: null });
    assert.doesNotMatch(await registry.text(), /late/);
  });

  it('keeps two registries apart (no global registry)', async () => {
    const a = new MetricsRegistry({ defaultMetrics: false });
    const b = new MetricsRegistry({ defaultMetrics: false });
    a.observeCameraStatus(initialStatus('only_in_a'));
    assert.match(await a.text(), /only_in_a/);
    assert.doesNotMatch(await b.text(), /only_in_a/);
    assert.doesNotMatch(await a.text(), /camstack_node_/);
    a.close();
    b.close();
  });
});

describe('ProcessSampler', { timeout: 60_000 }, () => {
  it('follows a real FFmpeg job: progress, process stats, ticks, series removed when it goes', async (t) => {
    const bus = new EventBus();
    const redactor = new SecretRedactor();
    const logger = createLogger({ level: 'warn', redactor, destination: { write: () => undefined } });
    const registry = new MetricsRegistry({ bus, defaultMetrics: false });
    const name = 'ffmpeg:test:progress';
    const parser = new ProgressParser();
    const blocks: FfmpegProgress[] = [];
    const logged: string[] = [];
    let sampler: ProcessSampler | undefined;
    const job = new ManagedProcess({
      name,
      // -re: real time, so the job runs ~3 s (FFmpeg reports fps 0 during the first second).
      command: 'ffmpeg',
      args: [
        '-hide_banner',
        '-nostdin',
        '-re',
        '-f',
        'lavfi',
        '-i',
        'testsrc=size=320x240:rate=25',
        '-t',
        '3',
        '-f',
        'null',
        '-',
        '-progress',
        'pipe:1',
        '-nostats',
      ],
      bus,
      logger,
      redactor,
      restartOnExit: false,
      onLine: (stream, line) => {
        if (!isProgressLine(line)) {
          logged.push(line);
          return;
        }
        const progress = stream === 'stdout' ? parser.push(line) : null;
        if (progress === null) return;
        blocks.push(progress);
        sampler?.recordProgress(name, progress);
      },
    });
    let jobs: SampledProcess[] = [job];
    sampler = new ProcessSampler({ processes: () => jobs, registry, bus, intervalMs: 100, lingerMs: 50 });
    const ticks: MetricsSnapshot[] = [];
    bus.on('metrics.tick', (s) => ticks.push(s), 'test');
    t.after(async () => {
      sampler?.stop();
      await job.stop();
      registry.close();
    });

    const release = sampler.acquire();
    assert.equal(sampler.running, true);
    await job.start();
    await job.waitForState('stopped', 30_000);
    assert.ok(blocks.length >= 3, `progress blocks: ${blocks.length}`);
    const frames = blocks.map((b) => b.frame ?? 0);
    assert.ok(
      frames.every((f, i) => i === 0 || f >= (frames[i - 1] ?? 0)),
      `frames never decrease: ${frames.join(',')}`,
    );
    assert.ok((frames.at(-1) ?? 0) > (frames[0] ?? 0), 'frames increase');
    assert.equal(blocks.at(-1)?.frame, 75);
    assert.ok(
      blocks.some((b) => (b.fps ?? 0) > 0),
      'fps > 0 once past the first second',
    );
    assert.equal(blocks.at(-1)?.ended, true);
    assert.equal(
      blocks.slice(0, -1).some((b) => b.ended),
      false,
    );
    assert.ok(
      logged.every((l) => !/^progress=/.test(l)),
      'progress lines kept out of the log',
    );

    // While it ran, the sampler saw the live FFmpeg process.
    const live = ticks.flatMap((s) => s.processes).filter((p) => p.name === name && p.cpuSecondsTotal !== null);
    assert.ok(live.length > 0, 'sampled while running');
    assert.ok(live.every((p) => (p.rssBytes ?? 0) > 0 && (p.openFds ?? 0) >= 3 && (p.processCount ?? 0) >= 1));
    assert.ok(live.some((p) => p.cpuPercent !== null && p.cpuPercent >= 0));
    assert.ok(live.some((p) => p.progress !== null));
    const tick = ticks.at(-1);
    assert.ok(tick);
    assert.ok(!Number.isNaN(Date.parse(tick.at)));
    assert.ok(tick.system.cpuCount >= 1 && tick.system.memTotalBytes > 0 && tick.system.loadavg.length === 3);

    // Finished job: the latest progress stays, the /proc figures are gone.
    const done = (await sampler.sample()).processes.find((p) => p.name === name);
    assert.ok(done);
    assert.equal(done.state, 'stopped');
    assert.equal(done.pid, null);
    assert.equal(done.cpuSecondsTotal, null);
    assert.equal(done.progress?.ended, true);
    let text = await registry.text();
    assert.equal(seriesValue(text, `camstack_ffmpeg_frames_total{job="${name}"}`), 75);
    assert.equal(seriesValue(text, `camstack_process_up{process="${name}"}`), 0);
    assert.equal(seriesValue(text, `camstack_process_cpu_seconds_total{process="${name}"}`), null);

    // The job leaves the list: its series go at the next sample.
    jobs = [];
    const after = await sampler.sample();
    assert.deepEqual(after.processes, []);
    text = await registry.text();
    assert.doesNotMatch(text, new RegExp(name));

    release();
    assert.equal(sampler.running, true, 'lingers');
    await waitUntil(() => !sampler.running, 5000, 'sampler to stop after the linger');
  });

  it('samples only while held, shares a sample in flight and clears everything on stop()', async (t) => {
    const bus = new EventBus();
    const registry = new MetricsRegistry({ defaultMetrics: false });
    const child = spawnChild(t, 'sleep', ['30']);
    const sampler = new ProcessSampler({
      processes: () => [fakeProcess('sleeper', child.pid, 'running', 4), fakeProcess('idle', null, 'stopped')],
      registry,
      bus,
      intervalMs: 20,
      lingerMs: 100,
    });
    t.after(() => {
      sampler.stop();
      registry.close();
    });
    let ticks = 0;
    bus.on('metrics.tick', () => ticks++, 'test');

    assert.equal(sampler.running, false);
    await sleep(80);
    assert.equal(ticks, 0, 'no sampling while nobody listens');

    // snapshot() without any sample: state from the processes, no /proc figures
    const cold = sampler.snapshot();
    assert.equal(cold.processes.length, 2);
    assert.equal(cold.processes[0]?.cpuSecondsTotal, null);

    const [a, b] = await Promise.all([sampler.sample(), sampler.sample()]);
    assert.equal(a, b, 'concurrent calls share one sample');
    assert.equal(ticks, 1);
    const sleeper = a.processes.find((p) => p.name === 'sleeper');
    assert.ok(sleeper && (sleeper.rssBytes ?? 0) > 0);
    assert.equal(sleeper.restarts, 4);
    assert.equal(sleeper.cpuPercent, null, 'no previous sample yet');
    assert.equal(seriesValue(await registry.text(), 'camstack_process_restarts_total{process="sleeper"}'), 4);
    assert.equal(seriesValue(await registry.text(), 'camstack_process_up{process="idle"}'), 0);

    const r1 = sampler.acquire();
    const r2 = sampler.acquire();
    assert.equal(sampler.holders, 2);
    await waitUntil(() => ticks >= 4, 5000, 'periodic ticks');
    assert.notEqual(sampler.snapshot().processes.find((p) => p.name === 'sleeper')?.cpuPercent, null);
    r1();
    r1(); // idempotent
    assert.equal(sampler.holders, 1);
    r2();
    assert.equal(sampler.holders, 0);
    assert.equal(sampler.running, true, 'lingers after the last release');
    const again = sampler.acquire(); // a new listener within the linger keeps it going
    await sleep(200);
    assert.equal(sampler.running, true);
    again();
    await waitUntil(() => !sampler.running, 5000, 'stop after linger');
    const stoppedAt = ticks;
    await sleep(100);
    assert.ok(ticks <= stoppedAt + 1, 'no more ticks once stopped');

    // stop() drops holds; releases handed out before are no-ops afterwards
    const stale = sampler.acquire();
    sampler.stop();
    assert.equal(sampler.running, false);
    assert.equal(sampler.holders, 0);
    const fresh = sampler.acquire();
    stale();
    assert.equal(sampler.holders, 1);
    fresh();
    sampler.stop();

    // start() runs until stop(), whatever the holds
    sampler.start();
    sampler.acquire()();
    await sleep(200);
    assert.equal(sampler.running, true);
    sampler.stop();
    assert.equal(sampler.running, false);
  });
});

describe('metrics routes', () => {
  it('serves Prometheus text and the JSON snapshot', async (t) => {
    const registry = new MetricsRegistry();
    const sampler = new ProcessSampler({
      processes: () => [fakeProcess('self', process.pid)],
      registry,
      intervalMs: 1000,
    });
    const app = Fastify().withTypeProvider<TypeBoxTypeProvider>();
    await app.register(metricsRoutes, { registry, sampler });
    t.after(async () => {
      await app.close();
      sampler.stop();
      registry.close();
    });

    const prom = await app.inject({ method: 'GET', url: '/api/metrics' });
    assert.equal(prom.statusCode, 200);
    assert.match(prom.headers['content-type'] ?? '', /^text\/plain; version=0\.0\.4/);
    assert.ok((seriesValue(prom.body, 'camstack_process_resident_memory_bytes{process="self"}') ?? 0) > 0);
    assert.equal(seriesValue(prom.body, 'camstack_process_up{process="self"}'), 1);
    assert.match(prom.body, /^camstack_node_process_resident_memory_bytes \d/m);
    assert.equal(sampler.running, false, 'a scrape takes one sample, it does not keep the sampler running');

    const json = await app.inject({ method: 'GET', url: '/api/metrics.json' });
    assert.equal(json.statusCode, 200);
    const snap = json.json<MetricsSnapshot>();
    assert.equal(snap.processes.length, 1);
    const self = snap.processes[0];
    assert.equal(self?.name, 'self');
    assert.equal(self?.pid, process.pid);
    assert.ok((self?.rssBytes ?? 0) > 0);
    assert.ok((self?.openFds ?? 0) >= 3);
    assert.equal(self?.progress, null);
    assert.equal(snap.system.loadavg.length, 3);
    assert.ok(snap.system.cpuCount >= 1);
  });
});
