/**
 * Supervises one long-running (go2rtc, MediaMTX) or finite (FFmpeg job) child process: spawn in its own
 * process group, health probes, stuck detection, restart with backoff, graceful stop escalation.
 *
 * This module is the state machine (start, stop, restart, exit → restart policy, state events);
 * its parts: run.ts (one spawn), output.ts (lines, tail, lastError), health.ts (probes and the
 * watchdog), pid-file.ts, restart-policy.ts (backoff and giving up), orphans.ts (process groups).
 */
import type { EventBus, ProcessState, ProcessStateEvent } from '../events/bus.js';
import type { Logger } from '../log/logger.js';
import type { SecretRedactor } from '../log/redact.js';
import { HealthWatch } from './health.js';
import { isGroupAlive, signalGroup, terminateGroup } from './orphans.js';
import { LineSplitter, OutputLines } from './output.js';
import { PidFile } from './pid-file.js';
import { RestartPolicy, type RestartPolicyOptions } from './restart-policy.js';
import { clearRunTimers, type OutputStream, type Run, settlesWithin, spawnRun } from './run.js';

export type { OutputStream } from './run.js';
export type StopMethod = 'SIGINT' | 'q';

export interface ManagedProcessOptions {
  /** Supervisor name, e.g. "go2rtc", "ffmpeg:front_door:clip". Used in events, logs and the pid file name. */
  name: string;
  command: string;
  args: readonly string[];
  /** Extra environment variables (merged over process.env). */
  env?: Readonly<Record<string, string | undefined>>;
  cwd?: string;
  bus: EventBus;
  logger: Logger;
  redactor: SecretRedactor;
  /** Resolves true when healthy. Must honour the signal (aborted on timeout, stop and exit). */
  healthCheck?: (signal: AbortSignal) => Promise<boolean>;
  /** Probe period while running. Default 5000 ms. While starting, probes run every min(this, 500) ms. */
  healthIntervalMs?: number;
  /** A probe that has not answered after this long counts as failed. Default: healthIntervalMs. */
  healthTimeoutMs?: number;
  /** Health failing this long, or never healthy this long after spawn → kill and restart. Default 30000 ms. */
  unhealthyAfterMs?: number;
  /** No stdout/stderr output for this long → stuck → kill and restart. Off when undefined. */
  stuckAfterMs?: number;
  policy?: RestartPolicyOptions;
  /** false: exit code 0 means "done" and goes to 'stopped' (finite FFmpeg jobs). Default true. */
  restartOnExit?: boolean;
  /** How stop() asks politely: SIGINT to the group, or "q\n" on stdin (FFmpeg). Default 'SIGINT'. */
  stopMethod?: StopMethod;
  /** Wait after the polite request before SIGTERM. Default 5000 ms. */
  stopGraceMs?: number;
  /** Wait after SIGTERM before SIGKILL (also used when killing an unhealthy/stuck child). Default 3000 ms. */
  killGraceMs?: number;
  /** Redacted output lines kept in `tail`. Default 40. */
  tailLines?: number;
  /** Called with every non-empty, already redacted output line. */
  onLine?: (stream: OutputStream, line: string) => void;
  /**
   * Binary stdout (e.g. JPEG frames from FFmpeg): when set, stdout chunks go here as they are and
   * are not split into log lines; stderr is still logged line by line.
   */
  onStdoutData?: (chunk: Buffer) => void;
  /**
   * FFmpeg `-progress pipe:3`: when set, the child gets a fourth pipe (fd 3) and each line written
   * to it comes here, apart from the log and the tail (progress is metrics, not output to keep).
   */
  onProgressLine?: (line: string) => void;
  /** The log level of an output line (already redacted). Default: every line at `debug`. */
  lineLevel?: (line: string) => 'debug' | 'info' | 'warn' | 'error';
  /** If set, `<pidDir>/<safe-name>.pid` holds `{pid, command}` while the child runs (see reapOrphans). */
  pidDir?: string;
}

