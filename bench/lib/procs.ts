/**
 * What the benchmarks read about processes, from /proc only (so other load on the machine does not
 * inflate it): CPU seconds, resident memory, open file descriptors, and the engines of a server.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { processesMatching } from '../../test/helpers/processes.js';

const CLK_TCK = 100;

/** CPU seconds (user + system) a process has used so far; null when it is gone. */
export function cpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / CLK_TCK;
  } catch {
    return null;
  }
}

/** Resident set size in bytes (VmRSS); null when the process is gone. */
export function rssBytes(pid: number): number | null {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** Open file descriptors (sockets included); null when the process is gone. */
export function fdCount(pid: number): number | null {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return null;
  }
}

/** Threads of a process; null when it is gone. */
export function threadCount(pid: number): number | null {
  try {
    const m = /^Threads:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

export interface ServerPids {
  node: number;
  go2rtc: number;
  mediamtx: number;
}

/** The server's own pid and its two engines (found by the server's temp dir in their argv). */
export function serverPids(nodePid: number | undefined, dir: string): ServerPids {
  const procs = processesMatching(dir);
  const mediamtx = procs.find((p) => p.argv.some((a) => a.endsWith('mediamtx.yml')));
  const go2rtc = procs.find((p) => p.argv.some((a) => a.endsWith('go2rtc.yaml')));
  if (!mediamtx || !go2rtc || !nodePid) throw new Error('the server or one of its engines is not running');
  return { node: nodePid, go2rtc: go2rtc.pid, mediamtx: mediamtx.pid };
}

/** FFmpeg jobs the server started (MJPEG, clips, exports, snapshots), by their argv. */
export function ffmpegJobs(dir: string): number[] {
  return processesMatching(dir)
    .filter((p) => /(^|\/)ffmpeg$/.test(p.argv[0] ?? ''))
    .map((p) => p.pid);
}

export const mib = (bytes: number): string => (bytes / 2 ** 20).toFixed(1);
