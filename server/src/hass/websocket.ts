/**
 * The Home Assistant websocket (home-assistant-js-websocket over `ws`): fires `camstack_*`
 * events, keeps a persistent notification of clips expiring within a day, and — by config —
 * saves clips when HA entities change state (`triggers`).
 *
 * Where: in the add-on through the Supervisor proxy (`ws://supervisor/core/websocket`, token
 * SUPERVISOR_TOKEN); in development `ha_url` + `ha_token`. Neither: off. The library reconnects
 * by itself once connected; the first connection (and a rejected token) is retried here with
 * backoff. Events fired while disconnected are queued (at most 100, oldest dropped).
 */
import {
  type Connection,
  createConnection,
  ERR_CANNOT_CONNECT,
  ERR_INVALID_AUTH,
  type HaWebSocket,
} from 'home-assistant-js-websocket';
import WebSocket from 'ws';
import type { CameraStatusSource } from '../cameras/status.js';
import type { HassOptions, TriggerOption } from '../config/integration-options.js';
import type { Camera } from '../config/load.js';
import type { EventBus } from '../events/bus.js';
import type { HomeAssistantHealthReport } from '../http/health.js';
import type { Logger } from '../log/logger.js';
import type { SupervisorClient } from '../supervisor-api/client.js';
import {
  type CameraEventAnnouncement,
  cameraEventFired,
  clipEndedEvent,
  clipExpiringEvent,
  clipSavedEvent,
  clipStartedEvent,
  connectivityEvent,
  continuousChangedEvent,
  EXPIRING_NOTIFICATION_ID,
  type ExpiringClip,
  eventNotifyCalls,
  expiringNotification,
  type HassEvent,
} from './events.js';

export interface HassTarget {
  /** `ws://…/api/websocket` or the Supervisor's `ws://supervisor/core/websocket`. */
  wsUrl: string;
  /** HA Core's REST API base: `http://…/api` or `http://supervisor/core/api`. */
  restUrl: string;
  token: string;
  via: 'supervisor' | 'options';
}

/** The Supervisor proxy in the add-on, else `ha_url` + `ha_token`, else null (off). */
export function hassTarget(options: HassOptions, supervisor: SupervisorClient | null): HassTarget | null {
  if (supervisor) {
    return {
      wsUrl: supervisor.coreWebsocketUrl,
      restUrl: supervisor.coreApiUrl,
      token: supervisor.token,
      via: 'supervisor',
    };
  }
  if (options.url && options.token) {
    return {
      wsUrl: `${options.url.replace(/^http/, 'ws')}/api/websocket`,
      restUrl: `${options.url}/api`,
      token: options.token,
      via: 'options',
    };
  }
  return null;
}

/** A websocket to HA, authenticated, as home-assistant-js-websocket wants it (on `ws`). */
export function createHaSocket(wsUrl: string, token: string, timeoutMs = 30_000): Promise<HaWebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrl, { handshakeTimeout: Math.min(timeoutMs, 15_000), maxPayload: 64 * 1024 * 1024 });
    let settled = false;
    const done = (err: number | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      ws.off('message', onMessage);
      ws.off('error', onError);
      ws.off('close', onClose);
      if (err === null) {
        ws.on('error', () => undefined); // the library listens for close; errors precede it
        resolve(ws as unknown as HaWebSocket);
      } else {
        ws.terminate();
        reject(err);
      }
    };
    const timer = setTimeout(() => done(ERR_CANNOT_CONNECT), timeoutMs);
    const onMessage = (raw: WebSocket.RawData) => {
      let msg: { type?: string; ha_version?: string };
      try {
        msg = JSON.parse(raw.toString()) as { type?: string; ha_version?: string };
      } catch {
        return done(ERR_CANNOT_CONNECT);
      }
      if (msg.type === 'auth_required') ws.send(JSON.stringify({ type: 'auth', access_token: token }));
      else if (msg.type === 'auth_invalid') done(ERR_INVALID_AUTH);
      else if (msg.type === 'auth_ok') {
        (ws as unknown as { haVersion: string }).haVersion = msg.ha_version ?? '';
        done(null);
      }
    };
    const onError = () => done(ERR_CANNOT_CONNECT);
    const onClose = () => done(ERR_CANNOT_CONNECT);
    ws.on('message', onMessage);
    ws.on('error', onError);
    ws.on('close', onClose);
  });
}

