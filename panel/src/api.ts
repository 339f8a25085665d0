/**
 * A small typed client for the Camstack API. Every URL is RELATIVE (`api/cameras`, never
 * `/api/cameras`): it resolves against the document's base, which is the panel's root both on the
 * direct port and behind Home Assistant ingress (`/api/hassio_ingress/<token>/`).
 *
 * The shapes it sends and receives are the server's contract, re-exported here through
 * `api-types.ts`.
 */

import type {
  CameraEventList,
  CameraEventView,
  CameraInput,
  CameraStatus,
  CameraTestResult,
  CameraView,
  ClipStart,
  EngineView,
  ExpiringItem,
  Health,
  Problem,
  RecordingList,
  RecordingView,
  StorageReport,
  Timeline,
} from './api-types.js';

export type * from './api-types.js';

/** Any non-2xx answer: the API's one error shape, `problems` naming the fields. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly problems: Problem[] = [],
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The absolute form of a relative API path (for WebSocket, EventSource, <a download>). */
export function apiUrl(path: string, ws = false): string {
  const url = new URL(path, document.baseURI);
  if (ws) url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.href;
}

export function query(params: Record<string, string | number | boolean | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

async function request<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const init: RequestInit = { method, headers: { accept: 'application/json' } };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers = { ...init.headers, 'content-type': 'application/json' };
  }
  if (signal) init.signal = signal;
  let res: Response;
  try {
    res = await fetch(path, init);
  } catch (err) {
    if (signal?.aborted) throw err;
    throw new ApiError(0, 'network', 'the add-on cannot be reached (network error)');
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    // not JSON (a proxy's error page)
  }
  if (!res.ok) {
    const e = (json ?? {}) as { code?: string; message?: string; problems?: Problem[] };
    throw new ApiError(res.status, e.code ?? `http_${res.status}`, e.message ?? `HTTP ${res.status}`, e.problems ?? []);
  }
  return json as T;
}

const enc = encodeURIComponent;

export const api = {
  overview: (signal?: AbortSignal) =>
    request<{ cameras: { camera: CameraView; status: CameraStatus }[] }>('GET', 'api/overview', undefined, signal),
  health: (signal?: AbortSignal) => request<Health>('GET', 'api/health', undefined, signal),
  addCamera: (input: CameraInput) => request<CameraView>('POST', 'api/cameras', input),
  updateCamera: (id: string, input: CameraInput) => request<CameraView>('PUT', `api/cameras/${enc(id)}`, input),
  removeCamera: (id: string) => request<void>('DELETE', `api/cameras/${enc(id)}`),
  testCamera: (input: CameraInput, signal?: AbortSignal) =>
    request<CameraTestResult>('POST', 'api/cameras/test', input, signal),
  restartEngine: (name: 'go2rtc' | 'mediamtx') => request<EngineView>('POST', `api/engines/${enc(name)}/restart`),
  storage: (signal?: AbortSignal) => request<StorageReport>('GET', 'api/storage', undefined, signal),
  cameraStatus: (id: string) => request<CameraStatus>('GET', `api/cameras/${enc(id)}/status`),
  startClip: (id: string, body: { preRoll?: number; duration?: number }) =>
    request<ClipStart>('POST', `api/cameras/${enc(id)}/clips`, body),
  recordings: (
    params: {
      camera?: string;
      from?: string;
      to?: string;
      type?: 'segment' | 'clip';
      protected?: boolean;
      order?: 'asc' | 'desc';
      limit?: number;
      offset?: number;
    },
    signal?: AbortSignal,
  ) => request<RecordingList>('GET', `api/recordings${query(params)}`, undefined, signal),
  expiring: (within = '1d', signal?: AbortSignal) =>
    request<{ within: string; items: ExpiringItem[] }>(
      'GET',
      `api/recordings/expiring${query({ within })}`,
      undefined,
      signal,
    ),
  protect: (rid: string, value: boolean) =>
    request<RecordingView>('PUT', `api/recordings/${enc(rid)}/protect`, { protected: value }),
  removeRecording: (rid: string) => request<void>('DELETE', `api/recordings/${enc(rid)}`),
  cameraEvents: (
    params: { camera?: string; from?: string; to?: string; type?: string; order?: 'asc' | 'desc'; limit?: number },
    signal?: AbortSignal,
  ) => request<CameraEventList>('GET', `api/camera-events${query(params)}`, undefined, signal),
  cameraEvent: (eid: string) => request<CameraEventView>('GET', `api/camera-events/${enc(eid)}`),
  onvifDiscover: (body: { address?: string; seconds?: number }) =>
    request<{ cameras: { host: string; port: number; name: string | null; hardware: string | null }[] }>(
      'POST',
      'api/onvif/discover',
      body,
    ),
  onvifStreams: (body: { host: string; port?: number; username?: string; password?: string }) =>
    request<{
      name: string | null;
      model: string | null;
      source: { uri: string; codec: string; width: number; height: number } | null;
      substream: { uri: string; codec: string; width: number; height: number } | null;
    }>('POST', 'api/onvif/streams', body),
  timeline: (id: string, day: string, signal?: AbortSignal) =>
    request<Timeline>('GET', `api/cameras/${enc(id)}/timeline${query({ day })}`, undefined, signal),
};

export const urls = {
  snapshot: (id: string, width?: number, maxAge?: number) =>
    `api/cameras/${enc(id)}/snapshot.jpg${query({ width, maxAge })}`,
  /** `transcode`: the camera's on-demand H.264 transcode (for a codec this browser lacks). */
  webrtc: (id: string, transcode = false) => `api/cameras/${enc(id)}/webrtc${transcode ? '?transcode=h264' : ''}`,
  ws: (id: string, transcode = false) => apiUrl(`api/cameras/${enc(id)}/ws${transcode ? '?transcode=h264' : ''}`, true),
  mjpeg: (id: string) => `api/cameras/${enc(id)}/mjpeg`,
  hls: (id: string) => `api/cameras/${enc(id)}/hls/index.m3u8`,
  /** A recorded span as an HLS VOD playlist (players without MSE). */
  recordingHls: (id: string, from: Date, to: Date) =>
    `api/cameras/${enc(id)}/recording.m3u8${query({ from: from.toISOString(), to: to.toISOString() })}`,
  /** `transcode`: re-encoded to H.264 by the server (a recording in a codec this browser lacks). */
  export: (id: string, from: Date, to: Date, transcode = false) =>
    `api/cameras/${enc(id)}/export.mp4${query({ from: from.toISOString(), to: to.toISOString(), transcode: transcode ? 'h264' : undefined })}`,
  thumbnail: (rid: string) => `api/recordings/${enc(rid)}/thumbnail.jpg`,
  eventPicture: (eid: string) => `api/camera-events/${enc(eid)}/picture.jpg`,
  video: (rid: string, download = false) => `api/recordings/${enc(rid)}/video${download ? '?download=1' : ''}`,
};
