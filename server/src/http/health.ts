import { Type } from 'typebox';
import type { EngineHealth, EngineName, Health, HomeAssistantHealth, MqttHealth } from '../contract/index.js';

export const EngineHealthSchema = Type.Object({
  state: Type.Union([
    Type.Literal('starting'),
    Type.Literal('running'),
    Type.Literal('backoff'),
    Type.Literal('failed'),
    Type.Literal('stopping'),
    Type.Literal('stopped'),
  ]),
  pid: Type.Union([Type.Integer(), Type.Null()]),
  restarts: Type.Integer(),
  lastError: Type.Union([Type.String(), Type.Null()]),
});

const ConnectionState = Type.Union([
  Type.Literal('connected'),
  Type.Literal('connecting'),
  Type.Literal('disabled'),
  Type.Literal('error'),
]);

/** MQTT (Home Assistant discovery). Not part of `status`: MQTT down does not degrade the engines. */
export const MqttHealthSchema = Type.Object({
  state: ConnectionState,
  reason: Type.Union([Type.String(), Type.Null()]),
  broker: Type.Union([Type.String(), Type.Null()]),
  source: Type.Union([Type.Literal('options'), Type.Literal('supervisor'), Type.Null()]),
});

/** The Home Assistant websocket (events, notifications, triggers, live cameras). Not part of `status`. */
export const HomeAssistantHealthSchema = Type.Object({
  state: ConnectionState,
  reason: Type.Union([Type.String(), Type.Null()]),
  url: Type.Union([Type.String(), Type.Null()]),
  /** `ha_live_cameras`: the last sync with HA's Generic Camera entries (HA's own message on failure). */
  liveCameras: Type.Optional(
    Type.Object({
      state: Type.Union([Type.Literal('pending'), Type.Literal('ok'), Type.Literal('error'), Type.Literal('disabled')]),
      reason: Type.Union([Type.String(), Type.Null()]),
    }),
  ),
});

export type MqttHealthReport = MqttHealth;
export type HomeAssistantHealthReport = HomeAssistantHealth;

/** Connections to Home Assistant, reported beside (not inside) the engines' health. */
export interface IntegrationsHealth {
  mqtt?: MqttHealthReport;
  homeAssistant?: HomeAssistantHealthReport;
}

export const HealthSchema = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('degraded')]),
  version: Type.String(),
  uptimeSeconds: Type.Integer(),
  engines: Type.Object({ go2rtc: EngineHealthSchema, mediamtx: EngineHealthSchema }),
  /** Why the product is degraded, in words a person understands (empty when ok). */
  reasons: Type.Array(Type.String()),
  mqtt: Type.Optional(MqttHealthSchema),
  homeAssistant: Type.Optional(HomeAssistantHealthSchema),
});

export type HealthReport = Health;

// Compile-time guards: the schemas describe the contract's views.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const healthMatches: Same<Type.Static<typeof HealthSchema>, Health> = true;
const mqttMatches: Same<Type.Static<typeof MqttHealthSchema>, MqttHealth> = true;
const homeAssistantMatches: Same<Type.Static<typeof HomeAssistantHealthSchema>, HomeAssistantHealth> = true;
void healthMatches;
void mqttMatches;
void homeAssistantMatches;

const ROLE: Record<EngineName, string> = {
  go2rtc: 'live view (WebRTC/MSE) unavailable, MJPEG and snapshots still served',
  mediamtx: 'camera ingest and recording unavailable',
};

/** "exited with code 3" alone says little: add the last output line that explains it. */
function summariseError(lastError: string): string {
  const lines = lastError
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const first = lines[0] ?? '';
  const last = lines.at(-1) ?? '';
  return lines.length > 1 && last !== first ? `${first} (${last.slice(0, 200)})` : first;
}

/** Pure: turns engine snapshots into the health report. */
export function healthReport(
  engines: Record<EngineName, EngineHealth>,
  version: string,
  uptimeSeconds: number,
  integrations: IntegrationsHealth = {},
): HealthReport {
  const reasons: string[] = [];
  for (const name of ['go2rtc', 'mediamtx'] as const) {
    const e = engines[name];
    if (e.state === 'running') continue;
    const why = e.lastError ? `: ${summariseError(e.lastError)}` : '';
    reasons.push(`${name} ${e.state === 'failed' ? 'failed' : `not running (${e.state})`}${why} — ${ROLE[name]}`);
  }
  return {
    status: reasons.length ? 'degraded' : 'ok',
    version,
    uptimeSeconds: Math.floor(uptimeSeconds),
    engines,
    reasons,
    ...(integrations.mqtt ? { mqtt: integrations.mqtt } : {}),
    ...(integrations.homeAssistant ? { homeAssistant: integrations.homeAssistant } : {}),
  };
}
