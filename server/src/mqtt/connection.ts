/**
 * The connection to the broker: broker settings (the options, else the Supervisor's, asked for
 * again on every attempt), the last will, reconnects with exponential backoff (1 s … 60 s) and
 * the health the API reports. Hands each new connection and every message to the bridge.
 */
import { connect, type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import type { Logger } from '../log/logger.js';
import { errorMessage, type MqttBridgeDeps, type MqttHealth, type MqttState, QOS1 } from './bridge-context.js';
import { type BrokerSettings, resolveBroker } from './broker.js';
import type { DiscoveryContext } from './discovery.js';
import { availabilityTopic } from './topics.js';

export interface ConnectionHandlers {
  onConnected: (client: MqttClient) => void;
  onMessage: (topic: string, payload: Buffer, packet: IPublishPacket) => void;
}

export class MqttConnection {
  readonly #d: MqttBridgeDeps;
  readonly #ctx: DiscoveryContext;
  readonly #log: Logger;
  readonly #on: ConnectionHandlers;
  #client: MqttClient | null = null;
  #health: MqttHealth = { state: 'connecting', reason: null, broker: null, source: null };
  #stopped = false;
  #attempt = 0;
  #retryTimer: NodeJS.Timeout | null = null;
  #lastReason: string | null = null;

  constructor(d: MqttBridgeDeps, ctx: DiscoveryContext, log: Logger, handlers: ConnectionHandlers) {
    this.#d = d;
    this.#ctx = ctx;
    this.#log = log;
    this.#on = handlers;
  }

  get client(): MqttClient | null {
    return this.#client;
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  health(): MqttHealth {
    return { ...this.#health };
  }

  /** Connects in the background; never throws. */
  start(): void {
    void this.#connect();
  }

  /** No more attempts from now on (the bridge then clears its own timers and calls close()). */
  halt(): void {
    this.#stopped = true;
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
  }

  /** Says `offline` and disconnects. */
  async close(): Promise<void> {
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
      this.#on.onConnected(client);
    });
    client.on('message', (topic, payload, packet) => this.#on.onMessage(topic, payload, packet));
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
}
