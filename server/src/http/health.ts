import { Type } from 'typebox';
import type { EngineHealth, EngineName } from '../engines/engines.js';

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

export const HealthSchema = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('degraded')]),
  version: Type.String(),
  uptimeSeconds: Type.Integer(),
  engines: Type.Object({ go2rtc: EngineHealthSchema, mediamtx: EngineHealthSchema }),
  /** Why the product is degraded, in words a person understands (empty when ok). */
  reasons: Type.Array(Type.String()),
});

export interface HealthReport {
  status: 'ok' | 'degraded';
  version: string;
  uptimeSeconds: number;
  engines: Record<EngineName, EngineHealth>;
  reasons: string[];
}

const ROLE: Record<EngineName, string> = {
  go2rtc: 'live view (WebRTC/MSE) unavailable, MJPEG and snapshots still served',
  mediamtx: 'camera ingest and recording unavailable',
};

/** Pure: turns engine snapshots into the health report. */
export function healthReport(
  engines: Record<EngineName, EngineHealth>,
  version: string,
  uptimeSeconds: number,
): HealthReport {
  const reasons: string[] = [];
  for (const name of ['go2rtc', 'mediamtx'] as const) {
    const e = engines[name];
    if (e.state === 'running') continue;
    const why = e.lastError ? `: ${e.lastError.split('\n')[0]}` : '';
    reasons.push(`${name} ${e.state === 'failed' ? 'failed' : `not running (${e.state})`}${why} — ${ROLE[name]}`);
  }
  return {
    status: reasons.length ? 'degraded' : 'ok',
    version,
    uptimeSeconds: Math.floor(uptimeSeconds),
    engines,
    reasons,
  };
}
