#!/usr/bin/env node
// A watchdog on its parent's pipe (plain Node, no dependencies): `npm run demo` starts it with a
// pipe on its stdin and writes the pid of every process group it starts there, one per line. When
// that pipe closes — the demo exited, was killed with SIGKILL, or its terminal went away — the
// watchdog ends those groups and every group named by a pid file in the given folder (the
// engines' and FFmpeg jobs' `<name>.pid`, JSON `{pid, command}`): SIGTERM, then SIGKILL after 3 s.
//   node scripts/watchdog.mjs <pid-file folder>
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const pidDir = process.argv[2];
const groups = new Set();
let buffered = '';

process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  buffered += chunk;
  const lines = buffered.split('\n');
  buffered = lines.pop() ?? '';
  for (const line of lines) {
    const pid = Number(line.trim());
    if (Number.isInteger(pid) && pid > 1) groups.add(pid);
  }
});
process.stdin.on('close', () => void endAll());
process.stdin.on('error', () => void endAll());
// The watchdog itself must outlive a Ctrl-C sent to the demo's process group.
for (const signal of ['SIGINT', 'SIGHUP']) process.on(signal, () => undefined);

function fromPidFiles() {
  if (!pidDir) return [];
  try {
    return readdirSync(pidDir)
      .filter((n) => n.endsWith('.pid'))
      .map((n) => {
        try {
          const { pid, command } = JSON.parse(readFileSync(join(pidDir, n), 'utf8'));
          // A stale file's pid may belong to something else by now: only the command it names.
          const argv0 = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0];
          return argv0 === command ? Number(pid) : Number.NaN;
        } catch {
          return Number.NaN;
        }
      })
      .filter((pid) => Number.isInteger(pid) && pid > 1);
  } catch {
    return [];
  }
}

function signal(pid, sig) {
  let alive = false;
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, sig);
      alive = true;
    } catch {
      // no such group or process
    }
  }
  return alive;
}

let ending = false;
async function endAll() {
  if (ending) return;
  ending = true;
  const all = new Set([...groups, ...fromPidFiles()]);
  const alive = [...all].filter((pid) => signal(pid, 'SIGTERM'));
  if (alive.length > 0) {
    await new Promise((r) => setTimeout(r, 3000));
    for (const pid of alive) signal(pid, 'SIGKILL');
  }
  process.exit(0);
}
