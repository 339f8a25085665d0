/**
 * The MQTT front door to Home Assistant (I/O): connects to the broker (mqtt.js), publishes the
 * discovery configs, states and snapshot pictures, and turns HA's switch/button commands into
 * the same service calls the HTTP API makes. Everything it publishes comes from the bus and the
 * services; it never polls the engines itself.
 *
 * - Availability: `<prefix>/status` is `online` (retained) once connected; the last will sets it
 *   `offline` (retained) when the connection dies without a goodbye; a clean stop publishes
 *   `offline` itself.
 * - Reconnects with exponential backoff (1 s … 60 s); broker settings from the Supervisor are
 *   asked for again on every attempt (the Mosquitto add-on may come up later, or change them).
 * - HA's birth message (`homeassistant/status` = `online`) → after a short random delay, every
 *   discovery config, state and picture is published again.
 * - Device-based discovery: one retained config per camera and one for the hub. Stale ones (a
 *   camera removed while Camstack was down) are cleared: a retained device config of ours that
 *   is not wanted any more gets an empty retained payload, which removes the device in HA.
 * - Per-entity configs of Camstack before 0.2, found retained on the broker, are migrated the way
 *   HA documents it: `{"migrate_discovery": true}` on each old topic (HA unloads the entity but
 *   keeps its registry entry and entity id), then an empty payload, then the device configs
 *   (same unique ids: HA picks up the same entity ids, no duplicates, no orphans).
 * - A command with an unexpected payload, an unknown camera or the retain flag is logged and
 *   ignored. Service errors are logged; the entity's state is republished so HA shows the truth.
 */
