/**
 * Process-group helpers (Linux /proc based, with kill(2) fallbacks) and the start-up reaper for
 * children left behind by a previous Camstack that was killed with SIGKILL.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../log/logger.js';

/** Contents of `<pidDir>/<name>.pid`, written by ManagedProcess on spawn. */
export interface PidFile {
  pid: number;
  command: string;
}

interface ProcStat {
  state: string;
  ppid: number;
  pgrp: number;
}

function errnoCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : undefined;
}

/** Parses /proc/<pid>/stat; null when the process does not exist (or /proc is unavailable). */
function readProcStat(pid: number): ProcStat | null {
  let raw: string;
  try {
    raw = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // "pid (comm) state ppid pgrp ..." — comm may contain spaces and parentheses, so split after the last ')'.
  const fields = raw.slice(raw.lastIndexOf(')') + 2).split(' ');
  const [state, ppid, pgrp] = fields;
  if (state === undefined || ppid === undefined || pgrp === undefined) return null;
  return { state, ppid: Number(ppid), pgrp: Number(pgrp) };
}

/** argv of a live process, from /proc/<pid>/cmdline; null if unavailable. */
export function readCmdline(pid: number): string[] | null {
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    const argv = raw.split('\0');
    if (argv.at(-1) === '') argv.pop();
    return argv;
  } catch {
    return null;
  }
}

/** True if `pid` exists and is not a zombie (a zombie has exited and only waits to be reaped). */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if (errnoCode(err) !== 'EPERM') return false;
  }
  const stat = readProcStat(pid);
  return stat === null ? true : stat.state !== 'Z';
}

/** True if any non-zombie process is still in process group `pgid`. */
export function isGroupAlive(pgid: number): boolean {
  if (!Number.isInteger(pgid) || pgid <= 0) return false;
  try {
    process.kill(-pgid, 0);
  } catch (err) {
    if (errnoCode(err) !== 'EPERM') return false;
  }
  // kill(-pgid, 0) also succeeds when only zombies are left; look closer when /proc is available.
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return true;
  }
  for (const entry of entries) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid <= 0) continue;
    const stat = readProcStat(pid);
    if (stat !== null && stat.pgrp === pgid && stat.state !== 'Z') return true;
  }
  return false;
}

/** Sends `signal` to the whole process group `pgid`. Returns false if the group no longer exists. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  if (!Number.isInteger(pgid) || pgid <= 0) return false;
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ESRCH' || code === 'EPERM') return false;
    throw err;
  }
}

/** Polls `condition` every `intervalMs` until it is true or `timeoutMs` elapsed. Resolves with the last value. */
export async function pollUntil(condition: () => boolean, timeoutMs: number, intervalMs = 25): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (condition()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(Math.min(intervalMs, Math.max(1, deadline - Date.now())));
  }
}

/**
 * SIGTERM to the group, up to `graceMs` for it to go, then SIGKILL and up to `killWaitMs` more.
 * Resolves true once no live member is left.
 */
export async function terminateGroup(pgid: number, graceMs: number, killWaitMs = 2000): Promise<boolean> {
  if (!isGroupAlive(pgid)) return true;
  signalGroup(pgid, 'SIGTERM');
  if (await pollUntil(() => !isGroupAlive(pgid), graceMs)) return true;
  signalGroup(pgid, 'SIGKILL');
  return pollUntil(() => !isGroupAlive(pgid), killWaitMs);
}

/** File name used for a supervised process's pid file: anything outside [A-Za-z0-9._-] becomes "_". */
export function pidFileName(name: string): string {
  return `${name.replace(/[^A-Za-z0-9._-]/g, '_')}.pid`;
}

function parsePidFile(raw: string): PidFile | null {
  try {
    const data: unknown = JSON.parse(raw);
    if (typeof data !== 'object' || data === null) return null;
    const { pid, command } = data as Record<string, unknown>;
    if (typeof pid !== 'number' || !Number.isInteger(pid) || pid <= 1 || typeof command !== 'string') return null;
    return { pid, command };
  } catch {
    return null;
  }
}

/**
 * The recorded process is still ours if its argv[0] is the recorded command. argv[1] is accepted too:
 * when the command is a script, the kernel puts the interpreter (#!) in argv[0] and the script in argv[1].
 */
function isSameCommand(pid: number, command: string): boolean {
  const argv = readCmdline(pid);
  if (argv === null || argv.length === 0) return false;
  return argv[0] === command || argv[1] === command;
}

export interface ReapOptions {
  /** How long to wait after SIGTERM before SIGKILL. Default 3000 ms. */
  graceMs?: number;
}

/**
 * For every `*.pid` file left in `pidDir` by a previous run: if that pid is alive and still runs the recorded
 * command, SIGTERM its process group, wait up to 3 s, then SIGKILL. Every pid file is deleted.
 * Returns the pids that were reaped. A missing `pidDir` is not an error.
 */
export async function reapOrphans(pidDir: string, logger: Logger, options: ReapOptions = {}): Promise<number[]> {
  const graceMs = options.graceMs ?? 3000;
  let files: string[];
  try {
    files = (await readdir(pidDir)).filter((f) => f.endsWith('.pid'));
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return [];
    throw err;
  }
  const reaped: number[] = [];
  await Promise.all(
    files.map(async (file) => {
      const path = join(pidDir, file);
      try {
        const record = parsePidFile(await readFile(path, 'utf8').catch(() => ''));
        if (record === null) {
          logger.warn({ file: path }, 'ignoring unreadable pid file');
          return;
        }
        if (record.pid === process.pid || !isProcessAlive(record.pid)) return;
        if (!isSameCommand(record.pid, record.command)) {
          logger.debug(
            { pid: record.pid, command: record.command },
            'pid from a previous run now belongs to another program',
          );
          return;
        }
        const stat = readProcStat(record.pid);
        const isLeader = stat === null || stat.pgrp === record.pid;
        logger.warn({ pid: record.pid, command: record.command }, 'killing orphan left by a previous run');
        if (isLeader) {
          await terminateGroup(record.pid, graceMs);
        } else {
          process.kill(record.pid, 'SIGTERM');
          if (!(await pollUntil(() => !isProcessAlive(record.pid), graceMs))) {
            try {
              process.kill(record.pid, 'SIGKILL');
            } catch {
              // already gone
            }
            await pollUntil(() => !isProcessAlive(record.pid), 2000);
          }
        }
        reaped.push(record.pid);
      } catch (err) {
        logger.warn({ err, file: path }, 'failed to reap orphan');
      } finally {
        await rm(path, { force: true }).catch(() => undefined);
      }
    }),
  );
  return reaped.sort((a, b) => a - b);
}
