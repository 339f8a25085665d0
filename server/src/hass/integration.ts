/**
 * Everything that connects Camstack to Home Assistant, assembled in one place so main.ts only
 * wires it: MQTT discovery/state/commands (mqtt/bridge.ts), the HA websocket (events,
 * notifications, triggers) and HA live cameras (Generic Camera entries).
 *
 * Nothing here can stop Camstack from starting: a missing broker or HA is reported in
 * /api/health (`mqtt`, `homeAssistant`) and retried in the background.
 */

import { hostname } from 'node:os';
import { join } from 'node:path';
import type { CameraStatusSource } from '../cameras/status.js';
import type { IntegrationConfig } from '../config/integration-options.js';
import type { EngineHealth, EngineName } from '../engines/engines.js';
import type { EventBus } from '../events/bus.js';
import type { IntegrationsHealth } from '../http/health.js';
import type { Logger } from '../log/logger.js';
import type { SecretRedactor } from '../log/redact.js';
import {
  MqttBridge,
  type MqttCameraEvents,
  type MqttCameraStore,
  type MqttClips,
  type MqttSnapshots,
} from '../mqtt/bridge.js';
import { DiskUsageScanner } from '../mqtt/storage.js';
import type { SupervisorClient } from '../supervisor-api/client.js';
import type { CameraEventAnnouncement } from './events.js';
import { LiveCameras } from './live-cameras.js';
import { type RtspReaderCredentials, rtspUrl } from './rtsp-credentials.js';
import { type HassClips, HassLink, hassTarget } from './websocket.js';

export interface HomeAssistantIntegrationDeps {
  config: IntegrationConfig;
  /** Development/test timing (CAMSTACK_MQTT_*, CAMSTACK_HA_RETRY_MS); null: the defaults. */
  timing: IntegrationTiming;
  version: string;
  bus: EventBus;
  logger: Logger;
  redactor: SecretRedactor;
  supervisor: SupervisorClient | null;
  cameras: MqttCameraStore;
  status: CameraStatusSource;
  engineHealth: () => Record<EngineName, EngineHealth>;
  snapshots?: MqttSnapshots;
  /** The recordings service (clips); optional so the integration runs without it. */
  recordings?: MqttClips & HassClips;
  /** The camera events (binary sensors and device triggers per event type). */
  cameraEvents?: MqttCameraEvents;
  mediaDir: string;
  dataDir: string;
  /** MediaMTX's RTSP restream port and the credentials other hosts need to read it. */
  rtsp: { port: number; reader: RtspReaderCredentials };
}

/** Milliseconds; null: the part's default. */
export interface IntegrationTiming {
  /** Longest random wait before announcing after HA's birth message (shortest: 1000 or less). */
  mqttBirthDelayMs: number | null;
  /** First MQTT reconnect delay; the longest is 8 times it. */
  mqttReconnectMs: number | null;
  mqttStorageMs: number | null;
  mqttDiscoveryCollectMs: number | null;
  mqttMigrationStepMs: number | null;
  /** First HA websocket retry delay; the longest is 8 times it. */
  hassRetryMs: number | null;
}

export class HomeAssistantIntegration {
  #slug: string | null = null;
  readonly mqtt: MqttBridge;
  readonly hass: HassLink;
  live: LiveCameras | null = null;
  readonly #d: HomeAssistantIntegrationDeps;

