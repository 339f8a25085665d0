/**
 * Which MQTT broker to use: `mqtt_host` from the options when set, otherwise the broker the
 * Supervisor provides to the add-on (`GET /services/mqtt`), otherwise none (MQTT stays off and
 * everything else keeps working).
 */
import type { HassOptions, MqttOptions } from '../config/integration-options.js';
import { type SupervisorClient, SupervisorError } from '../supervisor-api/client.js';

export interface BrokerSettings {
  url: string;
  host: string;
  port: number;
  ssl: boolean;
  username: string | null;
  password: string | null;
  /** MQTT protocol level for mqtt.js: 3 (MQTT 3.1), 4 (3.1.1). */
  protocolVersion: 3 | 4;
  source: 'options' | 'supervisor';
}

export type BrokerResolution =
  | { kind: 'broker'; settings: BrokerSettings }
  /** MQTT is off on purpose or for want of a broker: not an error. */
  | { kind: 'disabled'; reason: string }
  /** A broker should exist but its settings could not be had (retry later). */
  | { kind: 'error'; reason: string };

export function brokerUrl(host: string, port: number, ssl: boolean): string {
  const h = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return `${ssl ? 'mqtts' : 'mqtt'}://${h}:${port}`;
}

export async function resolveBroker(
  options: MqttOptions,
  supervisor: Pick<SupervisorClient, 'mqttService'> | null,
  _hass?: HassOptions,
): Promise<BrokerResolution> {
  if (!options.enabled) return { kind: 'disabled', reason: 'mqtt_enabled is false' };
  if (options.host !== null) {
    return {
      kind: 'broker',
      settings: {
        url: brokerUrl(options.host, options.port, options.ssl),
        host: options.host,
        port: options.port,
        ssl: options.ssl,
        username: options.username,
        password: options.password,
        protocolVersion: 4,
        source: 'options',
      },
    };
  }
  if (supervisor === null) {
    return {
      kind: 'disabled',
      reason: 'no MQTT broker configured (set mqtt_host, or run as an add-on with the Mosquitto broker add-on)',
    };
  }
  try {
    const s = await supervisor.mqttService();
    return {
      kind: 'broker',
      settings: {
        url: brokerUrl(s.host, s.port, s.ssl),
        host: s.host,
        port: s.port,
        ssl: s.ssl,
        username: s.username,
        password: s.password,
        protocolVersion: s.protocol === '3.1' ? 3 : 4,
        source: 'supervisor',
      },
    };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (err instanceof SupervisorError && err.status === 400 && /not enabled|not available/i.test(message)) {
      return {
        kind: 'error',
        reason: `the Supervisor provides no MQTT broker (${message}); install and start the Mosquitto broker add-on, or set mqtt_host`,
      };
    }
    return { kind: 'error', reason: `could not get the MQTT broker from the Supervisor: ${message}` };
  }
}
