/**
 * Discovery on the broker: one retained device config per camera and one for the hub, sent one
 * sequence at a time; per-entity configs of Camstack before 0.2 migrated the way HA documents it;
 * stale device configs of ours (a camera removed while Camstack was down) cleared.
 */
import type { IPublishPacket, MqttClient } from 'mqtt';
import type { Camera } from '../config/load.js';
import { type BridgeContext, QOS1, sleep } from './bridge-context.js';
import {
  allDiscovery,
  cameraDiscovery,
  cameraDiscoveryTopic,
  type DiscoveryCamera,
  isOwnDeviceConfig,
  legacyCameraTopics,
  legacyHubTopics,
  MIGRATE_DISCOVERY_PAYLOAD,
} from './discovery.js';
import { nodeId } from './topics.js';

/** What a camera's discovery depends on: a change republishes its configs. */
function discoveryKey(camera: DiscoveryCamera): string {
  return JSON.stringify([camera.name, camera.sourceType, camera.eventTypes ?? []]);
}

export class DiscoveryAnnouncer {
  readonly #b: BridgeContext;
  /** Cameras as discovered, to notice what changed on camera.updated. */
  readonly #discovered = new Map<string, string>();
  /** Retained per-entity configs (Camstack before 0.2) seen on this connection, not migrated yet. */
  readonly #legacy = new Set<string>();
  /**
   * Discovery publishing runs one sequence at a time (connect, HA's birth): a device config sent
   * between a migration's steps would reach HA before it forgot the old topic.
   */
  #chain: Promise<void> = Promise.resolve();
  #migrating = false;
  /**
   * A sequence (migration, then every config) is under way: a camera's config is not sent on its
   * own meanwhile (during a migration HA would see it before it forgot the old topics, and make
   * duplicates); the sequence sends what changed when it ends.
   */
  #announcing = 0;
  /** This connection's first sequence has run (before it, nothing is sent on its own). */
  #ready = false;

  constructor(bridge: BridgeContext) {
    this.#b = bridge;
  }

  /** A camera with the event types it has reported (each gets entities). */
  #discoverable(camera: Camera): DiscoveryCamera {
    return {
      id: camera.id,
      name: camera.name,
      sourceType: camera.sourceType,
      eventTypes: this.#b.d.events?.types(camera.id) ?? [],
    };
  }

  #cameras(): DiscoveryCamera[] {
    return this.#b.d.cameras.list().map((c) => this.#discoverable(c));
  }

  /** A new connection: the retained configs it finds are collected afresh. */
  reset(): void {
    this.#legacy.clear();
    this.#ready = false;
  }

  /** Migrates what was found, then publishes every config, then runs `after` (the states). */
  announce(client: MqttClient, after: () => void): Promise<void> {
    const run = async () => {
      this.#announcing++;
      try {
        await this.#migrateLegacy(client);
        await this.#publishAll(client);
      } finally {
        this.#announcing--;
      }
      this.#ready = true;
      // A camera that changed while the sequence ran (e.g. reported a new event type).
      for (const camera of this.#b.d.cameras.list()) this.cameraChanged(client, camera);
      after();
    };
    const next = this.#chain.then(run, run);
    this.#chain = next.catch(() => undefined);
    return next;
  }

  /**
   * A camera added or changed: its config again when what it depends on changed (not during a
   * migration: the device configs follow it). True when the camera was not discovered before.
   */
  cameraChanged(client: MqttClient, camera: Camera): boolean {
    const discoverable = this.#discoverable(camera);
    const key = discoveryKey(discoverable);
    const isNew = !this.#discovered.has(camera.id);
    if (this.#discovered.get(camera.id) !== key && this.#ready && !this.#migrating && this.#announcing === 0) {
      this.#discovered.set(camera.id, key);
      const m = cameraDiscovery(this.#b.ctx, discoverable);
      client.publish(m.topic, JSON.stringify(m.payload), QOS1);
    }
    return isNew;
  }

  cameraRemoved(id: string): void {
    this.#discovered.delete(id);
  }

  /** An empty device config: HA removes the device and every entity on it. */
  clearCamera(client: MqttClient, id: string): void {
    client.publish(cameraDiscoveryTopic(this.#b.ctx, id), '', QOS1);
  }

  /**
   * A retained discovery config. Ours per entity (Camstack before 0.2): migrate it. A device config
   * of ours that we no longer publish (a camera removed while Camstack was down): clear it.
   */
  onRetainedConfig(topic: string, payload: Buffer, packet: IPublishPacket): void {
    const ctx = this.#b.ctx;
    if (!packet.retain || payload.length === 0) return;
    const devicePrefix = `${ctx.discoveryPrefix}/device/`;
    if (!topic.startsWith(devicePrefix)) {
      if (!topic.includes(`/${nodeId(ctx.topicPrefix)}/`)) return;
      // Retained messages only arrive right after subscribing, before the first discovery.
      this.#legacy.add(topic);
      return;
    }
    const wanted = new Set(allDiscovery(ctx, this.#cameras()).map((m) => m.topic));
    if (wanted.has(topic)) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(payload.toString('utf8'));
    } catch {
      return; // not ours to judge
    }
    if (!isOwnDeviceConfig(ctx, parsed)) return;
    this.#b.log.info({ topic }, 'MQTT: clearing a stale discovery config');
    this.#b.client()?.publish(topic, '', QOS1);
  }

  /** Every discovery config (HA wants configs before states). */
  async #publishAll(client: MqttClient): Promise<void> {
    const cameras = this.#cameras();
    this.#discovered.clear();
    const messages = allDiscovery(this.#b.ctx, cameras);
    await Promise.all(messages.map((m) => client.publishAsync(m.topic, JSON.stringify(m.payload), QOS1)));
    for (const c of cameras) this.#discovered.set(c.id, discoveryKey(c));
  }

  /**
   * Per-entity configs of Camstack before 0.2 → device-based discovery, as HA documents it:
   * `{"migrate_discovery": true}` on every old topic (HA unloads each entity, keeps its registry
   * entry), then an empty retained payload (HA forgets the old topic), then the caller publishes
   * the device configs with the same unique ids (HA reuses the entity ids).
   */
  async #migrateLegacy(client: MqttClient): Promise<void> {
    const { ctx, log } = this.#b;
    const all = [...this.#legacy];
    if (all.length === 0) return;
    this.#legacy.clear();
    // Only entities we still publish migrate; the rest (a camera removed meanwhile) are just
    // cleared, so HA deletes them instead of keeping orphaned registry entries.
    const current = new Set([
      ...legacyHubTopics(ctx),
      ...this.#b.d.cameras.list().flatMap((c) => legacyCameraTopics(ctx, c.id)),
    ]);
    const topics = all.filter((t) => current.has(t));
    const stale = all.filter((t) => !current.has(t));
    for (const t of stale) {
      log.info({ topic: t }, 'MQTT: clearing a stale discovery config');
      await client.publishAsync(t, '', QOS1);
    }
    if (topics.length === 0) return;
    const step = this.#b.d.timing?.migrationStepMs ?? 1500;
    log.info(
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
}
