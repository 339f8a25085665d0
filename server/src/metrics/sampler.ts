/**
 * Samples the supervised processes' resource usage from /proc while someone is looking (SSE clients,
 * Prometheus), feeds the registry and publishes `metrics.tick` snapshots on the bus.
 */
import { cpus, freemem, loadavg, totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { EventBus } from '../events/bus.js';
import type { ManagedProcess } from '../supervisor/managed-process.js';
import { cpuPercent, type GroupStats, readGroupStats, readProcessTable, type StatFields } from './proc-stats.js';
import type { FfmpegProgress } from './progress.js';
import type { MetricsRegistry } from './registry.js';
import type { MetricsSnapshot, ProcessMetrics, SystemMetrics } from './types.js';

export type { MetricsSnapshot, ProcessMetrics, SystemMetrics } from './types.js';

/** What the sampler reads from a supervised process. */
export type SampledProcess = Pick<ManagedProcess, 'name' | 'pid' | 'state' | 'restarts'>;

export interface ProcessSamplerOptions {
  /** The processes to sample, asked afresh at every sample (FFmpeg jobs come and go). */
  processes: () => readonly SampledProcess[];
  registry: MetricsRegistry;
  /** Receives a `metrics.tick` event with the snapshot after every sample. */
  bus?: EventBus;
  /** Sampling period while started. Default 1000 ms. */
  intervalMs?: number;
  /** After the last acquire() is released, keep sampling this long before stopping. Default 5000 ms. */
  lingerMs?: number;
  /** Where procfs is mounted. Default '/proc'. */
  procRoot?: string;
}

interface Sample {
  pid: number;
  stats: GroupStats;
  /** performance.now() when read. */
  at: number;
  cpuPercent: number | null;
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

export function systemMetrics(): SystemMetrics {
  const [one = 0, five = 0, fifteen = 0] = loadavg();
  return { loadavg: [one, five, fifteen], memTotalBytes: totalmem(), memFreeBytes: freemem(), cpuCount: cpus().length };
}

export class ProcessSampler {
  readonly #processes: () => readonly SampledProcess[];
  readonly #registry: MetricsRegistry;
  readonly #bus: EventBus | undefined;
  readonly #intervalMs: number;
  readonly #lingerMs: number;
  readonly #procRoot: string;

  #timer: NodeJS.Timeout | null = null;
  #lingerTimer: NodeJS.Timeout | null = null;
  #holders = 0;
  /** start() was called directly: keep sampling until stop(), whatever the holds. */
  #pinned = false;
  /** Bumped by stop(): release functions handed out before do nothing afterwards. */
  #epoch = 0;
  #inFlight: Promise<MetricsSnapshot> | null = null;
  #lastSampleAt: Date | null = null;
  /** Latest /proc sample per process name (absent while the process has no live child). */
  readonly #samples = new Map<string, Sample>();
  /** Latest FFmpeg progress per process name. */
  readonly #progress = new Map<string, FfmpegProgress>();
  /** Names seen at the previous sample, to drop the series of those that disappear. */
  #known = new Set<string>();

  constructor(options: ProcessSamplerOptions) {
    this.#processes = options.processes;
    this.#registry = options.registry;
    this.#bus = options.bus;
    this.#intervalMs = Math.max(10, options.intervalMs ?? 1000);
    this.#lingerMs = Math.max(0, options.lingerMs ?? 5000);
    this.#procRoot = options.procRoot ?? '/proc';
  }

  /** True while sampling periodically. */
  get running(): boolean {
    return this.#timer !== null;
  }

  /** Outstanding acquire() holds. */
  get holders(): number {
    return this.#holders;
  }

  /** Starts sampling every intervalMs (and samples at once) until stop(), regardless of holds. Idempotent. */
  start(): void {
    this.#pinned = true;
    this.#run();
  }

  #run(): void {
    this.#clearLinger();
    if (this.#timer !== null) return;
    this.#timer = setInterval(() => this.#tick(), this.#intervalMs);
    this.#timer.unref();
    this.#tick();
  }

  /** Stops sampling, cancels the linger and drops every acquire() hold. A sample in flight still completes. */
  stop(): void {
    this.#epoch++;
    this.#holders = 0;
    this.#pinned = false;
    this.#clearLinger();
    if (this.#timer !== null) {
      clearInterval(this.#timer);
      this.#timer = null;
    }
  }

  /**
   * Someone wants live metrics: sampling runs while at least one hold is outstanding and stops lingerMs after
   * the last is released. Returns the release function (idempotent).
   */
  acquire(): () => void {
    this.#holders++;
    const epoch = this.#epoch;
    let released = false;
    this.#run();
    return () => {
      if (released || epoch !== this.#epoch) return;
      released = true;
      this.#holders = Math.max(0, this.#holders - 1);
      if (this.#holders === 0) this.#scheduleLinger();
    };
  }

  /** Latest progress of an FFmpeg job (call from its onLine handler via a ProgressParser). */
  recordProgress(name: string, progress: FfmpegProgress): void {
    this.#progress.set(name, progress);
    this.#registry.observeProgress(name, progress);
  }

  /** Drops everything about a process at once (rather than at the next sample after it leaves the list). */
  forget(name: string): void {
    this.#samples.delete(name);
    this.#progress.delete(name);
    this.#known.delete(name);
    this.#registry.removeProcess(name);
    this.#registry.removeJob(name);
  }

  /**
   * Takes one sample now: /proc stats of every process tree, registry update, `metrics.tick`.
   * Concurrent calls share the sample in flight. Rejects only when `processes()` throws.
   */
  sample(): Promise<MetricsSnapshot> {
    if (this.#inFlight !== null) return this.#inFlight;
    const promise = this.#sample().finally(() => {
      if (this.#inFlight === promise) this.#inFlight = null;
    });
    this.#inFlight = promise;
    return promise;
  }

  /**
   * The current picture without any I/O: state, pid and restarts as of now, /proc figures of the last sample
   * (when the pid still matches), the latest FFmpeg progress.
   */
  snapshot(): MetricsSnapshot {
    const processes: ProcessMetrics[] = this.#processes().map((proc) => {
      const pid = proc.pid;
      const sample = this.#samples.get(proc.name);
      const s = sample !== undefined && sample.pid === pid ? sample : null;
      return {
        name: proc.name,
        pid,
        state: proc.state,
        restarts: proc.restarts,
        cpuPercent: s?.cpuPercent ?? null,
        cpuSecondsTotal: s === null ? null : round(s.stats.cpuSecondsTotal, 2),
        rssBytes: s?.stats.rssBytes ?? null,
        openFds: s?.stats.openFds ?? null,
        processCount: s?.stats.pids.length ?? null,
        progress: this.#progress.get(proc.name) ?? null,
      };
    });
    return { at: (this.#lastSampleAt ?? new Date()).toISOString(), system: systemMetrics(), processes };
  }

  #tick(): void {
    this.sample().catch(() => undefined); // only a throwing processes() gets here; try again next tick
  }

  async #sample(): Promise<MetricsSnapshot> {
    try {
      const list = this.#processes();
      let table: StatFields[] | null = null;
      if (list.some((p) => p.pid !== null)) {
        table = await readProcessTable({ procRoot: this.#procRoot }).catch(() => null);
      }
      const read = await Promise.all(
        list.map(async (proc) => {
          const pid = proc.pid;
          const stats =
            pid === null || table === null ? null : await readGroupStats(pid, { procRoot: this.#procRoot, table });
          return { proc, pid, stats, at: performance.now() };
        }),
      );
      const names = new Set<string>();
      for (const { proc, pid, stats, at } of read) {
        names.add(proc.name);
        if (pid === null || stats === null) {
          this.#samples.delete(proc.name);
        } else {
          const prev = this.#samples.get(proc.name);
          const cpu = prev === undefined ? null : cpuPercent(prev.stats, stats, (at - prev.at) / 1000);
          this.#samples.set(proc.name, { pid, stats, at, cpuPercent: cpu === null ? null : round(cpu, 2) });
        }
        this.#registry.observeProcess({ name: proc.name, state: proc.state, restarts: proc.restarts, stats });
      }
      for (const name of new Set([...this.#known, ...this.#samples.keys(), ...this.#progress.keys()])) {
        if (!names.has(name)) this.forget(name);
      }
      this.#known = names;
      this.#lastSampleAt = new Date();
    } catch {
      // A registry or /proc surprise must not stop sampling; the snapshot below still reports state.
    }
    const snapshot = this.snapshot();
    this.#bus?.emit('metrics.tick', snapshot);
    return snapshot;
  }

  #scheduleLinger(): void {
    this.#clearLinger();
    this.#lingerTimer = setTimeout(() => {
      this.#lingerTimer = null;
      if (this.#holders === 0 && !this.#pinned) this.stop();
    }, this.#lingerMs);
    this.#lingerTimer.unref();
  }

  #clearLinger(): void {
    if (this.#lingerTimer !== null) {
      clearTimeout(this.#lingerTimer);
      this.#lingerTimer = null;
    }
  }
}