export interface ProcessSnapshot {
  state: ProcessState;
  pid: number | null;
  restarts: number;
  lastError: string | null;
}

/** How long to wait for stdout/stderr to drain after the leader exited (a grandchild may hold them open). */
const DRAIN_AFTER_EXIT_MS = 250;

interface StateWaiter {
  states: readonly ProcessState[];
  resolve: (snapshot: ProcessSnapshot) => void;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class ManagedProcess {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];

  readonly #opts: ManagedProcessOptions;
  readonly #bus: EventBus;
  readonly #log: Logger;
  readonly #redactor: SecretRedactor;
  readonly #policy: RestartPolicy;
  readonly #health: HealthWatch;
  readonly #output: OutputLines;
  readonly #pidFile: PidFile;
  readonly #restartOnExit: boolean;
  readonly #stopMethod: StopMethod;
  readonly #stopGraceMs: number;
  readonly #killGraceMs: number;

  #state: ProcessState = 'stopped';
  #restarts = 0;
  #lastError: string | null = null;
  #run: Run | null = null;
  #runSeq = 0;
  #everStarted = false;
  /** Bumped by start/stop/restart: callbacks scheduled under an older generation do nothing. */
  #generation = 0;
  #backoffTimer: NodeJS.Timeout | null = null;
  /** Shutting down: an exit is final (no restart), and a pending restart is cancelled. */
  #restartsHeld = false;
  /** Cleanup of the previous run's group that may still be in progress after its leader exited. */
  #cleanup: Promise<void> | null = null;
  #stopPromise: Promise<void> | null = null;
  #waiters = new Set<StateWaiter>();

