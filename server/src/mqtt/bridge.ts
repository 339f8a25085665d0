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
 *
 * This module is the front: it listens to the bus and sequences what a connection and HA's birth
 * need. Its parts, one job each: connection.ts (broker, reconnects, health), announcer.ts
 * (discovery and its migration), states.ts (retained states, storage figures), pictures.ts (the
 * camera entities' pictures), command-handler.ts (HA's commands); bridge-context.ts holds the
 * dependencies' interfaces they share.
 */
import type { IPublishPacket, MqttClient } from 'mqtt';
import type { CameraStatus } from '../cameras/status.js';
import type { Camera } from '../config/load.js';
import type { Logger } from '../log/logger.js';
import { DiscoveryAnnouncer } from './announcer.js';
import {
  type BridgeContext,
  errorMessage,
  type MqttBridgeDeps,
  type MqttHealth,
  QOS1,
  sleep,
} from './bridge-context.js';
import { CommandHandler } from './command-handler.js';
import { MqttConnection } from './connection.js';
import type { DiscoveryContext } from './discovery.js';
import { EventStates } from './event-states.js';
import { PicturePublisher } from './pictures.js';
import { StatePublisher } from './states.js';
import {
  availabilityTopic,
  cameraImageTopic,
  cameraStateTopic,
  commandSubscriptions,
  deviceDiscoverySubscription,
  haStatusTopic,
  legacyDiscoverySubscription,
} from './topics.js';

export type {
  MqttBridgeDeps,
  MqttBridgeTiming,
  MqttCameraEvents,
  MqttCameraStore,
  MqttClips,
  MqttHealth,
  MqttSnapshots,
  MqttState,
} from './bridge-context.js';

export class MqttBridge {
  readonly #d: MqttBridgeDeps;
  readonly #ctx: DiscoveryContext;
  readonly #log: Logger;
  readonly #connection: MqttConnection;
  readonly #announcer: DiscoveryAnnouncer;
  readonly #states: StatePublisher;
  readonly #pictures: PicturePublisher;
  readonly #events: EventStates;
  readonly #commands: CommandHandler;
  #birthTimer: NodeJS.Timeout | null = null;
  #imageTimer: NodeJS.Timeout | null = null;
  #storageTimer: NodeJS.Timeout | null = null;
  readonly #offBus: (() => void)[] = [];

