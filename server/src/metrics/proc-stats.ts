/**
 * Resource usage of supervised processes, read from /proc (Linux only; elsewhere every read is null).
 * I/O lives in the read* functions; parseStat, parseStatusRss and cpuPercent are pure.
 */
import { readdir, readFile } from 'node:fs/promises';

/**
 * Clock ticks per second (USER_HZ) used by the times in /proc/<pid>/stat. Node cannot call sysconf, but
 * `getconf CLK_TCK` is 100 on every Linux architecture Home Assistant runs on (amd64, aarch64, armv7, i386).
 */
export const CLK_TCK = 100;

/** Reads of the whole process table run in batches of this many files at a time. */
const SCAN_CONCURRENCY = 64;

export interface ProcStats {
  pid: number;
  /** CPU time of the process itself (utime + stime), seconds. */
  cpuSecondsTotal: number;
  /** Resident set size (VmRSS), bytes. */
  rssBytes: number;
  /** Entries of /proc/<pid>/fd (0 when not readable). */
  openFds: number;
  threads: number;
  /** When the process started, in seconds after boot: with pid it identifies the process across pid reuse. */
  startTime: number;
}

export interface GroupStats extends ProcStats {
  /**
   * CPU time of the process and all its live descendants, plus what their already exited and reaped
   * children used (cutime + cstime), so it does not drop when a child ends.
   */
  cpuSecondsTotal: number;
  /** Summed over the group (pages shared between members are counted once per member). */
  rssBytes: number;
  openFds: number;
  threads: number;
  /** The root first, then its descendants. */
  pids: number[];
}

/** The fields of /proc/<pid>/stat Camstack uses. */
export interface StatFields {
  pid: number;
  comm: string;
  state: string;
  ppid: number;
  utimeTicks: number;
  stimeTicks: number;
  /** Times of reaped children. */
  cutimeTicks: number;
  cstimeTicks: number;
  threads: number;
  startTimeTicks: number;
}

/** PURE: parses /proc/<pid>/stat. The command name is parenthesised and may contain spaces and ')'. */
export function parseStat(text: string): StatFields | null {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return null;
  const pid = Number(text.slice(0, open).trim());
  // Fields from 3 (state) on; index = field number - 3.
  const rest = text
    .slice(close + 1)
    .trim()
    .split(/\s+/);
  const num = (field: number): number => Number(rest[field - 3]);
  const fields: StatFields = {
    pid,
    comm: text.slice(open + 1, close),
    state: rest[0] ?? '',
    ppid: num(4),
    utimeTicks: num(14),
    stimeTicks: num(15),
    cutimeTicks: num(16),
    cstimeTicks: num(17),
    threads: num(20),
    startTimeTicks: num(22),
  };
  const numbers = [
    fields.pid,
    fields.ppid,
    fields.utimeTicks,
    fields.stimeTicks,
    fields.cutimeTicks,
    fields.cstimeTicks,
    fields.threads,
    fields.startTimeTicks,
  ];
  return fields.state !== '' && numbers.every(Number.isFinite) ? fields : null;
}

/** PURE: VmRSS from /proc/<pid>/status in bytes (0 when absent, e.g. kernel threads and zombies). */
export function parseStatusRss(text: string): number {
  const match = /^VmRSS:\s+(\d+)\s*kB/m.exec(text);
  return match === null ? 0 : Number(match[1]) * 1024;
}

/** A process that is gone (or not a process) makes /proc reads fail with one of these. */
function isGone(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ESRCH' || code === 'ENOTDIR' || code === 'EINVAL';
}

async function readStat(pid: number, procRoot: string): Promise<StatFields | null> {
  try {
    return parseStat(await readFile(`${procRoot}/${pid}/stat`, 'utf8'));
  } catch (err) {
    if (isGone(err)) return null;
    throw err;
  }
}

async function countFds(pid: number, procRoot: string): Promise<number | null> {
  try {
    return (await readdir(`${procRoot}/${pid}/fd`)).length;
  } catch (err) {
    if (isGone(err)) return null;
    return 0; // EACCES: someone else's process
  }
}

async function readRss(pid: number, procRoot: string): Promise<number | null> {
  try {
    return parseStatusRss(await readFile(`${procRoot}/${pid}/status`, 'utf8'));
  } catch (err) {
    if (isGone(err)) return null;
    throw err;
  }
}

interface FullStats extends ProcStats {
  childrenCpuSecondsTotal: number;
}

async function readFull(pid: number, procRoot: string, stat?: StatFields): Promise<FullStats | null> {
  const s = stat ?? (await readStat(pid, procRoot));
  if (s === null || s.state === 'Z' || s.state === 'X') return null;
  const [rssBytes, openFds] = await Promise.all([readRss(pid, procRoot), countFds(pid, procRoot)]);
  if (rssBytes === null || openFds === null) return null;
  return {
    pid,
    cpuSecondsTotal: (s.utimeTicks + s.stimeTicks) / CLK_TCK,
    childrenCpuSecondsTotal: (s.cutimeTicks + s.cstimeTicks) / CLK_TCK,
    rssBytes,
    openFds,
    threads: s.threads,
    startTime: s.startTimeTicks / CLK_TCK,
  };
}