  constructor(options: ManagedProcessOptions) {
    this.#opts = options;
    this.name = options.name;
    this.command = options.command;
    this.args = [...options.args];
    this.#bus = options.bus;
    this.#log = options.logger.child({ proc: options.name });
    this.#redactor = options.redactor;
    this.#policy = new RestartPolicy(options.policy);
    this.#restartOnExit = options.restartOnExit ?? true;
    this.#stopMethod = options.stopMethod ?? 'SIGINT';
    this.#stopGraceMs = options.stopGraceMs ?? 5000;
    this.#killGraceMs = options.killGraceMs ?? 3000;
    const healthIntervalMs = options.healthIntervalMs ?? 5000;
    this.#health = new HealthWatch({
      log: this.#log,
      healthCheck: options.healthCheck,
      healthIntervalMs,
      healthTimeoutMs: options.healthTimeoutMs ?? healthIntervalMs,
      unhealthyAfterMs: options.unhealthyAfterMs ?? 30_000,
      stuckAfterMs: options.stuckAfterMs,
      killGraceMs: this.#killGraceMs,
      isActive: (run) => run === this.#run && !run.exited && !run.stopping && run.killReason === null,
      state: () => (this.#state === 'starting' || this.#state === 'running' ? this.#state : 'other'),
      onHealthy: () => this.#setState('running'),
    });
    this.#output = new OutputLines({
      log: this.#log,
      redactor: this.#redactor,
      tailLines: Math.max(0, options.tailLines ?? 40),
      lineLevel: options.lineLevel,
      onLine: options.onLine,
    });
    this.#pidFile = new PidFile(options.pidDir, options.name, options.command, this.#log);
  }

  get state(): ProcessState {
    return this.#state;
  }

  /** Pid of the live child (also its process-group id), null when none. */
  get pid(): number | null {
    return this.#run?.pid ?? null;
  }

  /** Automatic restarts plus restart() calls since creation. */
  get restarts(): number {
    return this.#restarts;
  }

  get lastError(): string | null {
    return this.#lastError;
  }

  /** The last `tailLines` redacted output lines (stdout and stderr, across runs). A copy. */
  get tail(): string[] {
    return this.#output.tail;
  }

  /** When the live child was spawned; null when there is none. */
  get startedAt(): Date | null {
    return this.#run === null ? null : new Date(this.#run.spawnedAt);
  }

  snapshot(): ProcessSnapshot {
    return { state: this.#state, pid: this.pid, restarts: this.#restarts, lastError: this.#lastError };
  }

  /** Resolves with the snapshot as soon as the state is (one of) `state`; rejects after `timeoutMs`. */
  waitForState(state: ProcessState | readonly ProcessState[], timeoutMs: number): Promise<ProcessSnapshot> {
    const states: readonly ProcessState[] = typeof state === 'string' ? [state] : state;
    if (states.includes(this.#state)) return Promise.resolve(this.snapshot());
    return new Promise((resolve, reject) => {
      const waiter: StateWaiter = {
        states,
        resolve: (snapshot) => {
          clearTimeout(timer);
          resolve(snapshot);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(
          new Error(
            `${this.name}: timed out after ${timeoutMs} ms waiting for state ${states.join('|')} (now ${this.#state})`,
          ),
        );
      }, timeoutMs);
      this.#waiters.add(waiter);
    });
  }

  /**
   * Spawns the child if it is stopped or failed (resetting the restart policy and lastError).
   * No-op while starting, running or in backoff; waits for a stop in progress first.
   * Resolves once the child is spawned, not once it is healthy (use waitForState('running')).
   */
  async start(): Promise<void> {
    await this.#settle();
    if (this.#state !== 'stopped' && this.#state !== 'failed') return;
    this.#generation++;
    this.#policy.reset();
    this.#lastError = null;
    this.#spawn();
  }

  /** Manual restart: stops the child if there is one (gracefully), resets the policy and spawns again. */
  async restart(): Promise<void> {
    if (this.#run !== null || this.#stopPromise !== null) await this.stop();
    await this.#settle();
    if (this.#run !== null) return; // a concurrent start()/restart() won
    this.#generation++;
    this.#clearBackoff();
    this.#policy.reset();
    this.#lastError = null;
    if (this.#everStarted) this.#restarts++;
    this.#spawn();
  }

  /**
   * No more restarts from now on (shutdown): a pending one is cancelled, and an exit ends in
   * 'stopped'. The process keeps running until stop(). For good: used once, at shutdown.
   */
  holdRestarts(): void {
    this.#restartsHeld = true;
    if (this.#backoffTimer !== null) {
      this.#clearBackoff();
      if (this.#state === 'backoff') this.#setState('stopped');
    }
  }

  /**
   * 'stopping' → polite request (SIGINT or "q") → SIGTERM after stopGraceMs → SIGKILL after killGraceMs →
   * 'stopped', resolving only once the child and everything left in its process group are gone.
   * Cancels backoff and probes; in backoff or failed it goes straight to 'stopped'. Idempotent.
   */
  stop(): Promise<void> {
    if (this.#stopPromise !== null) return this.#stopPromise;
    if (this.#state === 'stopped' && this.#run === null && this.#cleanup === null) return Promise.resolve();
    const promise = this.#doStop().finally(() => {
      if (this.#stopPromise === promise) this.#stopPromise = null;
    });
    this.#stopPromise = promise;
    return promise;
  }

  async #doStop(): Promise<void> {
    this.#generation++;
    this.#clearBackoff();
    const run = this.#run;
    if (run === null) {
      if (this.#cleanup !== null) await this.#cleanup;
      this.#setState('stopped');
      return;
    }
    run.stopping = true;
    clearRunTimers(run);
    this.#setState('stopping');
    this.#log.info({ pid: run.pid, method: this.#stopMethod }, 'stopping');
    this.#requestStop(run);
    if (!(await settlesWithin(run.done, this.#stopGraceMs))) {
      if (run.pid !== null && !run.exited) {
        this.#log.warn(
          { pid: run.pid },
          `still running ${this.#stopGraceMs} ms after ${this.#stopMethod}, sending SIGTERM`,
        );
      }
      if (run.pid !== null) signalGroup(run.pid, 'SIGTERM');
      if (!(await settlesWithin(run.done, this.#killGraceMs))) {
        if (run.pid !== null && !run.exited) {
          this.#log.warn({ pid: run.pid }, `still running ${this.#killGraceMs} ms after SIGTERM, sending SIGKILL`);
        }
        if (run.pid !== null) signalGroup(run.pid, 'SIGKILL');
        await run.done;
      }
    }
    this.#setState('stopped');
    this.#log.info('stopped');
  }

  /** Waits until no stop and no group cleanup is in progress. */
  async #settle(): Promise<void> {
    for (;;) {
      if (this.#stopPromise !== null) {
        await this.#stopPromise;
        continue;
      }
      if (this.#cleanup !== null) {
        await this.#cleanup;
        continue;
      }
      return;
    }
  }

  #requestStop(run: Run): void {
    if (run.pid === null) return;
    if (this.#stopMethod === 'q') {
      const stdin = run.child?.stdin;
      if (stdin?.writable && !stdin.destroyed) {
        stdin.write('q\n', () => undefined);
        return;
      }
    }
    signalGroup(run.pid, 'SIGINT');
  }

  #spawn(): void {
    this.#everStarted = true;
    const { run, spawnError } = spawnRun(++this.#runSeq, {
      command: this.command,
      args: this.args,
      cwd: this.#opts.cwd,
      env: this.#opts.env,
      progressPipe: this.#opts.onProgressLine !== undefined,
    });
    const child = run.child;
    this.#run = run;

    if (child === null) {
      this.#setState('starting');
      const err = spawnError ?? new Error('spawn failed');
      queueMicrotask(() => void this.#onExit(run, null, null, err));
      return;
    }

    for (const stream of ['stdout', 'stderr'] as const) {
      const readable = child[stream];
      readable?.on('data', (chunk: Buffer | string) => this.#onData(run, stream, chunk));
      readable?.on('error', () => undefined);
    }
    child.stdin?.on('error', () => undefined);
    const progress = this.#opts.onProgressLine;
    const progressPipe = progress ? child.stdio[3] : null;
    if (progress && progressPipe && 'on' in progressPipe) {
      const splitter = new LineSplitter();
      progressPipe.on('data', (chunk: Buffer | string) => {
        if (run !== this.#run) return;
        for (const line of splitter.push(chunk)) progress(line);
      });
      progressPipe.on('error', () => undefined);
    }
    child.on('close', () => run.markClosed());
    child.on('exit', (code, signal) => void this.#onExit(run, code, signal, null));
    child.on('error', (err) => {
      if (run.pid === null) void this.#onExit(run, null, null, err);
      else this.#log.warn({ err }, 'child process error');
    });

    if (run.pid !== null) {
      this.#pidFile.write(run.pid);
      this.#log.info({ pid: run.pid, command: this.command }, 'process started');
      this.#log.debug({ args: this.args }, 'arguments');
    }
    this.#setState('starting');
    if (this.#opts.healthCheck === undefined && run.pid !== null) {
      child.on('spawn', () => this.#onSpawnedWithoutHealthCheck(run));
    }
    this.#health.start(run);
  }

  #onSpawnedWithoutHealthCheck(run: Run): void {
    if (run !== this.#run || run.exited || run.stopping || this.#state !== 'starting') return;
    this.#setState('running');
  }

  #onData(run: Run, stream: OutputStream, chunk: Buffer | string): void {
    run.lastOutputAt = Date.now();
    if (stream === 'stdout' && this.#opts.onStdoutData) {
      if (run === this.#run) this.#opts.onStdoutData(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
      return;
    }
    for (const line of run.splitters[stream].push(chunk)) this.#output.line(run, stream, line);
  }

  // ---- exit handling ------------------------------------------------------------------------------

  async #onExit(run: Run, code: number | null, signal: NodeJS.Signals | null, spawnError: Error | null): Promise<void> {
    if (run.exited) return;
    run.exited = true;
    clearRunTimers(run);
    if (spawnError === null) await settlesWithin(run.closed, DRAIN_AFTER_EXIT_MS);
    for (const stream of ['stdout', 'stderr'] as const) {
      for (const line of run.splitters[stream].flush()) this.#output.line(run, stream, line);
    }
    if (this.#run === run) this.#run = null;

    const cleanup = this.#cleanupGroup(run);
    this.#cleanup = cleanup;
    void cleanup.then(() => {
      if (this.#cleanup === cleanup) this.#cleanup = null;
    });

    if (run.stopping) return; // stop() finishes the transition once `done` resolves
    if (this.#restartsHeld) {
      this.#log.info({ pid: run.pid }, 'exited while shutting down; not restarting');
      this.#setState('stopped');
      return;
    }

    const exitText =
      spawnError !== null
        ? `failed to start: ${errorMessage(spawnError)}`
        : signal !== null
          ? `killed by ${signal}`
          : `exited with code ${code}`;
    if (!this.#restartOnExit && run.killReason === null && spawnError === null && code === 0) {
      this.#log.info({ pid: run.pid }, 'finished');
      this.#setState('stopped');
      return;
    }
    const reason = run.killReason ?? exitText;
    const decision = this.#policy.next(Date.now());
    if (decision.action === 'restart') {
      this.#lastError = this.#output.describe(reason, run);
      this.#log.warn({ pid: run.pid, delayMs: decision.delayMs }, `${reason}; restarting`);
      this.#setState('backoff');
      const generation = this.#generation;
      this.#backoffTimer = setTimeout(() => {
        this.#backoffTimer = null;
        void cleanup.then(() => {
          if (generation !== this.#generation || this.#state !== 'backoff' || this.#run !== null) return;
          this.#restarts++;
          this.#spawn();
        });
      }, decision.delayMs);
    } else {
      this.#lastError = this.#output.describe(`${decision.reason}; last: ${reason}`, run);
      this.#log.error({ pid: run.pid }, `giving up: ${decision.reason}; last: ${reason}`);
      this.#setState('failed');
    }
  }

  /** Kills whatever is left in the dead leader's process group, removes the pid file, resolves run.done. */
  async #cleanupGroup(run: Run): Promise<void> {
    try {
      if (run.pid !== null && isGroupAlive(run.pid)) {
        this.#log.debug({ pgid: run.pid }, 'terminating processes left in the group');
        const gone = await terminateGroup(run.pid, this.#killGraceMs);
        if (!gone) this.#log.warn({ pgid: run.pid }, 'processes left in the group survived SIGKILL');
      }
      if (run.pid !== null) this.#pidFile.remove();
    } catch (err) {
      this.#log.warn({ err }, 'group cleanup failed');
    } finally {
      run.markDone();
    }
  }

  #clearBackoff(): void {
    if (this.#backoffTimer !== null) {
      clearTimeout(this.#backoffTimer);
      this.#backoffTimer = null;
    }
  }

  #setState(next: ProcessState): void {
    const previous = this.#state;
    if (previous === next) return;
    this.#state = next;
    const event: ProcessStateEvent = {
      name: this.name,
      state: next,
      previous,
      pid: this.pid,
      restarts: this.#restarts,
      lastError: this.#lastError,
      at: new Date().toISOString(),
    };
    this.#bus.emit('process.state', event);
    if (this.#waiters.size > 0) {
      const snapshot = this.snapshot();
      for (const waiter of [...this.#waiters]) {
        if (waiter.states.includes(next)) {
          this.#waiters.delete(waiter);
          waiter.resolve(snapshot);
        }
      }
    }
  }
}
