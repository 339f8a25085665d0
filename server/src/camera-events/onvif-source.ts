/**
 * The cameras' own ONVIF events as camera events: one PullPoint subscription (onvif/) per enabled
 * camera with an `onvif` block and `events` on, started, replaced and stopped as the cameras
 * change. Each camera event it reports has the source `onvif`; the subscription's state
 * (subscribed, retrying and why) is kept per camera for the API and the log.
 */
import type { Camera } from '../config/load.js';
import { onvifEndpoint } from '../config/onvif-config.js';
import type { EventBus } from '../events/bus.js';
import type { Logger } from '../log/logger.js';
import {
  OnvifClient,
  type OnvifEvent,
  type OnvifEventSubscription,
  type OnvifSubscriptionStatus,
} from '../onvif/index.js';
import type { EventReport } from './service.js';

export interface OnvifSourceDeps {
  cameras: () => readonly Camera[];
  bus: EventBus;
  logger: Logger;
  report: (r: EventReport) => unknown;
  /** Subscription timing (tests shorten it). */
  subscription?: { pullTimeoutSeconds?: number; terminationSeconds?: number; minPullIntervalMs?: number };
}

interface Running {
  key: string;
  sub: OnvifEventSubscription;
  status: OnvifSubscriptionStatus | null;
}

/** What a camera's subscription depends on: a change replaces it. */
function keyOf(camera: Camera): string | null {
  if (!camera.enabled || camera.onvif === null || !camera.onvif.events) return null;
  const endpoint = onvifEndpoint(camera);
  return endpoint === null ? null : JSON.stringify(endpoint);
}

export class OnvifEventSources {
  readonly #d: OnvifSourceDeps;
  readonly #running = new Map<string, Running>();
  readonly #offBus: (() => void)[] = [];
  #stopped = false;

  constructor(deps: OnvifSourceDeps) {
    this.#d = deps;
  }

  start(): void {
    const { bus } = this.#d;
    this.#offBus.push(
      bus.on('camera.added', ({ camera }) => void this.#sync(camera), 'onvif'),
      bus.on('camera.updated', ({ camera }) => void this.#sync(camera), 'onvif'),
      bus.on('camera.removed', ({ camera }) => void this.#end(camera.id), 'onvif'),
    );
    for (const camera of this.#d.cameras()) void this.#sync(camera);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const off of this.#offBus.splice(0)) off();
    await Promise.allSettled([...this.#running.keys()].map((id) => this.#end(id)));
  }

  /** The subscription's state of a camera, or null when it follows no ONVIF events. */
  status(cameraId: string): OnvifSubscriptionStatus | null {
    return this.#running.get(cameraId)?.status ?? null;
  }

  async #sync(camera: Camera): Promise<void> {
    if (this.#stopped) return;
    const key = keyOf(camera);
    const current = this.#running.get(camera.id);
    if (current?.key === key) return;
    if (current) await this.#end(camera.id);
    if (key === null || this.#stopped) return;
    const endpoint = onvifEndpoint(camera);
    if (endpoint === null) return;
    const client = new OnvifClient(endpoint);
    const running: Running = {
      key,
      status: null,
      sub: client.eventSubscription({
        ...(this.#d.subscription ?? {}),
        onEvent: (e) => this.#event(camera.id, e),
        onStatus: (s) => {
          const previous = running.status;
          running.status = s;
          if (previous?.state === s.state) return;
          const log = {
            camera: camera.id,
            state: s.state,
            failures: s.failures,
            error: s.error,
            retryInMs: s.retryInMs,
          };
          if (s.state === 'retrying') this.#d.logger.warn(log, 'ONVIF events: retrying');
          else this.#d.logger.info(log, `ONVIF events: ${s.state}`);
        },
      }),
    };
    this.#running.set(camera.id, running);
    running.sub.start();
  }

  #event(camera: string, e: OnvifEvent): void {
    // The camera's report at subscription time: only what is on now matters.
    if (e.initial && e.state === 'end') return;
    try {
      this.#d.report({ camera, type: e.type, state: e.state, source: 'onvif', atMs: e.at, detail: e.topic });
    } catch (err) {
      this.#d.logger.debug({ camera, err: String(err) }, 'an ONVIF event was not taken');
    }
  }

  async #end(cameraId: string): Promise<void> {
    const running = this.#running.get(cameraId);
    if (!running) return;
    this.#running.delete(cameraId);
    await running.sub.stop();
  }
}