export interface ProcReadOptions {
  /** Where procfs is mounted (tests may point at a fake tree). Default '/proc'. */
  procRoot?: string;
}

/** Stats of one process; null when it is gone (or a zombie), or when /proc is not available. */
export async function readProcStats(pid: number, options: ProcReadOptions = {}): Promise<ProcStats | null> {
  const procRoot = options.procRoot ?? '/proc';
  if (!Number.isInteger(pid) || pid <= 0) return null;
  try {
    const full = await readFull(pid, procRoot);
    if (full === null) return null;
    const { childrenCpuSecondsTotal: _children, ...stats } = full;
    return stats;
  } catch {
    return null;
  }
}

async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += limit) {
    out.push(...(await Promise.all(items.slice(i, i + limit).map(fn))));
  }
  return out;
}

/**
 * The stat of every live (non-zombie) process, read from /proc/[0-9]*. Read it once and pass it to several
 * readGroupStats calls to avoid one scan per group. Rejects when /proc cannot be listed.
 */
export async function readProcessTable(options: ProcReadOptions = {}): Promise<StatFields[]> {
  const procRoot = options.procRoot ?? '/proc';
  const pids = (await readdir(procRoot)).filter((e) => /^\d+$/.test(e)).map(Number);
  const stats = await mapLimited(pids, SCAN_CONCURRENCY, (pid) => readStat(pid, procRoot).catch(() => null));
  return stats.filter((s): s is StatFields => s !== null && s.state !== 'Z' && s.state !== 'X');
}

/** PURE: `root` and its descendants, root first, from a pid → ppid table. */
export function descendants(root: number, table: readonly Pick<StatFields, 'pid' | 'ppid'>[]): number[] {
  const children = new Map<number, number[]>();
  for (const p of table) {
    if (p.pid === p.ppid) continue;
    const list = children.get(p.ppid);
    if (list) list.push(p.pid);
    else children.set(p.ppid, [p.pid]);
  }
  const out: number[] = [root];
  const seen = new Set(out);
  for (let i = 0; i < out.length; i++) {
    for (const child of children.get(out[i] ?? -1) ?? []) {
      if (seen.has(child)) continue;
      seen.add(child);
      out.push(child);
    }
  }
  return out;
}

/**
 * Stats of a process and all its descendants (go2rtc's FFmpeg children, a shell's grandchildren…),
 * the tree built from the ppid of every process in /proc. Null when the root is gone.
 */
export async function readGroupStats(
  pid: number,
  options: ProcReadOptions & {
    /** A table from readProcessTable (a few ms old at most); read afresh when absent. */
    table?: readonly StatFields[];
  } = {},
): Promise<GroupStats | null> {
  const procRoot = options.procRoot ?? '/proc';
  if (!Number.isInteger(pid) || pid <= 0) return null;
  try {
    const table = options.table ?? (await readProcessTable({ procRoot }));
    const byPid = new Map(table.map((s) => [s.pid, s]));
    if (!byPid.has(pid)) return null;
    const members = descendants(pid, table);
    const stats = await mapLimited(members, SCAN_CONCURRENCY, (p) =>
      readFull(p, procRoot, byPid.get(p)).catch(() => null),
    );
    const root = stats[0];
    if (root === null || root === undefined) return null;
    const group: GroupStats = {
      pid,
      cpuSecondsTotal: 0,
      rssBytes: 0,
      openFds: 0,
      threads: 0,
      startTime: root.startTime,
      pids: [],
    };
    for (const s of stats) {
      if (s === null) continue; // ended while we looked
      group.cpuSecondsTotal += s.cpuSecondsTotal + s.childrenCpuSecondsTotal;
      group.rssBytes += s.rssBytes;
      group.openFds += s.openFds;
      group.threads += s.threads;
      group.pids.push(s.pid);
    }
    return group;
  } catch {
    return null;
  }
}

export type CpuSample = Pick<ProcStats, 'pid' | 'startTime' | 'cpuSecondsTotal'>;

/**
 * PURE: CPU use between two samples in percent of one core (200 = two cores busy). Null without a previous
 * sample, for a different process (pid reused or restarted) or without elapsed time. Never negative.
 */
export function cpuPercent(prev: CpuSample | null, next: CpuSample, elapsedSeconds: number): number | null {
  if (prev === null || !(elapsedSeconds > 0)) return null;
  if (prev.pid !== next.pid || prev.startTime !== next.startTime) return null;
  return Math.max(0, ((next.cpuSecondsTotal - prev.cpuSecondsTotal) / elapsedSeconds) * 100);
}
