import { readdirSync, readFileSync } from 'node:fs';

export interface ProcInfo {
  pid: number;
  ppid: number;
  argv: string[];
}

/** The real process table, read from /proc (not our own bookkeeping). */
export function processTable(): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').filter(Boolean);
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Field 4 (ppid) comes after the parenthesised command name, which may contain spaces.
      const after = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const state = after[0];
      if (state === 'Z') continue; // a zombie has exited; its parent has not reaped it yet
      out.push({ pid: Number(entry), ppid: Number(after[1]), argv });
    } catch {
      // the process ended while we looked
    }
  }
  return out;
}

/** Every process in `table` descending from one of `roots` (the roots included). */
function withDescendants(table: ProcInfo[], roots: Iterable<number>): Set<number> {
  const hits = new Set(roots);
  let grew = true;
  while (grew) {
    grew = false;
    for (const p of table) {
      if (!hits.has(p.pid) && hits.has(p.ppid)) {
        hits.add(p.pid);
        grew = true;
      }
    }
  }
  return hits;
}

/** Processes whose command line mentions `marker` (e.g. a test's unique temp dir), plus their descendants. */
export function processesMatching(marker: string): ProcInfo[] {
  const table = processTable();
  const hits = withDescendants(
    table,
    table.filter((p) => p.argv.some((a) => a.includes(marker))).map((p) => p.pid),
  );
  return table.filter((p) => hits.has(p.pid) && p.pid !== process.pid);
}

export function descendantsOf(pid: number): ProcInfo[] {
  const table = processTable();
  const hits = withDescendants(table, [pid]);
  hits.delete(pid);
  return table.filter((p) => hits.has(p.pid));
}

export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

export async function waitUntil(
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