  constructor(deps: HomeAssistantIntegrationDeps) {
    this.#d = deps;
    const { config, timing } = deps;
    for (const secret of [config.mqtt.password, config.hass.token]) if (secret) deps.redactor.add(secret);
    const birthMax = timing.mqttBirthDelayMs;
    const reconnectMin = timing.mqttReconnectMs;
    const storageInterval = timing.mqttStorageMs;
    const discoveryCollect = timing.mqttDiscoveryCollectMs;
    const migrationStep = timing.mqttMigrationStepMs;
    this.mqtt = new MqttBridge({
      options: config.mqtt,
      supervisor: deps.supervisor,
      version: deps.version,
      bus: deps.bus,
      logger: deps.logger,
      redactor: deps.redactor,
      cameras: deps.cameras,
      status: deps.status,
      engineHealth: deps.engineHealth,
      storage: new DiskUsageScanner({
        mediaDir: deps.mediaDir,
        cameraIds: () => deps.cameras.list().map((c) => c.id),
      }),
      ...(deps.snapshots ? { snapshots: deps.snapshots } : {}),
      ...(deps.recordings ? { clips: deps.recordings } : {}),
      ...(deps.cameraEvents ? { events: deps.cameraEvents } : {}),
      timing: {
        ...(birthMax !== null ? { birthDelayMs: [Math.min(birthMax, 1000), birthMax] } : {}),
        ...(reconnectMin !== null ? { reconnectMinMs: reconnectMin, reconnectMaxMs: reconnectMin * 8 } : {}),
        ...(storageInterval !== null ? { storageIntervalMs: storageInterval } : {}),
        ...(discoveryCollect !== null ? { discoveryCollectMs: discoveryCollect } : {}),
        ...(migrationStep !== null ? { migrationStepMs: migrationStep } : {}),
      },
    });
    const hassRetry = timing.hassRetryMs;
    this.hass = new HassLink({
      target: hassTarget(config.hass, deps.supervisor),
      disabledReason: 'not running as an add-on and no ha_url/ha_token set',
      bus: deps.bus,
      logger: deps.logger,
      cameras: deps.cameras,
      status: deps.status,
      triggers: config.hass.triggers,
      notifyServices: config.hass.notifyServices,
      panelPath: () => (this.#slug === null ? null : `/hassio/ingress/${this.#slug}`),
      mediaDir: deps.mediaDir,
      ...(deps.recordings ? { recordings: deps.recordings } : {}),
      ...(hassRetry !== null ? { retryMs: [hassRetry, hassRetry * 8] } : {}),
    });
  }

  /**
   * Connects in the background (never throws); call once the engines and services run and the
   * HTTP server listens (`httpPort`: where HA fetches snapshots for its live cameras).
   */
  start(opts: { httpPort: number }): void {
    this.mqtt.start();
    // The panel's address in HA (notifications open it); only known in the add-on.
    this.#d.supervisor
      ?.selfSlug()
      .then((slug) => {
        this.#slug = slug;
      })
      .catch((err: unknown) => this.#d.logger.debug({ err: String(err) }, "the add-on's slug is unknown"));
    const target = this.hass.target;
    if (target) {
      const d = this.#d;
      // Where HA reaches us: the add-on's host name on the Supervisor network, else loopback.
      const host = d.config.hass.camstackHost ?? (d.supervisor ? hostname() : '127.0.0.1');
      const live = new LiveCameras({
        enabled: d.config.hass.liveCameras,
        target,
        command: (message) => this.hass.command(message),
        cameras: d.cameras,
        status: (id) => d.status.get(id),
        urls: {
          stream: (id) => rtspUrl(host, d.rtsp.port, id, d.rtsp.reader),
          still: (id) =>
            `http://${host.includes(':') ? `[${host}]` : host}:${opts.httpPort}/api/cameras/${id}/snapshot.jpg`,
        },
        stateFile: join(d.dataDir, 'ha-live-cameras.json'),
        bus: d.bus,
        logger: d.logger,
      });
      this.live = live;
      live.start();
      this.hass.onReady(() => void live.sync());
    }
    this.hass.start();
  }

  /** A camera event with its picture: HA's bus event, and the notifications its rules ask for. */
  cameraEvent(a: CameraEventAnnouncement): Promise<void> {
    return this.hass.announceCameraEvent(a);
  }

  async stop(): Promise<void> {
    await Promise.all([
      this.mqtt.stop().catch((err: unknown) => this.#d.logger.warn({ err: String(err) }, 'stopping MQTT failed')),
      this.hass.stop(),
    ]);
    this.live?.stop();
  }

  health(): IntegrationsHealth {
    return {
      mqtt: this.mqtt.health(),
      homeAssistant: { ...this.hass.health(), ...(this.live ? { liveCameras: this.live.health() } : {}) },
    };
  }
}
