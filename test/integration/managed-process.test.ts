import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { EventBus, type ProcessState, type ProcessStateEvent } from '../../server/src/events/bus.js';
import { createLogger, type Logger } from '../../server/src/log/logger.js';
import { SecretRedactor } from '../../server/src/log/redact.js';
import { ManagedProcess, type ManagedProcessOptions } from '../../server/src/supervisor/managed-process.js';
import { reapOrphans } from '../../server/src/supervisor/orphans.js';

const SH = '/bin/sh';
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'camstack-mp-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** Independent of the supervisor's bookkeeping: does the kernel still have a live (non-zombie) process? */
function isGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

async function until(what: string, condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

interface Harness {
  bus: EventBus;
  logger: Logger;
  logLines: string[];
  redactor: SecretRedactor;
  events: ProcessStateEvent[];
  states: () => ProcessState[];
  make: (options: Partial<ManagedProcessOptions> & Pick<ManagedProcessOptions, 'command' | 'args'>) => ManagedProcess;
}

function harness(t: TestContext): Harness {
  const bus = new EventBus();
  const redactor = new SecretRedactor();
  const logLines: string[] = [];
  const logger = createLogger({
    level: 'debug',
    redactor,
    destination: { write: (chunk: string) => logLines.push(chunk) },
  });
  const events: ProcessStateEvent[] = [];
  bus.on('process.state', (e) => events.push(e), 'test');
  const created: ManagedProcess[] = [];
  t.after(async () => {
    await Promise.all(created.map((p) => p.stop()));
  });
  return {
    bus,
    logger,
    logLines,
    redactor,
    events,
    states: () => events.map((e) => e.state),
    make(options) {
      const proc = new ManagedProcess({
        name: `test:${t.name}`,
        bus,
        logger,
        redactor,
        policy: { baseDelayMs: 20, maxDelayMs: 100, maxRestarts: 3, windowMs: 60_000 },
        stopGraceMs: 1000,
        killGraceMs: 1000,
        ...options,
      });
      created.push(proc);
      return proc;
    },
  };
}

describe('ManagedProcess', { timeout: 60_000 }, () => {
  it('gives up after the restart cap with the stderr of the crash in lastError', async (t) => {
    const h = harness(t);
    const proc = h.make({ command: SH, args: ['-c', 'echo "fatal: cannot bind :8554" >&2; exit 3'] });
    await proc.start();
    const snap = await proc.waitForState('failed', 5000);
    assert.equal(snap.restarts, 3);
    assert.equal(snap.pid, null);
    assert.match(snap.lastError ?? '', /exited with code 3/);
    assert.match(snap.lastError ?? '', /fatal: cannot bind :8554/);
    assert.match(snap.lastError ?? '', /failed 4 times within 1 min/);
    assert.equal(h.states().filter((s) => s === 'backoff').length, 3);
    const failed = h.events.at(-1);
    assert.equal(failed?.state, 'failed');
    assert.equal(failed?.lastError, snap.lastError);
    assert.equal(failed?.name, proc.name);
    assert.ok(!Number.isNaN(Date.parse(failed?.at ?? '')));

    // stays failed: nothing happens on its own
    await sleep(100);
    assert.equal(proc.state, 'failed');

    // a manual restart resets the policy and tries again (and fails again)
    h.events.length = 0;
    await proc.restart();
    await proc.waitForState('backoff', 2000);
    assert.equal(proc.lastError?.includes('times within'), false);
    await proc.waitForState('failed', 5000);
    assert.equal(proc.restarts, 7);
    assert.deepEqual(h.states().slice(0, 1), ['starting']);
  });

  it('reports a command that cannot be spawned', async (t) => {
    const h = harness(t);
    const proc = h.make({
      command: '/nonexistent/camstack-bin',
      args: [],
      policy: { baseDelayMs: 10, maxRestarts: 1 },
    });
    await proc.start();
    const snap = await proc.waitForState('failed', 5000);
    assert.match(snap.lastError ?? '', /failed to start: .*ENOENT/);
    assert.ok(!h.states().includes('running'));
  });

  it('restarts with a new pid when the health check starts failing', async (t) => {
    const h = harness(t);
    let healthy = true;
    let probes = 0;
    const proc = h.make({
      command: 'sleep',
      args: ['1000'],
      healthCheck: async (signal) => {
        probes++;
        assert.ok(signal instanceof AbortSignal);
        return healthy;
      },
      healthIntervalMs: 30,
      unhealthyAfterMs: 300,
    });
    await proc.start();
    assert.equal(proc.state, 'starting');
    const first = await proc.waitForState('running', 5000);
    assert.ok(first.pid !== null && first.pid > 0);
    assert.ok(probes >= 1);
    assert.ok(proc.startedAt instanceof Date);

    healthy = false;
    const backoff = await proc.waitForState('backoff', 5000);
    assert.match(backoff.lastError ?? '', /health check failing/);
    healthy = true;
    const second = await proc.waitForState('running', 5000);
    assert.notEqual(second.pid, first.pid);
    assert.equal(second.restarts, 1);
    assert.ok(isGone(first.pid), 'the unhealthy child was killed');
    assert.deepEqual(h.states(), ['starting', 'running', 'backoff', 'starting', 'running']);
  });

  it('kills and restarts a child that never becomes healthy', async (t) => {
    const h = harness(t);
    const proc = h.make({
      command: 'sleep',
      args: ['1000'],
      healthCheck: async () => false,
      healthIntervalMs: 20,
      unhealthyAfterMs: 150,
      policy: { baseDelayMs: 10, maxRestarts: 1 },
    });
    await proc.start();
    const pid = proc.pid;
    const snap = await proc.waitForState('failed', 5000);
    assert.match(snap.lastError ?? '', /not healthy 150 ms after start/);
    assert.ok(pid !== null && isGone(pid));
    assert.ok(!h.states().includes('running'));
  });

  it('treats a hanging health check as failed (timeout + abort signal)', async (t) => {
    const h = harness(t);
    let aborted = 0;
    const proc = h.make({
      command: 'sleep',
      args: ['1000'],
      healthCheck: (signal) =>
        new Promise<boolean>(() => {
          signal.addEventListener('abort', () => aborted++);
        }),
      healthIntervalMs: 20,
      healthTimeoutMs: 50,
      unhealthyAfterMs: 200,
      policy: { baseDelayMs: 10, maxRestarts: 0 },
    });
    await proc.start();
    await proc.waitForState('failed', 5000);
    assert.ok(aborted >= 1);
  });

  it('comes back with a new pid after kill -9 of the child', async (t) => {
    const h = harness(t);
    const proc = h.make({ command: 'sleep', args: ['1000'] });
    await proc.start();
    const first = await proc.waitForState('running', 5000);
    assert.ok(first.pid !== null);
    process.kill(first.pid, 'SIGKILL');
    await proc.waitForState('backoff', 5000);
    assert.match(proc.lastError ?? '', /killed by SIGKILL/);
    const second = await proc.waitForState('running', 5000);
    assert.ok(second.pid !== null && second.pid !== first.pid);
    assert.ok(isGone(first.pid));
    assert.ok(!isGone(second.pid));
  });

  it('stop() escalates SIGINT → SIGTERM → SIGKILL and resolves only after the exit', async (t) => {
    const h = harness(t);
    const proc = h.make({
      command: SH,
      args: ['-c', "trap '' INT TERM; echo ready; while :; do sleep 0.05; done"],
      stopGraceMs: 200,
      killGraceMs: 200,
    });
    await proc.start();
    await until('ready', () => proc.tail.includes('ready'));
    const pid = proc.pid;
    assert.ok(pid !== null);
    const began = Date.now();
    await proc.stop();
    const took = Date.now() - began;
    assert.ok(took >= 380, `stop took ${took} ms`);
    assert.ok(isGone(pid), 'child is gone when stop() resolves');
    assert.equal(proc.state, 'stopped');
    assert.equal(proc.pid, null);
    assert.deepEqual(h.states().slice(-2), ['stopping', 'stopped']);
    const log = h.logLines.join('');
    assert.match(log, /sending SIGTERM/);
    assert.match(log, /sending SIGKILL/);
    // idempotent
    await proc.stop();
    assert.equal(h.states().at(-1), 'stopped');
  });

  it('stop() uses SIGTERM when SIGINT is ignored, without needing SIGKILL', async (t) => {
    const h = harness(t);
    const proc = h.make({
      command: SH,
      args: ['-c', "trap '' INT; echo ready; while :; do sleep 0.05; done"],
      stopGraceMs: 150,
      killGraceMs: 3000,
    });
    await proc.start();
    await until('ready', () => proc.tail.includes('ready'));
    const pid = proc.pid;
    const began = Date.now();
    const [a, b] = [proc.stop(), proc.stop()];
    assert.equal(a, b, 'concurrent stop() calls share one promise');
    await a;
    assert.ok(Date.now() - began < 2000);
    assert.ok(pid !== null && isGone(pid));
    assert.doesNotMatch(h.logLines.join(''), /sending SIGKILL/);
  });

  it("stop() with the 'q' method writes q to stdin", async (t) => {
    const h = harness(t);
    const proc = h.make({
      command: SH,
      args: ['-c', 'echo ready; read line; echo "got $line"; exit 0'],
      stopMethod: 'q',
      stopGraceMs: 5000,
    });
    await proc.start();
    await until('ready', () => proc.tail.includes('ready'));
    const began = Date.now();
    await proc.stop();
    assert.ok(Date.now() - began < 2000, 'exited on q, not on SIGTERM');
    assert.ok(proc.tail.includes('got q'));
    assert.equal(proc.state, 'stopped');
  });

  it('leaves no grandchild behind after stop()', async (t) => {
    const h = harness(t);
    const proc = h.make({
      command: SH,
      args: ['-c', 'sleep 1000 & echo "grandchild $!"; sleep 1000'],
      killGraceMs: 500,
    });
    await proc.start();
    await until('grandchild pid', () => proc.tail.some((l) => l.startsWith('grandchild ')));
    const grandchild = Number(proc.tail.find((l) => l.startsWith('grandchild '))?.split(' ')[1]);
    const pid = proc.pid;
    assert.ok(pid !== null && Number.isInteger(grandchild));
    assert.ok(!isGone(grandchild));
    await proc.stop();
    assert.ok(isGone(pid), 'child is gone');
    assert.ok(isGone(grandchild), 'grandchild is gone');
  });

  it('kills what a crashed child left in its group before restarting', async (t) => {
    const h = harness(t);
    const proc = h.make({
      command: SH,
      args: ['-c', 'sleep 1000 & echo "grandchild $!"; exit 1'],
      killGraceMs: 300,
      policy: { baseDelayMs: 10, maxRestarts: 0 },
    });
    await proc.start();
    await proc.waitForState('failed', 5000);
    const grandchild = Number(proc.tail.find((l) => l.startsWith('grandchild '))?.split(' ')[1]);
    assert.ok(Number.isInteger(grandchild) && grandchild > 0);
    await until('grandchild reaped', () => isGone(grandchild), 3000);
    await proc.stop();
    assert.ok(isGone(grandchild));
  });

  it('redacts secrets printed by the child in tail, logs, onLine and lastError', async (t) => {
    const h = harness(t);
    h.redactor.add('Sup3rSecret');
    const seen: string[] = [];
    const proc = h.make({
      command: SH,
      args: [
        '-c',
        'echo "connecting rtsp://admin:Sup3rSecret@cam/s1"; echo "auth with Sup3rSecret failed" >&2; echo "also http://u:unregistered@x/y"; exit 2',
      ],
      onLine: (stream, line) => seen.push(`${stream}:${line}`),
      policy: { baseDelayMs: 10, maxRestarts: 0 },
    });
    await proc.start();
    const snap = await proc.waitForState('failed', 5000);
    const everything = [...proc.tail, ...seen, snap.lastError ?? '', h.logLines.join('')].join('\n');
    assert.ok(!everything.includes('Sup3rSecret'), everything);
    assert.ok(!everything.includes('unregistered'), everything);
    assert.ok(proc.tail.includes('connecting rtsp://***@cam/s1'));
    assert.ok(proc.tail.includes('auth with *** failed'));
    assert.ok(proc.tail.includes('also http://***@x/y'));
    assert.ok(seen.includes('stderr:auth with *** failed'));
    assert.match(snap.lastError ?? '', /auth with \*\*\* failed/);
  });

  it('keeps only the last tailLines lines', async (t) => {
    const h = harness(t);
    const proc = h.make({
      command: SH,
      args: ['-c', 'i=0; while [ $i -lt 25 ]; do echo "line $i"; i=$((i+1)); done; printf "no newline"; exit 0'],
      tailLines: 5,
      restartOnExit: false,
    });
    await proc.start();
    await proc.waitForState('stopped', 5000);
    assert.deepEqual(proc.tail, ['line 21', 'line 22', 'line 23', 'line 24', 'no newline']);
  });

  it('restarts a child whose output stalls (stuck detection)', async (t) => {
    const h = harness(t);
    const proc = h.make({
      command: SH,
      args: ['-c', 'echo hello; sleep 1000'],
      stuckAfterMs: 250,
      policy: { baseDelayMs: 10, maxRestarts: 1 },
    });
    await proc.start();
    const first = await proc.waitForState('running', 5000);
    const backoff = await proc.waitForState('backoff', 5000);
    assert.match(backoff.lastError ?? '', /stuck: no output/);
    const failed = await proc.waitForState('failed', 5000);
    assert.equal(failed.restarts, 1);
    assert.ok(first.pid !== null && isGone(first.pid));
  });

  it('does not consider a chatty child stuck', async (t) => {
    const h = harness(t);
    const proc = h.make({
      command: SH,
      args: ['-c', 'while :; do echo tick; sleep 0.03; done'],
      stuckAfterMs: 200,
    });
    await proc.start();
    await proc.waitForState('running', 5000);
    await sleep(600);
    assert.equal(proc.state, 'running');
    assert.equal(proc.restarts, 0);
  });

  it('restartOnExit=false: exit code 0 is done, a non-zero exit is retried', async (t) => {
    const h = harness(t);
    const ok = h.make({ name: 'job-ok', command: SH, args: ['-c', 'echo done'], restartOnExit: false });
    await ok.start();
    const snap = await ok.waitForState('stopped', 5000);
    assert.deepEqual(snap, { state: 'stopped', pid: null, restarts: 0, lastError: null });
    assert.ok(ok.tail.includes('done'));

    const bad = h.make({
      name: 'job-bad',
      command: SH,
      args: ['-c', 'exit 1'],
      restartOnExit: false,
      policy: { baseDelayMs: 10, maxRestarts: 1 },
    });
    await bad.start();
    const failed = await bad.waitForState('failed', 5000);
    assert.equal(failed.restarts, 1);
  });

  it('stop() during backoff goes straight to stopped and cancels the respawn', async (t) => {
    const h = harness(t);
    const proc = h.make({ command: SH, args: ['-c', 'exit 1'], policy: { baseDelayMs: 5000 } });
    await proc.start();
    await proc.waitForState('backoff', 5000);
    await proc.stop();
    assert.equal(proc.state, 'stopped');
    assert.deepEqual(h.events.at(-1)?.previous, 'backoff');
    assert.ok(!h.states().includes('stopping'));
    await sleep(50);
    assert.equal(proc.state, 'stopped');
  });

  it('start() after stop() spawns again; start() while running is a no-op', async (t) => {
    const h = harness(t);
    const proc = h.make({ command: 'sleep', args: ['1000'] });
    await proc.start();
    const a = await proc.waitForState('running', 5000);
    await proc.start();
    assert.equal(proc.pid, a.pid);
    await proc.stop();
    await proc.start();
    const b = await proc.waitForState('running', 5000);
    assert.notEqual(b.pid, a.pid);
    assert.equal(b.restarts, 0);
    await assert.rejects(proc.waitForState('failed', 50), /timed out/);
  });

  it('writes a pid file while running and removes it after the exit', async (t) => {
    const h = harness(t);
    const pidDir = join(scratch, 'pids-own');
    const proc = h.make({ name: 'ffmpeg:front door/clip', command: 'sleep', args: ['1000'], pidDir });
    await proc.start();
    const { pid } = await proc.waitForState('running', 5000);
    const file = join(pidDir, 'ffmpeg_front_door_clip.pid');
    assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), { pid, command: 'sleep' });
    await proc.stop();
    assert.ok(!existsSync(file));
  });
});

