/**
 * Keeps both engines holding exactly the cameras the store holds, through their APIs (never by
 * rewriting their files and restarting them). Runs at start-up, right after every camera change,
 * whenever an engine (re)starts, and every few seconds to repair any drift.
 */
import { buildEnginePlan, diffMaps, type EngineAccess, sameGo2rtcSource, samePathConf } from './engine-plan.js';

export interface ReconcilerDeps extends EngineAccess {
  graceSeconds: number;
  intervalMs?: number;
}

export interface ReconcileResult {
  mediamtx: { added: string[]; replaced: string[]; removed: string[] } | null;
  go2rtc: { added: string[]; replaced: string[]; removed: string[] } | null;
}

export class EngineReconciler {
  readonly #deps: ReconcilerDeps;
  #timer: NodeJS.Timeout | null = null;
  #running: Promise<void> | null = null;
  #again = false;
  #unsubscribe: (() => void)[] = [];
  #stopped = true;
  /** Recording is paused (media disk full, from `recording.paused`): paths are pulled but not recorded. */
  #recordingPaused = false;
  /** start() ran once: a stopped reconciler no longer schedules (before it, schedule() works alone). */
  #started = false;

  constructor(deps: ReconcilerDeps) {
    this.#deps = deps;
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#started = true;
    const { bus } = this.#deps;
    const kick = () => this.schedule();
    this.#unsubscribe = [
      bus.on('camera.added', kick, 'reconciler'),
      bus.on('camera.updated', kick, 'reconciler'),
      bus.on('camera.removed', kick, 'reconciler'),
      bus.on(
        'recording.paused',
        (e) => {
          this.#recordingPaused = e.paused;
          kick();
        },
        'reconciler',
      ),
      bus.on(
        'process.state',
        (e) => {
          if ((e.name === 'go2rtc' || e.name === 'mediamtx') && e.state === 'running') kick();
        },
        'reconciler',
      ),
    ];
    this.#timer = setInterval(kick, this.#deps.intervalMs ?? 5000);
    this.#timer.unref();
    this.schedule();
  }

  /** Stops reconciling at once: no timer, no new pass (one in flight finishes on its own). */
  quiesce(): void {
    this.#stopped = true;
    for (const off of this.#unsubscribe) off();
    this.#unsubscribe = [];
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  async stop(): Promise<void> {
    this.quiesce();
    await this.#running?.catch(() => undefined);
  }

  /** Runs a reconciliation soon; calls while one runs coalesce into one more run. None once stopped. */
  schedule(): Promise<void> {
    if (this.#started && this.#stopped) return this.#running ?? Promise.resolve();
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = (async () => {
      try {
        do {
          this.#again = false;
          await this.reconcileOnce().catch((err: unknown) =>
            this.#deps.logger.warn({ err: String(err) }, 'engine reconciliation failed; will retry'),
          );
        } while (this.#again && !this.#stopped);
      } finally {
        this.#running = null;
      }
    })();
    return this.#running;
  }

  /** One pass over both engines. Returns what changed (null for an engine that is not running). */
  async reconcileOnce(): Promise<ReconcileResult> {
    const d = this.#deps;
    const plan = buildEnginePlan(d.cameras(), {
      ports: d.ports,
      graceSeconds: d.graceSeconds,
      recordingPaused: this.#recordingPaused,
    });
    const result: ReconcileResult = { mediamtx: null, go2rtc: null };

    if (d.engineRunning('mediamtx')) {
      const actual = await d.mediamtx.pathConfigs();
      const diff = diffMaps(plan.mediamtx, actual, samePathConf);
      for (const name of diff.remove) await d.mediamtx.deletePath(name);
      for (const [name, conf] of diff.replace) await d.mediamtx.replacePath(name, conf);
      for (const [name, conf] of diff.add) await d.mediamtx.addPath(name, conf);
      result.mediamtx = {
        added: diff.add.map(([n]) => n),
        replaced: diff.replace.map(([n]) => n),
        removed: diff.remove,
      };
    }

    if (d.engineRunning('go2rtc')) {
      const streams = await d.go2rtc.streams();
      const actual = new Map(Object.entries(streams).map(([name, s]) => [name, s.producers?.[0]?.url ?? '']));
      const diff = diffMaps(plan.go2rtc, actual, sameGo2rtcSource);
      for (const name of diff.remove) await d.go2rtc.deleteStream(name);
      for (const [name, src] of diff.replace) {
        // go2rtc's PATCH treats an rtsp:// source whose path names an existing stream as an alias;
        // removing first makes a changed source always take effect.
        await d.go2rtc.deleteStream(name);
        await d.go2rtc.setStream(name, src);
      }
      for (const [name, src] of diff.add) await d.go2rtc.setStream(name, src);
      result.go2rtc = {
        added: diff.add.map(([n]) => n),
        replaced: diff.replace.map(([n]) => n),
        removed: diff.remove,
      };
    }

    for (const engine of ['mediamtx', 'go2rtc'] as const) {
      const r = result[engine];
      if (r && (r.added.length || r.replaced.length || r.removed.length)) {
        d.logger.info({ engine, ...r }, `${engine} synced with the cameras`);
      }
    }
    return result;
  }
}
