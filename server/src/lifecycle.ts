/**
 * Start-up and shutdown of the server's parts in one declared order: started first to last,
 * stopped last to first. A part that fails to start stops everything that started before it (and
 * itself, since a failed start can leave half of it running). A stop always finishes within its
 * deadline: first every part is told to quiesce (cancel timers, retries and restarts, end open
 * streams) at once, then each part's stop is awaited for at most its own time, the last ones (the
 * engines) keeping a reserve so they are always stopped, whatever an earlier part does.
 */

export interface Part {
  readonly name: string;
  start?(): Promise<void> | void;
  /** Cancels background work right away, before any part stops (synchronous, must not throw). */
  quiesce?(): void;
  stop?(): Promise<void> | void;
  /** The longest wait for stop() (default 3000 ms); after it the shutdown goes on. */
  stopTimeoutMs?: number;
  /** Time kept back for this part while the parts stopped before it run (default 0). */
  reserveMs?: number;
}

export interface LifecycleLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface LifecycleOptions {
  /** Deadline of a whole stop (default 18 000 ms: the Supervisor kills at 30 s). */
  stopDeadlineMs?: number;
  now?: () => number;
}

export interface StopReport {
  /** Parts whose stop did not finish in time, or threw. */
  late: string[];
  failed: string[];
  ms: number;
}

const DEFAULT_STOP_TIMEOUT_MS = 3000;

export class Lifecycle {
  readonly #parts: readonly Part[];
  readonly #log: LifecycleLog;
  readonly #deadlineMs: number;
  readonly #now: () => number;
  readonly #started: Part[] = [];
  #stopping: Promise<StopReport> | null = null;

  constructor(parts: readonly Part[], log: LifecycleLog, options: LifecycleOptions = {}) {
    const names = new Set<string>();
    for (const p of parts) {
      if (names.has(p.name)) throw new Error(`two parts are named "${p.name}"`);
      names.add(p.name);
    }
    this.#parts = parts;
    this.#log = log;
    this.#deadlineMs = options.stopDeadlineMs ?? 18_000;
    this.#now = options.now ?? Date.now;
  }

  /** Names of the parts that started, in order. */
  get started(): string[] {
    return this.#started.map((p) => p.name);
  }

  /** Starts every part in order; on a failure, stops what started and rethrows the error. */
  async start(): Promise<void> {
    for (const part of this.#parts) {
      if (this.#stopping) throw new Error(`stopped while starting (before ${part.name})`);
      // Counted as started before it runs: a start that throws may have left something running.
      this.#started.push(part);
      try {
        await part.start?.();
      } catch (err) {
        this.#log.error({ part: part.name, err: describe(err) }, `${part.name} could not start; stopping what started`);
        await this.stop(`${part.name} failed to start`);
        throw err;
      }
    }
  }

  /** Stops every started part in reverse order, within the deadline. Idempotent. */
  stop(reason: string): Promise<StopReport> {
    this.#stopping ??= this.#stop(reason);
    return this.#stopping;
  }

  async #stop(reason: string): Promise<StopReport> {
    const t0 = this.#now();
    const deadline = t0 + this.#deadlineMs;
    const parts = [...this.#started].reverse();
    const report: StopReport = { late: [], failed: [], ms: 0 };
    this.#log.info({ reason }, 'shutting down');
    for (const part of parts) {
      try {
        part.quiesce?.();
      } catch (err) {
        this.#log.error({ part: part.name, err: describe(err) }, `${part.name}: quiescing failed`);
      }
    }
    for (const [i, part] of parts.entries()) {
      if (!part.stop) continue;
      const reserve = parts.slice(i + 1).reduce((sum, p) => sum + (p.reserveMs ?? 0), 0);
      const budget = Math.max(
        250,
        Math.min(part.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS, deadline - reserve - this.#now()),
      );
      const outcome = await settle(part.stop.bind(part), budget);
      if (outcome.state === 'late') {
        report.late.push(part.name);
        this.#log.warn({ part: part.name, waitedMs: budget }, `${part.name} did not stop in time; going on`);
      } else if (outcome.state === 'failed') {
        report.failed.push(part.name);
        this.#log.error({ part: part.name, err: describe(outcome.err) }, `${part.name} failed to stop`);
      }
    }
    report.ms = this.#now() - t0;
    return report;
  }
}

type Outcome = { state: 'done' } | { state: 'late' } | { state: 'failed'; err: unknown };

async function settle(fn: () => Promise<void> | void, ms: number): Promise<Outcome> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<Outcome>((resolve) => {
    timer = setTimeout(() => resolve({ state: 'late' }), ms);
  });
  const run = (async (): Promise<Outcome> => {
    try {
      await fn();
      return { state: 'done' };
    } catch (err) {
      return { state: 'failed', err };
    }
  })();
  try {
    return await Promise.race([run, late]);
  } finally {
    clearTimeout(timer);
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
