/**
 * What the MQTT bridge's parts share: the bridge's dependencies (narrow interfaces to the store,
 * status, snapshots, clips and storage), the discovery context, the log, and the live client.
 */
import type { MqttClient } from 'mqtt';
import type { CameraStatusSource } from '../cameras/status.js';
import type { MqttOptions } from '../config/integration-options.js';
import type { Camera } from '../config/load.js';
import type { DetectionType, MqttHealth } from '../contract/index.js';
import type { EngineHealth, EngineName } from '../engines/engines.js';
import type { EventBus } from '../events/bus.js';
import type { Logger } from '../log/logger.js';
import type { SecretRedactor } from '../log/redact.js';
import type { SupervisorClient } from '../supervisor-api/client.js';
import type { DiscoveryContext } from './discovery.js';
import type { StorageSource } from './storage.js';

/** The broker connection as `/api/health` reports it (the contract's view). */
export type { MqttHealth };
export type MqttState = MqttHealth['state'];

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

/** The recordings service's clip call (optional: the bridge runs without recordings). */
export interface MqttClips {
  /** preRoll/duration in seconds; undefined = the camera's own settings (as the HTTP API does). */
  startClip(cameraId: string, options: { preRoll?: number; duration?: number; trigger: string }): Promise<unknown>;
}

/** The camera events, as far as MQTT needs them (optional: the bridge runs without them). */
export interface MqttCameraEvents {
  /** Event types the camera has reported (each gets a binary sensor and a device trigger). */
  types(cameraId: string): DetectionType[];
  /** Event types of the camera that last now. */
  activeTypes(cameraId: string): DetectionType[];
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
  events?: MqttCameraEvents;
  timing?: MqttBridgeTiming;
  /** MQTT client id; default `camstack-<random>`. */
  clientId?: string;
}

/** The parts' view of the bridge. */
export interface BridgeContext {
  readonly d: MqttBridgeDeps;
  readonly ctx: DiscoveryContext;
  readonly log: Logger;
  /** The client of the current connection (connected or not), null between connections. */
  client(): MqttClient | null;
  /** stop() was called: nothing new starts. */
  stopped(): boolean;
}

/** Retained, at least once: every config, state and picture. */
export const QOS1 = { qos: 1 as const, retain: true };

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
