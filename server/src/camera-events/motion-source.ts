/**
 * Camstack's own motion detector as a source of camera events: the detectors (motion/) of the
 * enabled cameras whose `motion.enabled` is on, kept in step with the cameras, each motion
 * reported as a camera event of type `motion` and source `motion`. A detector watches the
 * camera's substream straight from the camera (cheap to decode; a second connection the camera
 * serves anyway) or, without one or with `stream: main`, Camstack's restream of the main stream.
 */
import type { Camera } from '../config/load.js';
import { withCredentials } from '../config/source.js';
import type { EventBus } from '../events/bus.js';
import type { Logger } from '../log/logger.js';
import type { MotionEvent, MotionStatus } from '../motion/detector.js';
import { MotionHub, type MotionHubDeps, type MotionTarget } from '../motion/hub.js';
import type { EventReport } from './service.js';

export interface MotionSourceDeps extends Omit<MotionHubDeps, 'onMotion' | 'acquireInternalReader'> {
  cameras: () => readonly Camera[];
  bus: EventBus;
  logger: Logger;
  /** The restream of a camera's main stream on loopback. */
  restreamUrl: (camera: string) => string;
  /** Registers a reader of the restream as Camstack's own (not a viewer). */
  acquireInternalReader: (camera: string) => () => void;
  report: (r: EventReport) => unknown;
}

/** Pure: what a camera's detector reads. */
export function motionTarget(camera: Camera, restreamUrl: (id: string) => string): MotionTarget {
  const direct = camera.motion.stream === 'substream' && camera.substream !== null;
  return {
    camera: camera.id,
    input: direct ? withCredentials(camera.substream ?? '', camera.username, camera.password) : restreamUrl(camera.id),
    config: camera.motion,
  };
}

export class MotionEventSources {
  readonly #d: MotionSourceDeps;
  readonly #hub: MotionHub;
  readonly #offBus: (() => void)[] = [];
  /** Cameras whose detector reads the restream (the others read the camera's substream). */
  readonly #onRestream = new Set<string>();

  constructor(deps: MotionSourceDeps) {
    this.#d = deps;
    this.#hub = new MotionHub({
      ...deps,
      acquireInternalReader: (camera) => (this.#onRestream.has(camera) ? deps.acquireInternalReader(camera) : () => {}),
      onMotion: (e) => this.#motion(e),
    });
  }

  start(): void {
    const { bus } = this.#d;
    const sync = () => void this.#sync();
    this.#offBus.push(
      bus.on('camera.added', sync, 'motion'),
      bus.on('camera.updated', sync, 'motion'),
      bus.on('camera.removed', sync, 'motion'),
    );
    sync();
  }

  async stop(): Promise<void> {
    for (const off of this.#offBus.splice(0)) off();
    await this.#hub.stop();
  }

  /** A camera's detector, or null when it runs none. */
  status(camera: string): MotionStatus | null {
    return this.#hub.get(camera)?.status() ?? null;
  }

  /** Every running detector's FFmpeg (for the metrics). */
  processes() {
    return this.#hub.status().flatMap((s) => {
      const p = this.#hub.get(s.camera)?.process;
      return p ? [p] : [];
    });
  }

  async #sync(): Promise<void> {
    const targets = this.#d
      .cameras()
      .filter((c) => c.enabled && c.motion.enabled)
      .map((c) => {
        const t = motionTarget(c, this.#d.restreamUrl);
        if (t.input === this.#d.restreamUrl(c.id)) this.#onRestream.add(c.id);
        else this.#onRestream.delete(c.id);
        return t;
      });
    try {
      await this.#hub.sync(targets);
    } catch (err) {
      this.#d.logger.warn({ err: String(err) }, 'motion detectors could not be updated');
    }
  }

  #motion(e: MotionEvent): void {
    try {
      this.#d.report({
        camera: e.camera,
        type: 'motion',
        state: e.state,
        source: 'motion',
        atMs: Date.parse(e.at),
        detail: `score ${e.score.toFixed(2)}`,
      });
    } catch (err) {
      this.#d.logger.debug({ camera: e.camera, err: String(err) }, 'a motion event was not taken');
    }
  }
}
