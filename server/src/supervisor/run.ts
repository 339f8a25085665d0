/**
 * One spawn of a managed process: the child (in its own process group), its timers and probe,
 * the line splitters of its output and the promises that say when it is closed and done. A
 * callback holding an older Run does nothing (ManagedProcess compares it with the live one).
 */
import type { Readable, Writable } from 'node:stream';
import { execa } from 'execa';
import { LineSplitter } from './output.js';

export type OutputStream = 'stdout' | 'stderr';

/** What ManagedProcess needs from the execa subprocess. */
export interface ChildHandle {
  readonly pid?: number | undefined;
  readonly stdin: Writable | null;
  readonly stdout: Readable | null;
  readonly stderr: Readable | null;
  readonly stdio: readonly (Readable | Writable | null | undefined)[];
  on(event: 'exit', listener: (code: number | null, signal: NodeJS.Signals | null) => void): unknown;
  on(event: 'close' | 'spawn', listener: () => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
}

export interface Run {
  readonly id: number;
  readonly child: ChildHandle | null;
  readonly pid: number | null;
  readonly spawnedAt: number;
  lastOutputAt: number;
  failingSince: number | null;
  /** Set when we kill the child ourselves because it is unhealthy or stuck. */
  killReason: string | null;
  /** Set by stop(): the exit is expected and must not trigger a restart. */
  stopping: boolean;
  exited: boolean;
  readonly timers: Set<NodeJS.Timeout>;
  probe: AbortController | null;
  readonly recent: string[];
  readonly splitters: Record<OutputStream, LineSplitter>;
  readonly closed: Promise<void>;
  /** Resolves once the leader exited, output drained, leftovers of its group were killed and the pid file removed. */
  readonly done: Promise<void>;
  markClosed: () => void;
  markDone: () => void;
}

export interface SpawnOptions {
  command: string;
  args: readonly string[];
  cwd?: string | undefined;
  /** Extra environment variables (merged over process.env). */
  env?: Readonly<Record<string, string | undefined>> | undefined;
  /** A fourth pipe (fd 3) for FFmpeg's `-progress pipe:3`. */
  progressPipe: boolean;
}

/**
 * Spawns the child detached (its pid is its process-group id) with piped stdio and returns the
 * Run; `child` is null and `spawnError` set when spawning threw.
 */
export function spawnRun(id: number, options: SpawnOptions): { run: Run; spawnError: Error | null } {
  let child: ChildHandle | null = null;
  let spawnError: Error | null = null;
  try {
    const subprocess = execa(options.command, options.args, {
      cwd: options.cwd,
      env: options.env,
      extendEnv: true,
      detached: true,
      reject: false,
      buffer: false,
      cleanup: false,
      forceKillAfterDelay: false,
      stdio: options.progressPipe ? ['pipe', 'pipe', 'pipe', 'pipe'] : ['pipe', 'pipe', 'pipe'],
    });
    subprocess.catch(() => undefined);
    child = subprocess;
  } catch (err) {
    spawnError = err instanceof Error ? err : new Error(String(err));
  }

  const now = Date.now();
  let markClosed = (): void => undefined;
  let markDone = (): void => undefined;
  const closed = new Promise<void>((resolve) => {
    markClosed = resolve;
  });
  const done = new Promise<void>((resolve) => {
    markDone = resolve;
  });
  const run: Run = {
    id,
    child,
    pid: child?.pid ?? null,
    spawnedAt: now,
    lastOutputAt: now,
    failingSince: null,
    killReason: null,
    stopping: false,
    exited: false,
    timers: new Set(),
    probe: null,
    recent: [],
    splitters: { stdout: new LineSplitter(), stderr: new LineSplitter() },
    closed,
    done,
    markClosed,
    markDone,
  };
  return { run, spawnError };
}

/** Clears the run's timers and aborts its probe in flight. */
export function clearRunTimers(run: Run): void {
  for (const timer of run.timers) clearTimeout(timer);
  run.timers.clear();
  if (run.probe !== null && !run.probe.signal.aborted) run.probe.abort(new Error('probe cancelled'));
  run.probe = null;
}

function delay(ms: number): { promise: Promise<void>; cancel: () => void } {
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  return { promise, cancel: () => clearTimeout(timer) };
}

/** Resolves true if `promise` settles within `ms`, false otherwise. Leaves no timer behind. */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  const d = delay(ms);
  try {
    return await Promise.race([promise.then(() => true), d.promise.then(() => false)]);
  } finally {
    d.cancel();
  }
}
