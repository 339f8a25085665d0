import type { EnginePorts } from './ports.js';

export interface Go2rtcConfigInput {
  ports: EnginePorts;
  ffmpegBin: string;
  /** Address the WebRTC media port binds to: "" (all interfaces, the add-on) or "127.0.0.1" (tests). */
  webrtcBind: string;
  /**
   * ICE candidates go2rtc advertises, as "host" or "host:port". In the add-on: the host's LAN
   * address from the Supervisor network info; in tests: 127.0.0.1 only.
   */
  webrtcCandidates: readonly string[];
  logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error';
}

export interface Go2rtcConfig {
  api: { listen: string; origin: string };
  rtsp: { listen: string };
  rtmp: { listen: string };
  srtp: { listen: string };
  webrtc: {
    listen: string;
    candidates: string[];
    ice_servers: never[];
    filters: { loopback?: boolean; candidates?: string[] };
  };
  ffmpeg: { bin: string };
  log: { level: string; format: string; output: string };
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host.startsWith('127.') || host === '::1' || host === '[::1]';
}

/**
 * go2rtc's boot configuration. Streams are not listed here: they are pushed through the API at
 * runtime (PUT /api/streams), so the file only holds what never changes while it runs.
 */
export function buildGo2rtcConfig(input: Go2rtcConfigInput): Go2rtcConfig {
  const { ports } = input;
  const candidates = input.webrtcCandidates.map((c) =>
    c.includes(':') && !c.startsWith('[') ? c : `${c}:${ports.webrtc}`,
  );
  const hosts = candidates.map((c) => c.slice(0, c.lastIndexOf(':')));
  const loopbackOnly = hosts.length > 0 && hosts.every(isLoopback);
  return {
    api: { listen: `127.0.0.1:${ports.go2rtcApi}`, origin: '' },
    // Needed by ffmpeg: sources (they publish back into go2rtc); loopback only.
    rtsp: { listen: `127.0.0.1:${ports.go2rtcRtsp}` },
    rtmp: { listen: '' },
    srtp: { listen: '' },
    webrtc: {
      listen: `${input.webrtcBind}:${ports.webrtc}`,
      candidates,
      // No public STUN server is ever contacted: the candidates above are the whole truth.
      ice_servers: [],
      // Loopback candidates are filtered by go2rtc unless asked for (tests and the demo).
      filters: loopbackOnly ? { loopback: true, candidates: hosts } : {},
    },
    ffmpeg: { bin: input.ffmpegBin },
    log: { level: input.logLevel === 'warn' ? 'warn' : input.logLevel, format: 'json', output: 'stdout' },
    // No `streams:` key: go2rtc appends the section itself when the API adds the first stream
    // (an empty flow-style `{}` would break its in-place YAML editing).
  };
}