  constructor(deps: MqttBridgeDeps) {
    this.#d = deps;
    this.#ctx = {
      topicPrefix: deps.options.topicPrefix,
      discoveryPrefix: deps.options.discoveryPrefix,
      version: deps.version,
    };
    this.#log = deps.logger.child({ component: 'mqtt' });
    if (deps.options.password) deps.redactor?.add(deps.options.password);
    this.#connection = new MqttConnection(deps, this.#ctx, this.#log, {
      onConnected: (client) => void this.#onConnected(client),
      onMessage: (topic, payload, packet) => this.#onMessage(topic, payload, packet),
    });
    const bridge: BridgeContext = {
      d: deps,
      ctx: this.#ctx,
      log: this.#log,
      client: () => this.#connection.client,
      stopped: () => this.#connection.stopped,
    };
    this.#announcer = new DiscoveryAnnouncer(bridge);
    this.#states = new StatePublisher(bridge, (id) => this.#pictures.takenAt(id));
    this.#pictures = new PicturePublisher(bridge, (id) => this.#states.publishCamera(id));
    this.#events = new EventStates(bridge, (camera) => {
      const client = this.#connection.client;
      if (client?.connected) this.#announcer.cameraChanged(client, camera);
    });
    this.#commands = new CommandHandler(bridge, (id) => this.#states.publishCamera(id, { force: true }));
  }

  get context(): DiscoveryContext {
    return this.#ctx;
  }

  health(): MqttHealth {
    return this.#connection.health();
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
          if (e.name === 'go2rtc' || e.name === 'mediamtx') this.#states.publishHub();
        },
        'mqtt',
      ),
      bus.on('snapshot.saved', ({ camera }) => void this.#pictures.publish(camera, { force: true }), 'mqtt'),
      bus.on('clip.saved', (e) => this.#states.clipSaved(e), 'mqtt'),
      bus.on('camera.event', (e) => this.#events.changed(e), 'mqtt'),
      bus.on('recording.deleted', () => this.#states.storageSoon(), 'mqtt'),
      bus.on('recording.segment', () => this.#states.storageSoon(), 'mqtt'),
    );
    const storageEvery = this.#d.timing?.storageIntervalMs ?? 60_000;
    if (this.#d.storage) {
      this.#storageTimer = setInterval(() => void this.#states.refreshStorage(), storageEvery);
      this.#storageTimer.unref();
    }
    const imageEvery = this.#d.options.snapshotIntervalSeconds * 1000;
    if (imageEvery > 0 && this.#d.snapshots) {
      this.#imageTimer = setInterval(() => this.#pictures.refreshStreaming(), imageEvery);
      this.#imageTimer.unref();
    }
    this.#connection.start();
  }

  /** Says `offline`, disconnects and stops every timer. */
  async stop(): Promise<void> {
    this.#connection.halt();
    for (const off of this.#offBus.splice(0)) off();
    for (const t of [this.#birthTimer, this.#imageTimer, this.#storageTimer]) {
      if (t) clearTimeout(t);
    }
    this.#states.stop();
    await this.#connection.close();
  }

  // -------------------------------------------------------------------------------------------
  // A connection, and HA's birth

  async #onConnected(client: MqttClient): Promise<void> {
    this.#states.reset();
    this.#pictures.reset();
    this.#announcer.reset();
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
      if (this.#connection.client !== client) return;
      await this.#announceEverything(client);
      await client.publishAsync(availabilityTopic(this.#ctx), 'online', QOS1);
    } catch (err) {
      if (this.#connection.client === client) {
        this.#log.warn({ err: errorMessage(err) }, 'MQTT: publishing after connect failed');
      }
      return;
    }
    void this.#states.refreshStorage();
    this.#pictures.publishAll();
  }

  /** Migration, discovery configs, then states (HA wants configs before states). */
  #announceEverything(client: MqttClient): Promise<void> {
    return this.#announcer.announce(client, () => {
      this.#states.reset();
      this.#states.publishAll();
      this.#events.publishAll();
    });
  }

  #onMessage(topic: string, payload: Buffer, packet: IPublishPacket): void {
    try {
      if (topic === haStatusTopic(this.#ctx)) this.#onHaStatus(payload, packet);
      else if (topic.startsWith(`${this.#ctx.discoveryPrefix}/`) && topic.endsWith('/config')) {
        this.#announcer.onRetainedConfig(topic, payload, packet);
      } else this.#commands.onMessage(topic, payload, packet);
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
      const client = this.#connection.client;
      if (!client?.connected) return;
      // Per-entity configs that arrived after the first discovery went out migrate now.
      this.#announceEverything(client)
        .then(() => client.publishAsync(availabilityTopic(this.#ctx), 'online', QOS1))
        .then(() => this.#pictures.publishAll())
        .catch((err: unknown) => this.#log.warn({ err: errorMessage(err) }, 'MQTT: republishing failed'));
    }, delay);
    this.#birthTimer.unref();
  }

  // -------------------------------------------------------------------------------------------
  // Bus → MQTT

  #cameraChanged(camera: Camera): void {
    const client = this.#connection.client;
    if (!client?.connected) return;
    const isNew = this.#announcer.cameraChanged(client, camera);
    this.#states.publishCamera(camera.id);
    this.#states.publishHub();
    // A new (or re-enabled) camera gets its first picture now; later ones follow while it streams.
    if (camera.enabled && (isNew || !this.#pictures.sent(camera.id))) {
      void this.#pictures.publish(camera.id, { force: true });
    }
  }

  #cameraRemoved(id: string): void {
    this.#announcer.cameraRemoved(id);
    this.#pictures.cameraRemoved(id);
    this.#states.cameraRemoved(id);
    const client = this.#connection.client;
    if (!client?.connected) return; // stale configs are cleared on the next connect
    // An empty device config: HA removes the device and every entity on it.
    this.#announcer.clearCamera(client, id);
    client.publish(cameraStateTopic(this.#ctx, id), '', QOS1);
    client.publish(cameraImageTopic(this.#ctx, id), '', QOS1);
    this.#events.cameraRemoved(id);
    this.#states.publishHub();
  }

  #statusChanged(status: CameraStatus, previous: CameraStatus | null): void {
    this.#states.publishCamera(status.id);
    if (status.state === 'streaming' && previous?.state !== 'streaming') void this.#pictures.publish(status.id);
    // No picture yet (the engines were still starting, or the camera was offline): try again
    // when the camera becomes usable.
    else if (this.#pictures.needsFirst(status.id, 0) && status.state !== 'offline' && status.state !== 'error') {
      void this.#pictures.publish(status.id, { force: true });
    }
  }
}
