/**
 * The detectors of all cameras: `sync()` takes the wanted set (camera, restream, settings) and
 * starts, restarts or stops detectors so that exactly the enabled ones run. Every event goes to
 * one `onMotion` callback (the bus, later). Nothing here knows where the settings come from.
 */
import type { MotionConfig } from '../config/motion.js';
import { MotionDetector, type MotionDetectorDeps, type MotionEvent, type MotionStatus } from './detector.js';

export interface MotionTarget {
  camera: string;
  /** The restream the detector reads (substream path, or the main one). */
  input: string;
  config: MotionConfig;
}

export interface MotionHubDeps extends MotionDetectorDeps {
  onMotion: (event: MotionEvent) => void;
}

function sameTarget(a: MotionTarget, b: MotionTarget): boolean {
  return a.input === b.input && JSON.stringify(a.config) === JSON.stringify(b.config);
}

export class MotionHub {
  readonly #d: MotionHubDeps;
  readonly #running = new Map<string, { target: MotionTarget; detector: MotionDetector }>();
  /** Serialises sync() and stop(): a change of settings never races the previous one. */
  #queue: Promise<void> = Promise.resolve();
  #stopped = false;

  constructor(deps: MotionHubDeps) {
    this.#d = deps;
  }

  /**
   * Makes the running detectors match `targets` (those with `config.enabled`): new ones start,
   * changed ones restart (ending an event in progress), missing or disabled ones stop.
   */
  sync(targets: readonly MotionTarget[]): Promise<void> {
    const run = this.#queue.then(() => this.#sync(targets));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #sync(targets: readonly MotionTarget[]): Promise<void> {
    if (this.#stopped) return;
    const wanted = new Map(targets.filter((t) => t.config.enabled).map((t) => [t.camera, t]));
    const stops: Promise<void>[] = [];
    for (const [camera, entry] of this.#running) {
      const want = wanted.get(camera);
      if (want === undefined || !sameTarget(want, entry.target)) {
        this.#running.delete(camera);
        stops.push(entry.detector.stop());
      }
    }
    await Promise.all(stops);
    for (const [camera, target] of wanted) {
      if (this.#running.has(camera)) continue;
      const detector = new MotionDetector(this.#d, {
        camera,
        input: target.input,
        config: target.config,
        onMotion: this.#d.onMotion,
      });
      this.#running.set(camera, { target, detector });
      await detector.start();
    }
  }

  status(): MotionStatus[] {
    return [...this.#running.values()].map((e) => e.detector.status());
  }

  get(camera: string): MotionDetector | undefined {
    return this.#running.get(camera)?.detector;
  }

  /** Stops every detector (ending their events); no detector starts afterwards. */
  stop(): Promise<void> {
    this.#stopped = true;
    const run = this.#queue.then(async () => {
      const all = [...this.#running.values()];
      this.#running.clear();
      await Promise.all(all.map((e) => e.detector.stop()));
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }
}
