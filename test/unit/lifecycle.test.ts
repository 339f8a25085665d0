import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EventBus, type ListenerError } from '../../server/src/events/bus.js';
import { Lifecycle, type LifecycleLog, type Part } from '../../server/src/lifecycle.js';

function recorder() {
  const lines: string[] = [];
  const log: LifecycleLog = {
    info: (_o, m) => lines.push(`info ${m}`),
    warn: (_o, m) => lines.push(`warn ${m}`),
    error: (_o, m) => lines.push(`error ${m}`),
  };
  return { lines, log };
}

function part(name: string, calls: string[], extra: Partial<Part> = {}): Part {
  return {
    name,
    start: () => void calls.push(`start ${name}`),
    quiesce: () => void calls.push(`quiesce ${name}`),
    stop: () => void calls.push(`stop ${name}`),
    ...extra,
  };
}

describe('Lifecycle', () => {
  it('starts the parts in order and stops them in reverse, quiescing every one first', async () => {
    const calls: string[] = [];
    const lc = new Lifecycle([part('a', calls), part('b', calls), part('c', calls)], recorder().log);
    await lc.start();
    await lc.stop('test');
    assert.deepEqual(calls, [
      'start a',
      'start b',
      'start c',
      'quiesce c',
      'quiesce b',
      'quiesce a',
      'stop c',
      'stop b',
      'stop a',
    ]);
  });

  it('a part that fails to start stops itself and what started before it, and nothing after it', async () => {
    const calls: string[] = [];
    const { log, lines } = recorder();
    const lc = new Lifecycle(
      [
        part('engines', calls),
        part('recordings', calls, {
          start: () => {
            calls.push('start recordings');
            throw new Error('media dir not writable');
          },
        }),
        part('mqtt', calls),
      ],
      log,
    );
    await assert.rejects(lc.start(), /media dir not writable/);
    assert.deepEqual(
      calls.filter((c) => !c.startsWith('quiesce')),
      ['start engines', 'start recordings', 'stop recordings', 'stop engines'],
    );
    assert.ok(lines.some((l) => /recordings could not start/.test(l)));
  });

  it('a stop that hangs is given up after its time; the parts after it still stop, within the deadline', async () => {
    const calls: string[] = [];
    const { log, lines } = recorder();
    const lc = new Lifecycle(
      [
        part('engines', calls, { reserveMs: 200 }),
        part('stuck', calls, { stop: () => new Promise<void>(() => undefined), stopTimeoutMs: 60_000 }),
        part('throws', calls, {
          stop: () => {
            throw new Error('boom');
          },
        }),
      ],
      log,
      { stopDeadlineMs: 600 },
    );
    await lc.start();
    const t0 = Date.now();
    const report = await lc.stop('test');
    const ms = Date.now() - t0;
    assert.ok(calls.includes('stop engines'), 'the engines stop whatever the parts before them do');
    assert.deepEqual(report.late, ['stuck']);
    assert.deepEqual(report.failed, ['throws']);
    assert.ok(ms < 2000, `stopped within the deadline (took ${ms} ms)`);
    assert.ok(lines.some((l) => /stuck did not stop in time/.test(l)));
  });

  it('stop is idempotent: a second call gets the same promise', async () => {
    const calls: string[] = [];
    const lc = new Lifecycle([part('a', calls)], recorder().log);
    await lc.start();
    const [r1, r2] = await Promise.all([lc.stop('x'), lc.stop('y')]);
    assert.equal(r1, r2);
    assert.equal(calls.filter((c) => c === 'stop a').length, 1);
  });

  it('refuses two parts with one name', () => {
    assert.throws(() => new Lifecycle([{ name: 'a' }, { name: 'a' }], recorder().log), /two parts are named "a"/);
  });
});

describe('EventBus listener errors', () => {
  it('a listener that throws is reported once with its owner and event; the others still run', () => {
    const errors: ListenerError[] = [];
    const bus = new EventBus({ onListenerError: (e) => errors.push(e) });
    const seen: string[] = [];
    bus.on(
      'camera.removed',
      () => {
        throw new Error('broken listener');
      },
      'mqtt',
    );
    bus.on('camera.removed', ({ camera }) => seen.push(camera.id), 'sse');
    bus.emit('camera.removed', { camera: { id: 'cam' } as never });
    assert.deepEqual(seen, ['cam']);
    assert.equal(errors.length, 1);
    assert.equal(errors[0]?.owner, 'mqtt');
    assert.equal(errors[0]?.event, 'camera.removed');
    assert.match(String(errors[0]?.err), /broken listener/);
  });

  it('an async listener that rejects is reported, not left as an unhandled rejection', async () => {
    const errors: ListenerError[] = [];
    const bus = new EventBus({ onListenerError: (e) => errors.push(e) });
    let unhandled = 0;
    const onUnhandled = () => unhandled++;
    process.on('unhandledRejection', onUnhandled);
    try {
      bus.on(
        'camera.added',
        async () => {
          await Promise.resolve();
          throw new Error('async failure');
        },
        'hass',
      );
      bus.emit('camera.added', { camera: { id: 'cam' } as never });
      await new Promise((r) => setTimeout(r, 20));
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    assert.equal(unhandled, 0);
    assert.equal(errors.length, 1);
    assert.equal(errors[0]?.owner, 'hass');
    assert.match(String(errors[0]?.err), /async failure/);
  });

  it('removeListeners(owner) drops everything that owner registered', () => {
    const bus = new EventBus();
    bus.on('camera.added', () => undefined, 'mqtt');
    bus.on('camera.removed', () => undefined, 'mqtt');
    bus.on('camera.removed', () => undefined, 'sse');
    assert.equal(bus.listenerCount(), 3);
    bus.removeListeners('mqtt');
    assert.equal(bus.listenerCount(), 1);
    assert.equal(bus.listenerCount('camera.removed'), 1);
  });
});