export interface HassClips {
  startClip(cameraId: string, options: { preRoll?: number; duration?: number; trigger: string }): Promise<unknown>;
  expiring?(
    withinMs: number,
  ): Promise<{ recording: { id: string; type: string; camera: string; start: string }; expiresAt: string }[]>;
}

export interface HassLinkDeps {
  target: HassTarget | null;
  /** Why there is no target (for the health report). */
  disabledReason?: string;
  bus: EventBus;
  logger: Logger;
  cameras: { get(id: string): Camera | undefined };
  status: CameraStatusSource;
  recordings?: HassClips;
  triggers: readonly TriggerOption[];
  /** `notify.mobile_app_x` services camera events notify through (by each camera's rules). */
  notifyServices?: readonly string[];
  /** Where a tap on a notification goes: the add-on's panel (`/hassio/ingress/<slug>`), when known. */
  panelPath?: () => string | null;
  mediaDir: string;
  /** First-connection retry backoff: [min, max] ms. Default [2000, 60000]. */
  retryMs?: [number, number];
}

const DAY_MS = 24 * 3600_000;
const MAX_QUEUED = 100;

export class HassLink {
  readonly #d: HassLinkDeps;
  readonly #log: Logger;
  #conn: Connection | null = null;
  #health: HomeAssistantHealthReport;
  #stopped = false;
  #attempt = 0;
  #retryTimer: NodeJS.Timeout | null = null;
  #lastReason: string | null = null;
  readonly #offBus: (() => void)[] = [];
  readonly #queue: HassEvent[] = [];
  readonly #expiring = new Map<string, ExpiringClip>();
  #notified = false;
  readonly #readyListeners = new Set<(conn: Connection) => void>();

  constructor(deps: HassLinkDeps) {
    this.#d = deps;
    this.#log = deps.logger.child({ component: 'hass' });
    const url = deps.target ? deps.target.wsUrl : null;
    this.#health = deps.target
      ? { state: 'connecting', reason: null, url }
      : { state: 'disabled', reason: deps.disabledReason ?? 'no Home Assistant configured', url: null };
  }