describe('reapOrphans', { timeout: 30_000 }, () => {
  const logger = createLogger({ level: 'error', redactor: new SecretRedactor(), destination: { write: () => true } });

  it('kills a child left behind by a supervisor that was killed with -9', async () => {
    const pidDir = join(scratch, 'pids-orphan');
    const script = join(scratch, 'supervisor.mts');
    const mp = join(repoRoot, 'server/src/supervisor/managed-process.ts');
    const bus = join(repoRoot, 'server/src/events/bus.ts');
    const log = join(repoRoot, 'server/src/log/logger.ts');
    const red = join(repoRoot, 'server/src/log/redact.ts');
    writeFileSync(
      script,
      [
        `import { ManagedProcess } from ${JSON.stringify(mp)};`,
        `import { EventBus } from ${JSON.stringify(bus)};`,
        `import { createLogger } from ${JSON.stringify(log)};`,
        `import { SecretRedactor } from ${JSON.stringify(red)};`,
        'const redactor = new SecretRedactor();',
        "const logger = createLogger({ level: 'error', redactor });",
        `const p = new ManagedProcess({ name: 'orphan', command: 'sleep', args: ['1000'], bus: new EventBus(), logger, redactor, pidDir: ${JSON.stringify(pidDir)} });`,
        'await p.start();',
        "await p.waitForState('running', 5000);",
        "console.log('PID ' + p.pid);",
        'setInterval(() => {}, 1000);',
      ].join('\n'),
    );
    const supervisor = spawn(process.execPath, ['--import', 'tsx', script], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    supervisor.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    await until('the supervisor to report its child', () => /PID \d+/.test(out), 8000);
    const childPid = Number(/PID (\d+)/.exec(out)?.[1]);
    const exited = new Promise((resolve) => supervisor.once('exit', resolve));
    supervisor.kill('SIGKILL');
    await exited;
    assert.ok(!isGone(childPid), 'the child survived its supervisor');
    assert.ok(existsSync(join(pidDir, 'orphan.pid')));

    const reaped = await reapOrphans(pidDir, logger);
    assert.deepEqual(reaped, [childPid]);
    assert.ok(isGone(childPid));
    assert.ok(!existsSync(join(pidDir, 'orphan.pid')));
  });

  it('does not kill a recycled pid running another program, and cleans stale files', async (t) => {
    const pidDir = join(scratch, 'pids-recycled');
    const other = spawn('sleep', ['1000'], { detached: true, stdio: 'ignore' });
    t.after(() => {
      try {
        process.kill(-(other.pid ?? 0), 'SIGKILL');
      } catch {
        // already gone
      }
    });
    const otherPid = other.pid ?? 0;
    await reapOrphans(join(scratch, 'does-not-exist'), logger);
    mkdirSync(pidDir, { recursive: true });
    writeFileSync(join(pidDir, 'go2rtc.pid'), JSON.stringify({ pid: otherPid, command: 'go2rtc' }));
    writeFileSync(join(pidDir, 'dead.pid'), JSON.stringify({ pid: 2 ** 22 + 7, command: 'sleep' }));
    writeFileSync(join(pidDir, 'garbage.pid'), 'not json');
    const reaped = await reapOrphans(pidDir, logger);
    assert.deepEqual(reaped, []);
    assert.ok(!isGone(otherPid), 'an unrelated process is left alone');
    for (const f of ['go2rtc.pid', 'dead.pid', 'garbage.pid']) assert.ok(!existsSync(join(pidDir, f)));
  });
});