import { connect, type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import { isRecorded } from '../cameras/engine-plan.js';
import type { CameraStatus, CameraStatusSource } from '../cameras/status.js';
import type { MqttOptions } from '../config/integration-options.js';
import type { Camera } from '../config/load.js';
import type { EngineHealth, EngineName } from '../engines/engines.js';
import type { EventBus } from '../events/bus.js';
import type { SupervisorClient } from '../hass/supervisor.js';
import type { Logger } from '../log/logger.js';
import type { SecretRedactor } from '../log/redact.js';
import { type BrokerSettings, resolveBroker } from './broker.js';
import { type Command, parseCommand } from './commands.js';
import {
  allDiscovery,
  cameraDiscovery,
  cameraDiscoveryTopic,
  type DiscoveryContext,
  isOwnDeviceConfig,
  legacyCameraTopics,
  legacyHubTopics,
  MIGRATE_DISCOVERY_PAYLOAD,
} from './discovery.js';
import { cameraState, hubState } from './state.js';
import type { StorageSource } from './storage.js';
import {
  availabilityTopic,
  cameraImageTopic,
  cameraStateTopic,
  commandSubscriptions,
  deviceDiscoverySubscription,
  haStatusTopic,
  hubStateTopic,
  legacyDiscoverySubscription,
  nodeId,
} from './topics.js';

export type MqttState = 'connected' | 'connecting' | 'disabled' | 'error';

export interface MqttHealth {
  state: MqttState;
  /** Why it is not connected, in words a person understands (null when connected). */
  reason: string | null;
  /** `host:port` of the broker, when known. */
  broker: string | null;
  /** Where the broker settings came from. */
  source: 'options' | 'supervisor' | null;
}

/** The camera store, as far as MQTT needs it. */
export interface MqttCameraStore {
  list(): Camera[];
  get(id: string): Camera | undefined;
  update(id: string, input: { recording: { continuous: boolean } }): Promise<Camera>;
}

export interface MqttSnapshots {
  get(
    cameraId: string,
    options: { width?: number; maxAgeMs?: number },
  ): Promise<{ jpeg: Buffer; etag: string; takenAt: Date }>;
  save(cameraId: string, options: { trigger: string }): Promise<unknown>;
}

/** The recordings service's clip call (optional until the recordings module is wired). */
export interface MqttClips {
  /** preRoll/duration in seconds; undefined = the camera's own settings (as the HTTP API does). */
  startClip(cameraId: string, options: { preRoll?: number; duration?: number; trigger: string }): Promise<unknown>;
}

export interface MqttBridgeTiming {
  /** Random delay before answering HA's birth message, ms: [min, max]. Default [1000, 5000]. */
  birthDelayMs?: [number, number];
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  /** Storage rescan period. Default 60 s. */
  storageIntervalMs?: number;
  /** How long to collect retained discovery configs after subscribing. Default 1000 ms. */
  discoveryCollectMs?: number;
  /** Pause between the steps of migrating per-entity configs (HA must process each). Default 1500 ms. */
  migrationStepMs?: number;
}

export interface MqttBridgeDeps {
  options: MqttOptions;
  supervisor: Pick<SupervisorClient, 'mqttService'> | null;
  version: string;
  bus: EventBus;
  logger: Logger;
  redactor?: SecretRedactor;
  cameras: MqttCameraStore;
  status: CameraStatusSource;
  engineHealth: () => Record<EngineName, EngineHealth>;
  snapshots?: MqttSnapshots;
  clips?: MqttClips;
  storage?: StorageSource;
  timing?: MqttBridgeTiming;
  /** MQTT client id; default `camstack-<random>`. */
  clientId?: string;
}

const QOS1 = { qos: 1 as const, retain: true };

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class MqttBridge {
  readonly #d: MqttBridgeDeps;
  readonly #ctx: DiscoveryContext;
  readonly #log: Logger;
  #client: MqttClient | null = null;
  #health: MqttHealth = { state: 'connecting', reason: null, broker: null, source: null };
  #stopped = false;
  #attempt = 0;
  #retryTimer: NodeJS.Timeout | null = null;
  #birthTimer: NodeJS.Timeout | null = null;
  #imageTimer: NodeJS.Timeout | null = null;
  #storageTimer: NodeJS.Timeout | null = null;
  #lastReason: string | null = null;
  readonly #offBus: (() => void)[] = [];
  /** Last payload per state topic, to skip identical republishing (cleared on reconnect). */
  readonly #lastState = new Map<string, string>();
  /** Last picture per camera (etag) and when it was sent. */
  /** The last picture sent per camera: its ETag, when it was sent, when it was taken (ISO 8601). */
  readonly #lastImage = new Map<string, { etag: string; at: number; takenAt: string }>();
  readonly #imageInFlight = new Set<string>();
  readonly #imageFailedAt = new Map<string, number>();
  /** End of the newest clip per camera seen on the bus (the disk scan may lag behind). */
  readonly #lastClip = new Map<string, string>();
  #storageSoonTimer: NodeJS.Timeout | null = null;
  /** Cameras as discovered, to notice what changed on camera.updated. */
  readonly #discovered = new Map<string, string>();
  /** Retained per-entity configs (Camstack before 0.2) seen on this connection, not migrated yet. */
  readonly #legacy = new Set<string>();
  /**
   * Discovery publishing runs one sequence at a time (connect, HA's birth): a device config sent
   * between a migration's steps would reach HA before it forgot the old topic.
   */
  #discoveryChain: Promise<void> = Promise.resolve();
  #migrating = false;

  constructor(deps: MqttBridgeDeps) {
    this.#d = deps;
    this.#ctx = {
      topicPrefix: deps.options.topicPrefix,
      discoveryPrefix: deps.options.discoveryPrefix,
      version: deps.version,
    };
    this.#log = deps.logger.child({ component: 'mqtt' });
    if (deps.options.password) deps.redactor?.add(deps.options.password);
  }

  get context(): DiscoveryContext {
    return this.#ctx;
  }

  health(): MqttHealth {
    return { ...this.#health };
  }

  /** Starts connecting in the background; never throws. */
  start(): void {
    const bus = this.#d.bus;
    this.#offBus.push(
      bus.on('camera.added', ({ camera }) => this.#cameraChanged(camera), 'mqtt'),
      bus.on('camera.updated', ({ camera }) => this.#cameraChanged(camera), 'mqtt'),
      bus.on('camera.removed', ({ camera }) => this.#cameraRemoved(camera.id), 'mqtt'),
      bus.on('camera.status', ({ status, previous }) => this.#statusChanged(status, previous), 'mqtt'),
      bus.on(
        'process.state',
        (e) => {
          if (e.name === 'go2rtc' || e.name === 'mediamtx') this.#publishHub();
        },
        'mqtt',
      ),
      bus.on('snapshot.saved', ({ camera }) => void this.#publishImage(camera, { force: true }), 'mqtt'),
      bus.on(
        'clip.saved',
        (e) => {
          const previous = this.#lastClip.get(e.camera);
          if (previous === undefined || Date.parse(e.end) > Date.parse(previous)) this.#lastClip.set(e.camera, e.end);
          this.#publishCameraState(e.camera);
          this.#storageSoon();
        },
        'mqtt',
      ),
      bus.on('recording.deleted', () => this.#storageSoon(), 'mqtt'),
      bus.on('recording.segment', () => this.#storageSoon(), 'mqtt'),
    );
    const storageEvery = this.#d.timing?.storageIntervalMs ?? 60_000;
    if (this.#d.storage) {
      this.#storageTimer = setInterval(() => void this.#refreshStorage(), storageEvery);
      this.#storageTimer.unref();
    }
    const imageEvery = this.#d.options.snapshotIntervalSeconds * 1000;
    if (imageEvery > 0 && this.#d.snapshots) {
      this.#imageTimer = setInterval(() => this.#refreshStreamingImages(), imageEvery);
      this.#imageTimer.unref();
    }
    void this.#connect();
  }

  /** Says `offline`, disconnects and stops every timer. */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const off of this.#offBus.splice(0)) off();
    for (const t of [
      this.#retryTimer,
      this.#birthTimer,
      this.#imageTimer,
      this.#storageTimer,
      this.#storageSoonTimer,
    ]) {
      if (t) clearTimeout(t);
    }
    const client = this.#client;
    this.#client = null;
    if (client?.connected) {
      try {
        await client.publishAsync(availabilityTopic(this.#ctx), 'offline', QOS1);
      } catch {
        // going away anyway
      }
    }
    if (client) await client.endAsync(false).catch(() => undefined);
    if (this.#health.state !== 'disabled') this.#setHealth('disabled', 'stopped', null);
  }

  // -------------------------------------------------------------------------------------------
  // Connection

  #setHealth(state: MqttState, reason: string | null, settings: BrokerSettings | null | undefined): void {
    this.#health = {
      state,
      reason,
      broker: settings ? `${settings.host}:${settings.port}` : settings === null ? null : this.#health.broker,
      source: settings ? settings.source : settings === null ? null : this.#health.source,
    };
  }

  async #connect(): Promise<void> {
    if (this.#stopped) return;
    const resolved = await resolveBroker(this.#d.options, this.#d.supervisor);
    if (this.#stopped) return;
    if (resolved.kind === 'disabled') {
      this.#setHealth('disabled', resolved.reason, null);
      this.#log.info(`MQTT is off: ${resolved.reason}. Cameras are not published to Home Assistant over MQTT.`);
      return;
    }
    if (resolved.kind === 'error') {
      this.#setHealth('error', resolved.reason, null);
      this.#scheduleRetry(resolved.reason);
      return;
    }
    const s = resolved.settings;
    if (s.password) this.#d.redactor?.add(s.password);
    this.#setHealth('connecting', this.#health.state === 'error' ? this.#health.reason : null, s);
    this.#log.debug({ broker: `${s.host}:${s.port}`, source: s.source }, 'connecting to the MQTT broker');
    const options: IClientOptions = {
      clientId: this.#d.clientId ?? `camstack-${Math.random().toString(16).slice(2, 10)}`,
      protocolVersion: s.protocolVersion,
      clean: true,
      keepalive: 30,
      connectTimeout: 10_000,
      reconnectPeriod: 0, // our own loop: backoff, and fresh Supervisor settings on every attempt
      resubscribe: false,
      will: { topic: availabilityTopic(this.#ctx), payload: Buffer.from('offline'), qos: 1, retain: true },
      ...(s.username !== null ? { username: s.username } : {}),
      ...(s.password !== null ? { password: s.password } : {}),
    };
    const client = connect(s.url, options);
    this.#client = client;
    let failed = false;
    const fail = (reason: string) => {
      if (failed || this.#stopped || this.#client !== client) return;
      failed = true;
      this.#client = null;
      client.removeAllListeners();
      client.on('error', () => undefined);
      client.end(true);
      this.#setHealth('error', reason, s);
      this.#scheduleRetry(reason);
    };
    client.on('connect', () => {
      if (this.#stopped || this.#client !== client) return;
      this.#attempt = 0;
      this.#lastReason = null;
      this.#setHealth('connected', null, s);
      this.#log.info(
        { broker: `${s.host}:${s.port}`, source: s.source },
        `MQTT connected to ${s.host}:${s.port}${s.source === 'supervisor' ? ' (broker from the Supervisor)' : ''}`,
      );
      void this.#onConnected(client);
    });
    client.on('message', (topic, payload, packet) => this.#onMessage(topic, payload, packet));
    client.on('error', (err) => fail(`MQTT broker ${s.host}:${s.port}: ${errorMessage(err)}`));
    client.on('close', () => fail(`connection to the MQTT broker ${s.host}:${s.port} closed`));
  }

  #scheduleRetry(reason: string): void {
    if (this.#stopped) return;
    const min = this.#d.timing?.reconnectMinMs ?? 1000;
    const max = this.#d.timing?.reconnectMaxMs ?? 60_000;
    const delay = Math.min(max, min * 2 ** Math.min(this.#attempt, 16));
    this.#attempt += 1;
    const message = `${reason}; MQTT retries in ${Math.round(delay / 100) / 10} s (the rest of Camstack keeps working)`;
    if (reason !== this.#lastReason) this.#log.warn(message);
    else this.#log.debug(message);
    this.#lastReason = reason;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      void this.#connect();
    }, delay);
    this.#retryTimer.unref();
  }

  async #onConnected(client: MqttClient): Promise<void> {
    this.#lastState.clear();
    this.#lastImage.clear();
    this.#imageFailedAt.clear();
    this.#legacy.clear();
    try {
      await client.subscribeAsync(
        [
          haStatusTopic(this.#ctx),
          legacyDiscoverySubscription(this.#ctx),
          deviceDiscoverySubscription(this.#ctx),
          ...commandSubscriptions(this.#ctx),
        ],
        { qos: 1 },
      );
      // The broker sends the retained configs right after subscribing: old per-entity ones must be
      // migrated before the device configs go out (HA would otherwise see each unique id twice).
      await sleep(this.#d.timing?.discoveryCollectMs ?? 1000);
      if (this.#client !== client) return;
      await this.#serialDiscovery(async () => {
        await this.#migrateLegacy(client);
        await this.#publishEverything(client);
      });
      await client.publishAsync(availabilityTopic(this.#ctx), 'online', QOS1);
    } catch (err) {
      if (this.#client === client) this.#log.warn({ err: errorMessage(err) }, 'MQTT: publishing after connect failed');
      return;
    }
    void this.#refreshStorage();
    this.#publishAllImages();
  }

  /** Discovery configs, then states (HA wants configs before states). */
  async #publishEverything(client: MqttClient): Promise<void> {
    const cameras = this.#d.cameras.list();
    this.#discovered.clear();
    const messages = allDiscovery(this.#ctx, cameras);
    await Promise.all(messages.map((m) => client.publishAsync(m.topic, JSON.stringify(m.payload), QOS1)));
    for (const c of cameras) this.#discovered.set(c.id, discoveryKey(c));
    this.#lastState.clear();
    this.#publishHub();
    for (const c of cameras) this.#publishCameraState(c.id);
  }

  /**
   * Per-entity configs of Camstack before 0.2 → device-based discovery, as HA documents it:
   * `{"migrate_discovery": true}` on every old topic (HA unloads each entity, keeps its registry
   * entry), then an empty retained payload (HA forgets the old topic), then the caller publishes
   * the device configs with the same unique ids (HA reuses the entity ids).
   */
  async #migrateLegacy(client: MqttClient): Promise<void> {
    const all = [...this.#legacy];
    if (all.length === 0) return;
    this.#legacy.clear();
    // Only entities we still publish migrate; the rest (a camera removed meanwhile) are just
    // cleared, so HA deletes them instead of keeping orphaned registry entries.
    const current = new Set([
      ...legacyHubTopics(this.#ctx),
      ...this.#d.cameras.list().flatMap((c) => legacyCameraTopics(this.#ctx, c.id)),
    ]);
    const topics = all.filter((t) => current.has(t));
    const stale = all.filter((t) => !current.has(t));
    for (const t of stale) {
      this.#log.info({ topic: t }, 'MQTT: clearing a stale discovery config');
      await client.publishAsync(t, '', QOS1);
    }
    if (topics.length === 0) return;
    const step = this.#d.timing?.migrationStepMs ?? 1500;
    this.#log.info(
      { configs: topics.length },
      `MQTT: migrating ${topics.length} per-entity discovery configs to device-based discovery`,
    );
    const migrate = JSON.stringify(MIGRATE_DISCOVERY_PAYLOAD);
    this.#migrating = true;
    try {
      // Not retained: HA acts on it at once; a HA that is down meanwhile just finds the device
      // configs (same unique ids) and keeps its entities.
      await Promise.all(topics.map((t) => client.publishAsync(t, migrate, { qos: 1, retain: false })));
      await sleep(step);
      await Promise.all(topics.map((t) => client.publishAsync(t, '', QOS1)));
      await sleep(step);
    } finally {
      this.#migrating = false;
    }
  }

  #serialDiscovery(run: () => Promise<void>): Promise<void> {
    const next = this.#discoveryChain.then(run, run);
    this.#discoveryChain = next.catch(() => undefined);
    return next;
  }

  // -------------------------------------------------------------------------------------------
  // Incoming

  #onMessage(topic: string, payload: Buffer, packet: IPublishPacket): void {
    try {
      if (topic === haStatusTopic(this.#ctx)) this.#onHaStatus(payload, packet);
      else if (topic.startsWith(`${this.#ctx.discoveryPrefix}/`) && topic.endsWith('/config')) {
        this.#onOwnDiscovery(topic, payload, packet);
      } else this.#onCommandMessage(topic, payload, packet);
    } catch (err) {
      this.#log.error({ err: errorMessage(err), topic }, 'MQTT: handling a message failed');
    }
  }

  #onHaStatus(payload: Buffer, packet: IPublishPacket): void {
    const text = payload.toString('utf8');
    if (text !== 'online' || packet.retain) return; // a retained birth is stale: we just published anyway
    const [min, max] = this.#d.timing?.birthDelayMs ?? [1000, 5000];
    const delay = min + Math.random() * Math.max(0, max - min);
    this.#log.info(`Home Assistant came online; publishing discovery and states again in ${Math.round(delay)} ms`);
    if (this.#birthTimer) clearTimeout(this.#birthTimer);
    this.#birthTimer = setTimeout(() => {
      this.#birthTimer = null;
      const client = this.#client;
      if (!client?.connected) return;
      // Per-entity configs that arrived after the first discovery went out migrate now.
      this.#serialDiscovery(async () => {
        await this.#migrateLegacy(client);
        await this.#publishEverything(client);
      })
        .then(() => client.publishAsync(availabilityTopic(this.#ctx), 'online', QOS1))
        .then(() => this.#publishAllImages({ cachedOnly: false }))
        .catch((err: unknown) => this.#log.warn({ err: errorMessage(err) }, 'MQTT: republishing failed'));
    }, delay);
    this.#birthTimer.unref();
  }

  /**
   * A retained discovery config. Ours per entity (Camstack before 0.2): migrate it. A device config
   * of ours that we no longer publish (a camera removed while Camstack was down): clear it.
   */
  #onOwnDiscovery(topic: string, payload: Buffer, packet: IPublishPacket): void {
    if (!packet.retain || payload.length === 0) return;
    const devicePrefix = `${this.#ctx.discoveryPrefix}/device/`;
    if (!topic.startsWith(devicePrefix)) {
      if (!topic.includes(`/${nodeId(this.#ctx.topicPrefix)}/`)) return;
      // Retained messages only arrive right after subscribing, before the first discovery.
      this.#legacy.add(topic);
      return;
    }
    const wanted = new Set(allDiscovery(this.#ctx, this.#d.cameras.list()).map((m) => m.topic));
    if (wanted.has(topic)) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(payload.toString('utf8'));
    } catch {
      return; // not ours to judge
    }
    if (!isOwnDeviceConfig(this.#ctx, parsed)) return;
    this.#log.info({ topic }, 'MQTT: clearing a stale discovery config');
    this.#client?.publish(topic, '', QOS1);
  }

  #onCommandMessage(topic: string, payload: Buffer, packet: IPublishPacket): void {
    if (packet.retain) {
      this.#log.warn({ topic }, 'MQTT: ignoring a retained command (commands must not be retained)');
      return;
    }
    const command = parseCommand(this.#ctx, topic, payload);
    if (command.kind === 'rejected') {
      this.#log.warn({ topic }, `MQTT: ignoring a command: ${command.reason}`);
      return;
    }
    const camera = this.#d.cameras.get(command.camera);
    if (camera === undefined) {
      this.#log.warn({ topic }, `MQTT: ignoring a command for unknown camera "${command.camera}"`);
      return;
    }
    void this.#execute(command, camera);
  }

  async #execute(command: Command, camera: Camera): Promise<void> {
    const log = this.#log.child({ camera: camera.id, command: command.kind });
    try {
      switch (command.kind) {
        case 'recording':
          log.info(`Home Assistant turns continuous recording ${command.continuous ? 'on' : 'off'}`);
          await this.#d.cameras.update(camera.id, { recording: { continuous: command.continuous } });
          break;
        case 'save_clip':
          if (!this.#d.clips) {
            log.warn('Home Assistant asked for a clip, but recordings are not available');
            return;
          }
          log.info('Home Assistant saves a clip');
          // The camera's default pre-roll and length, exactly as POST /api/cameras/:id/clips without a body.
          await this.#d.clips.startClip(camera.id, { trigger: 'mqtt' });
          break;
        case 'snapshot':
          if (!this.#d.snapshots) {
            log.warn('Home Assistant asked for a snapshot, but snapshots are not available');
            return;
          }
          log.info('Home Assistant saves a snapshot');
          await this.#d.snapshots.save(camera.id, { trigger: 'mqtt' });
          break;
      }
    } catch (err) {
      log.warn({ err: errorMessage(err) }, `MQTT command failed: ${errorMessage(err)}`);
      // Whatever HA assumed (an optimistic switch), show the truth again.
      this.#publishCameraState(camera.id, { force: true });
    }
  }

  // -------------------------------------------------------------------------------------------
  // Bus → MQTT

  #cameraChanged(camera: Camera): void {
    const client = this.#client;
    if (!client?.connected) return;
    const key = discoveryKey(camera);
    const isNew = !this.#discovered.has(camera.id);
    // During a migration the device configs follow it (all of them, this camera's too).
    if (this.#discovered.get(camera.id) !== key && !this.#migrating) {
      this.#discovered.set(camera.id, key);
      const m = cameraDiscovery(this.#ctx, camera);
      client.publish(m.topic, JSON.stringify(m.payload), QOS1);
    }
    this.#publishCameraState(camera.id);
    this.#publishHub();
    // A new (or re-enabled) camera gets its first picture now; later ones follow while it streams.
    if (camera.enabled && (isNew || !this.#lastImage.has(camera.id)))
      void this.#publishImage(camera.id, { force: true });
  }

  #cameraRemoved(id: string): void {
    this.#discovered.delete(id);
    this.#lastImage.delete(id);
    this.#imageFailedAt.delete(id);
    this.#lastState.delete(cameraStateTopic(this.#ctx, id));
    const client = this.#client;
    if (!client?.connected) return; // stale configs are cleared on the next connect
    // An empty device config: HA removes the device and every entity on it.
    client.publish(cameraDiscoveryTopic(this.#ctx, id), '', QOS1);
    client.publish(cameraStateTopic(this.#ctx, id), '', QOS1);
    client.publish(cameraImageTopic(this.#ctx, id), '', QOS1);
    this.#publishHub();
  }

  #statusChanged(status: CameraStatus, previous: CameraStatus | null): void {
    this.#publishCameraState(status.id);
    if (status.state === 'streaming' && previous?.state !== 'streaming') void this.#publishImage(status.id);
    // No picture yet (the engines were still starting, or the camera was offline): try again
    // when the camera becomes usable.
    else if (this.#needsFirstImage(status.id, 0) && status.state !== 'offline' && status.state !== 'error') {
      void this.#publishImage(status.id, { force: true });
    }
  }

  /** Enabled, no picture sent since we connected, and no failed attempt in the last `backoffMs`. */
  #needsFirstImage(id: string, backoffMs = 30_000): boolean {
    if (this.#lastImage.has(id) || !this.#d.cameras.get(id)?.enabled) return false;
    const failed = this.#imageFailedAt.get(id);
    return failed === undefined || Date.now() - failed > backoffMs;
  }

  #publishRetained(topic: string, payload: string, force: boolean): void {
    const client = this.#client;
    if (!client?.connected) return;
    if (!force && this.#lastState.get(topic) === payload) return;
    this.#lastState.set(topic, payload);
    client.publish(topic, payload, QOS1);
  }

  #publishCameraState(id: string, opts: { force?: boolean } = {}): void {
    const camera = this.#d.cameras.get(id);
    if (!camera) return;
    const scanned = this.#d.storage?.current()?.cameras.get(id);
    const seen = this.#lastClip.get(id) ?? null;
    const lastClipAt =
      seen !== null && (scanned?.lastClipAt == null || Date.parse(seen) > Date.parse(scanned.lastClipAt))
        ? new Date(seen).toISOString()
        : (scanned?.lastClipAt ?? null);
    const storage = { bytes: scanned?.bytes ?? null, lastClipAt };
    const payload = cameraState(camera, this.#d.status.get(id), storage, this.#lastImage.get(id)?.takenAt ?? null);
    this.#publishRetained(cameraStateTopic(this.#ctx, id), JSON.stringify(payload), opts.force ?? false);
  }

  #publishHub(): void {
    const payload = hubState(
      this.#d.engineHealth(),
      this.#d.storage?.current()?.totals ?? null,
      this.#d.cameras.list().length,
      this.#ctx.version,
    );
    this.#publishRetained(hubStateTopic(this.#ctx), JSON.stringify(payload), false);
  }

  async #refreshStorage(): Promise<void> {
    if (!this.#d.storage) return;
    try {
      await this.#d.storage.refresh();
    } catch (err) {
      this.#log.debug({ err: errorMessage(err) }, 'MQTT: storage scan failed');
      return;
    }
    this.#publishHub();
    for (const c of this.#d.cameras.list()) this.#publishCameraState(c.id);
  }

  /** A storage rescan a little later (several deletions or segments in a row make one scan). */
  #storageSoon(): void {
    if (!this.#d.storage || this.#storageSoonTimer || this.#stopped) return;
    this.#storageSoonTimer = setTimeout(() => {
      this.#storageSoonTimer = null;
      void this.#refreshStorage();
    }, 2000);
    this.#storageSoonTimer.unref();
  }

  // -------------------------------------------------------------------------------------------
  // Pictures

  /** One picture per enabled camera (two at a time: waking many cameras at once is heavy). */
  #publishAllImages(_opts: { cachedOnly?: boolean } = {}): void {
    const ids = this.#d.cameras
      .list()
      .filter((c) => c.enabled)
      .map((c) => c.id);
    const next = async (): Promise<void> => {
      const id = ids.shift();
      if (id === undefined || this.#stopped) return;
      await this.#publishImage(id, { force: true });
      await next();
    };
    void next();
    void next();
  }

  /**
   * Cameras that something really uses (a viewer, 24/7 or pre-roll recording) get a fresh picture
   * each interval. Others are not woken, except once for a camera that has no picture yet: in
   * particular an on-demand camera kept pulled only by its grace period gets none, since reading
   * it would keep it pulled for ever (each read restarts the grace period). Home Assistant keeps
   * the last picture, and `picture_at` in the camera's state says when it was taken.
   */
  #refreshStreamingImages(): void {
    for (const c of this.#d.cameras.list()) {
      if (!c.enabled) continue;
      const status = this.#d.status.get(c.id);
      if (status?.state === 'streaming' && (status.viewers > 0 || isRecorded(c))) void this.#publishImage(c.id);
      else if (this.#needsFirstImage(c.id)) void this.#publishImage(c.id, { force: true });
    }
  }

  async #publishImage(id: string, opts: { force?: boolean } = {}): Promise<void> {
    const snapshots = this.#d.snapshots;
    const client = this.#client;
    if (!snapshots || !client?.connected || this.#imageInFlight.has(id)) return;
    const intervalMs = Math.max(2000, this.#d.options.snapshotIntervalSeconds * 1000);
    const last = this.#lastImage.get(id);
    // Rate limit: at most one picture per interval per camera, unless asked for (a saved snapshot…).
    if (!opts.force && last && Date.now() - last.at < intervalMs - 250) return;
    this.#imageInFlight.add(id);
    try {
      const snap = await snapshots.get(id, { width: this.#d.options.snapshotWidth, maxAgeMs: intervalMs });
      if (this.#client !== client || !client.connected) return;
      if (last?.etag === snap.etag && !opts.force) return;
      const newPicture = this.#lastImage.get(id)?.takenAt !== snap.takenAt.toISOString();
      this.#lastImage.set(id, { etag: snap.etag, at: Date.now(), takenAt: snap.takenAt.toISOString() });
      this.#imageFailedAt.delete(id);
      await client.publishAsync(cameraImageTopic(this.#ctx, id), snap.jpeg, QOS1);
      if (newPicture) this.#publishCameraState(id);
    } catch (err) {
      this.#imageFailedAt.set(id, Date.now());
      this.#log.debug({ camera: id, err: errorMessage(err) }, 'MQTT: no picture for the camera entity');
    } finally {
      this.#imageInFlight.delete(id);
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** What a camera's discovery depends on: a change republishes its configs. */
function discoveryKey(camera: Camera): string {
  return JSON.stringify([camera.name, camera.sourceType]);
}