  health(): HomeAssistantHealthReport {
    return { ...this.#health };
  }

  /** The live connection, or null. */
  get connection(): Connection | null {
    return this.#conn?.connected ? this.#conn : null;
  }

  get target(): HassTarget | null {
    return this.#d.target;
  }

  /** Called with the connection each time it becomes ready (first connect and every reconnect). */
  onReady(listener: (conn: Connection) => void): () => void {
    this.#readyListeners.add(listener);
    if (this.connection) listener(this.connection);
    return () => this.#readyListeners.delete(listener);
  }

  start(): void {
    if (!this.#d.target) {
      this.#log.info(`Home Assistant websocket is off: ${this.#health.reason}`);
      return;
    }
    const { bus, cameras } = this.#d;
    const mediaDir = this.#d.mediaDir;
    this.#offBus.push(
      bus.on(
        'clip.saved',
        (e) => {
          this.#fire(clipSavedEvent(e, cameras.get(e.camera), mediaDir));
          this.#fire(clipEndedEvent(e, cameras.get(e.camera), 'saved'));
        },
        'hass-websocket',
      ),
      bus.on('clip.started', (e) => this.#fire(clipStartedEvent(e, cameras.get(e.camera))), 'hass-websocket'),
      bus.on(
        'clip.failed',
        (e) => this.#fire(clipEndedEvent(e, cameras.get(e.camera), 'failed', e.reason)),
        'hass-websocket',
      ),
      bus.on(
        'camera.updated',
        ({ camera, previous }) => {
          const ev = continuousChangedEvent(camera, previous);
          if (ev) this.#fire(ev);
        },
        'hass-websocket',
      ),
      bus.on(
        'camera.status',
        ({ status, previous }) => {
          const ev = connectivityEvent(cameras.get(status.id), status, previous);
          if (ev) this.#fire(ev);
        },
        'hass-websocket',
      ),
      bus.on(
        'recording.expiring',
        (e) => {
          if (e.type !== 'clip') return;
          this.#fire(clipExpiringEvent(e, cameras.get(e.camera), mediaDir));
          this.#expiring.set(e.id, {
            id: e.id,
            camera: e.camera,
            cameraName: cameras.get(e.camera)?.name ?? e.camera,
            start: e.start,
            expiresAt: e.expiresAt,
          });
          void this.#syncNotification();
        },
        'hass-websocket',
      ),
      bus.on(
        'recording.deleted',
        (e) => {
          if (this.#expiring.delete(e.id)) void this.#syncNotification();
        },
        'hass-websocket',
      ),
    );
    void this.#connect();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const off of this.#offBus.splice(0)) off();
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#conn?.close();
    this.#conn = null;
    if (this.#health.state !== 'disabled') this.#health = { ...this.#health, state: 'disabled', reason: 'stopped' };
  }

  /** Send a websocket command (for the live-camera provisioning). */
  async command<T>(message: { type: string; [key: string]: unknown }): Promise<T> {
    const conn = this.connection;
    if (!conn) throw new Error('not connected to Home Assistant');
    return conn.sendMessagePromise<T>(message);
  }

  // -------------------------------------------------------------------------------------------

  async #connect(): Promise<void> {
    const target = this.#d.target;
    if (this.#stopped || !target) return;
    try {
      const conn = await createConnection({
        createSocket: () => createHaSocket(target.wsUrl, target.token),
        setupRetry: 0,
      });
      if (this.#stopped) {
        conn.close();
        return;
      }
      this.#conn = conn;
      this.#attempt = 0;
      this.#lastReason = null;
      // Listeners before any subscription (see the library's listener-splice quirk).
      conn.addEventListener('ready', () => void this.#onReady(conn));
      conn.addEventListener('disconnected', () => {
        this.#health = { ...this.#health, state: 'connecting', reason: 'connection lost; reconnecting' };
        this.#log.warn('Home Assistant websocket disconnected; reconnecting');
      });
      conn.addEventListener('reconnect-error', () => {
        conn.close();
        if (this.#conn === conn) this.#conn = null;
        this.#scheduleRetry('Home Assistant rejected the token');
      });
      await this.#subscribeTriggers(conn);
      await this.#onReady(conn);
    } catch (err) {
      const reason =
        err === ERR_INVALID_AUTH
          ? `Home Assistant rejected the token (${target.via === 'supervisor' ? 'SUPERVISOR_TOKEN' : 'ha_token'})`
          : `cannot connect to Home Assistant at ${target.wsUrl}${err instanceof Error ? `: ${err.message}` : ''}`;
      this.#scheduleRetry(reason);
    }
  }

  #scheduleRetry(reason: string): void {
    if (this.#stopped) return;
    this.#health = { ...this.#health, state: 'error', reason };
    const [min, max] = this.#d.retryMs ?? [2000, 60_000];
    const delay = Math.min(max, min * 2 ** Math.min(this.#attempt, 16));
    this.#attempt += 1;
    const text = `${reason}; retrying in ${Math.round(delay / 100) / 10} s (Camstack keeps working without it)`;
    if (reason !== this.#lastReason) this.#log.warn(text);
    else this.#log.debug(text);
    this.#lastReason = reason;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      void this.#connect();
    }, delay);
    this.#retryTimer.unref();
  }

  async #onReady(conn: Connection): Promise<void> {
    if (this.#conn !== conn) return;
    this.#health = { state: 'connected', reason: null, url: this.#d.target?.wsUrl ?? null };
    this.#log.info({ haVersion: conn.haVersion, via: this.#d.target?.via }, 'connected to Home Assistant');
    await this.#loadExpiring();
    this.#notified = false;
    await this.#syncNotification();
    for (const ev of this.#queue.splice(0)) await this.#send(ev);
    for (const listener of this.#readyListeners) {
      try {
        listener(conn);
      } catch (err) {
        this.#log.warn({ err: String(err) }, 'a Home Assistant ready listener failed');
      }
    }
  }

  /**
   * A camera event with its picture: `camstack_camera_event` on HA's bus (for automations and the
   * blueprint), and the notify calls the camera's rules ask for. A notification while HA is not
   * connected is dropped (stale by the time HA is back); the event is queued like the others.
   */
  async announceCameraEvent(a: CameraEventAnnouncement): Promise<void> {
    this.#fire(cameraEventFired(a, this.#d.mediaDir));
    const services = this.#d.notifyServices ?? [];
    if (!a.notify || services.length === 0 || !this.connection) return;
    const calls = eventNotifyCalls(a, services, this.#d.mediaDir, this.#d.panelPath?.() ?? null);
    for (const call of calls) {
      try {
        await this.command({ type: 'call_service', ...call });
        this.#log.info({ camera: a.event.camera, event: a.event.id, service: `notify.${call.service}` }, 'notified');
      } catch (err) {
        this.#log.warn({ service: `notify.${call.service}`, err: errorText(err) }, 'a notification failed');
      }
    }
  }

  #fire(ev: HassEvent): void {
    if (!this.connection) {
      this.#queue.push(ev);
      if (this.#queue.length > MAX_QUEUED) this.#queue.shift();
      return;
    }
    void this.#send(ev);
  }

  async #send(ev: HassEvent): Promise<void> {
    try {
      await this.command({ type: 'fire_event', event_type: ev.type, event_data: ev.data });
      this.#log.debug({ event: ev.type, camera: ev.data.camera }, 'event fired in Home Assistant');
    } catch (err) {
      this.#log.warn({ event: ev.type, err: errorText(err) }, 'firing an event in Home Assistant failed');
    }
  }

  /** Clips retention deletes within a day (the service's view), merged with the events seen. */
  async #loadExpiring(): Promise<void> {
    const expiring = this.#d.recordings?.expiring;
    if (!expiring) return;
    try {
      const items = await expiring.call(this.#d.recordings, DAY_MS);
      for (const item of items) {
        if (item.recording.type !== 'clip') continue;
        this.#expiring.set(item.recording.id, {
          id: item.recording.id,
          camera: item.recording.camera,
          cameraName: this.#d.cameras.get(item.recording.camera)?.name ?? item.recording.camera,
          start: item.recording.start,
          expiresAt: item.expiresAt,
        });
      }
    } catch (err) {
      this.#log.debug({ err: errorText(err) }, 'could not list expiring clips');
    }
  }

  async #syncNotification(): Promise<void> {
    if (!this.connection) return;
    const now = Date.now();
    for (const [id, c] of this.#expiring) if (Date.parse(c.expiresAt) < now) this.#expiring.delete(id);
    const n = expiringNotification([...this.#expiring.values()]);
    try {
      if (n) {
        await this.command({
          type: 'call_service',
          domain: 'persistent_notification',
          service: 'create',
          service_data: n,
        });
        this.#notified = true;
      } else if (this.#notified) {
        await this.command({
          type: 'call_service',
          domain: 'persistent_notification',
          service: 'dismiss',
          service_data: { notification_id: EXPIRING_NOTIFICATION_ID },
        });
        this.#notified = false;
      }
    } catch (err) {
      this.#log.warn({ err: errorText(err) }, 'updating the expiring-clips notification failed');
    }
  }

  async #subscribeTriggers(conn: Connection): Promise<void> {
    for (const t of this.#d.triggers) {
      try {
        await conn.subscribeMessage(() => void this.#triggered(t), {
          type: 'subscribe_trigger',
          trigger: { platform: 'state', entity_id: t.entityId, to: t.to },
        });
        this.#log.info({ entity: t.entityId, to: t.to, camera: t.camera }, 'clip trigger subscribed');
      } catch (err) {
        this.#log.warn({ entity: t.entityId, err: errorText(err) }, 'could not subscribe to a clip trigger');
      }
    }
  }

  async #triggered(t: TriggerOption): Promise<void> {
    const log = this.#log.child({ entity: t.entityId, camera: t.camera });
    if (!this.#d.recordings) return log.warn(`${t.entityId} is "${t.to}", but recordings are not available`);
    if (!this.#d.cameras.get(t.camera))
      return log.warn(`${t.entityId} is "${t.to}", but camera "${t.camera}" does not exist`);
    log.info(`${t.entityId} changed to "${t.to}": saving a clip`);
    try {
      await this.#d.recordings.startClip(t.camera, {
        ...(t.preRollSeconds !== null ? { preRoll: t.preRollSeconds } : {}),
        ...(t.durationSeconds !== null ? { duration: t.durationSeconds } : {}),
        trigger: 'ha',
      });
    } catch (err) {
      log.warn({ err: errorText(err) }, 'the triggered clip could not start');
    }
  }
}

function errorText(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === 'object' && err !== null && 'message' in err) return String(err.message);
  return String(err);
}
