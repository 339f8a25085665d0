/**
 * The health of a managed process's live run: probes (every min(interval, 500) ms while starting,
 * then every interval), and the watchdog that kills a child that is stuck (no output), never got
 * healthy, or stopped being healthy, so the exit handler restarts it under the policy.
 */
import type { Logger } from '../log/logger.js';
import { signalGroup } from './orphans.js';
import { clearRunTimers, type Run } from './run.js';

export interface HealthWatchOptions {
  log: Logger;
  /** Resolves true when healthy. Must honour the signal (aborted on timeout, stop and exit). */
  healthCheck?: ((signal: AbortSignal) => Promise<boolean>) | undefined;
  healthIntervalMs: number;
  healthTimeoutMs: number;
  unhealthyAfterMs: number;
  stuckAfterMs?: number | undefined;
  killGraceMs: number;
  /** The process's side: whether a run is the live one and not on its way out, and its state. */
  isActive: (run: Run) => boolean;
  state: () => 'starting' | 'running' | 'other';
  /** The first good probe of a starting run. */
  onHealthy: () => void;
}

export class HealthWatch {
  readonly #o: HealthWatchOptions;

  constructor(options: HealthWatchOptions) {
    this.#o = options;
  }

  /** Probes (when there is a health check) and the watchdog of a run just spawned. */
  start(run: Run): void {
    if (this.#o.healthCheck !== undefined) this.#scheduleProbe(run, Math.min(this.#o.healthIntervalMs, 500));
    this.#startWatchdog(run);
  }

  #scheduleProbe(run: Run, delayMs: number): void {
    const timer = setTimeout(() => {
      run.timers.delete(timer);
      void this.#probe(run);
    }, delayMs);
    run.timers.add(timer);
  }

  async #probe(run: Run): Promise<void> {
    const o = this.#o;
    const healthCheck = o.healthCheck;
    if (healthCheck === undefined || !o.isActive(run)) return;
    const controller = new AbortController();
    run.probe = controller;
    const timeout = setTimeout(() => controller.abort(new Error('health check timed out')), o.healthTimeoutMs);
    let healthy = false;
    try {
      const aborted = new Promise<boolean>((resolve) => {
        controller.signal.addEventListener('abort', () => resolve(false), { once: true });
      });
      healthy = (await Promise.race([healthCheck(controller.signal), aborted])) === true;
    } catch {
      healthy = false;
    } finally {
      clearTimeout(timeout);
      if (!controller.signal.aborted) controller.abort(new Error('probe finished'));
      if (run.probe === controller) run.probe = null;
    }
    if (!o.isActive(run)) return;
    if (healthy) {
      run.failingSince = null;
      if (o.state() === 'starting') {
        o.log.info({ pid: run.pid }, 'healthy');
        o.onHealthy();
      }
    } else {
      if (run.failingSince === null) {
        run.failingSince = Date.now();
        if (o.state() === 'running') o.log.warn({ pid: run.pid }, 'health check failed');
      }
      this.#check(run);
      if (!o.isActive(run)) return;
    }
    this.#scheduleProbe(run, o.state() === 'starting' ? Math.min(o.healthIntervalMs, 500) : o.healthIntervalMs);
  }

  #startWatchdog(run: Run): void {
    const o = this.#o;
    const periods = [1000];
    if (o.healthCheck !== undefined) periods.push(o.unhealthyAfterMs / 4, o.healthIntervalMs);
    if (o.stuckAfterMs !== undefined) periods.push(o.stuckAfterMs / 4);
    const period = Math.max(20, Math.min(...periods));
    const timer = setInterval(() => this.#check(run), period);
    run.timers.add(timer);
  }

  #check(run: Run): void {
    const o = this.#o;
    if (!o.isActive(run)) return;
    const now = Date.now();
    if (o.stuckAfterMs !== undefined && now - run.lastOutputAt >= o.stuckAfterMs) {
      this.#killForRestart(run, `stuck: no output for ${now - run.lastOutputAt} ms (limit ${o.stuckAfterMs} ms)`);
      return;
    }
    if (o.healthCheck === undefined) return;
    const state = o.state();
    if (state === 'starting' && now - run.spawnedAt >= o.unhealthyAfterMs) {
      this.#killForRestart(run, `not healthy ${o.unhealthyAfterMs} ms after start`);
    } else if (state === 'running' && run.failingSince !== null && now - run.failingSince >= o.unhealthyAfterMs) {
      this.#killForRestart(run, `health check failing for ${now - run.failingSince} ms`);
    }
  }

  /** Kills an unhealthy or stuck child; the exit handler then applies the restart policy with `reason`. */
  #killForRestart(run: Run, reason: string): void {
    run.killReason = reason;
    clearRunTimers(run);
    this.#o.log.warn({ pid: run.pid }, `${reason}; killing`);
    if (run.pid === null) return;
    const pid = run.pid;
    signalGroup(pid, 'SIGTERM');
    const timer = setTimeout(() => {
      run.timers.delete(timer);
      if (!run.exited) signalGroup(pid, 'SIGKILL');
    }, this.#o.killGraceMs);
    run.timers.add(timer);
  }
}
