/**
 * Every port the engines listen on. APIs and the internal RTSP hop are bound to loopback; the
 * WebRTC media port (browsers reach it after we did the signalling) and the RTSP restream port
 * (Home Assistant reads it for live cameras) may be bound wider by the add-on.
 */
export interface EnginePorts {
  go2rtcApi: number;
  /** go2rtc's own RTSP server: needed for `ffmpeg:` sources; never the camera-facing port. */
  go2rtcRtsp: number;
  /** go2rtc WebRTC media (TCP+UDP). */
  webrtc: number;
  mediamtxApi: number;
  /** MediaMTX RTSP: the one restream every internal reader (go2rtc, FFmpeg) and HA uses. */
  mediamtxRtsp: number;
  mediamtxPlayback: number;
  /** MediaMTX's HLS server (loopback only; our API proxies it under `/api/cameras/:id/hls/`). */
  mediamtxHls: number;
}

/**
 * Defaults chosen so the two engines never collide (both default RTSP to 8554 upstream), and
 * never collide with the go2rtc Home Assistant Core runs itself since 2024.11 (API 11984, RTSP
 * 127.0.0.1:18554, WebRTC 18555): on one host (no add-on network namespace) both can run.
 */
export const HA_CORE_GO2RTC_PORTS = Object.freeze({ api: 11984, rtsp: 18554, webrtc: 18555 });

export const DEFAULT_ENGINE_PORTS: Readonly<EnginePorts> = Object.freeze({
  go2rtcApi: 21984,
  go2rtcRtsp: 28554,
  webrtc: 8555,
  mediamtxApi: 9997,
  mediamtxRtsp: 8554,
  mediamtxPlayback: 9996,
  // Not MediaMTX's own default (8888), which a MediaMTX of the user's own may hold on the host.
  mediamtxHls: 9995,
});

/** Throws when two engine ports are the same: a collision would make one engine fail to bind. */
export function assertDistinctPorts(ports: EnginePorts): void {
  const seen = new Map<number, string>();
  for (const [key, port] of Object.entries(ports) as [keyof EnginePorts, number][]) {
    if (!Number.isInteger(port) || port < 1 || port > 65535)
      throw new Error(`engine port ${key}=${port} is not a port`);
    const other = seen.get(port);
    if (other) throw new Error(`engine ports collide: ${other} and ${key} are both ${port}`);
    seen.set(port, key);
  }
}
