/**
 * Runtime status of every camera: one poller reads both engines' APIs (one call each for all
 * cameras), derives each camera's status with a pure function, and publishes changes on the bus.
 * Also verifies new and changed cameras before they are reported online.
 */
import type { Camera } from '../config/load.js';
import type { Go2rtcStreamInfo, MediamtxPath } from '../engines/clients.js';
import {
  type EngineAccess,
  h264StreamName,
  isRecorded,
  needsTranscode,
  restreamUrl,
  streamChanged,
  upstreamUrl,
} from './engine-plan.js';
import { type CameraStatus, type CameraStatusSource, initialStatus } from './status.js';
import type { StreamFacts, VerifyOptions, VerifyResult } from './verify.js';

export type VerificationState =
  | { state: 'pending' }
  | { state: 'ok'; facts: StreamFacts; at: number }
  | { state: 'failed'; reason: string; at: number };

export interface Tracking {
  verification: VerificationState;
  /** When demand (a reader or continuous recording) began without a ready stream. */
  demandSince: number | null;
  /** Start of the current bitrate window. */
  lastInboundBytes: number | null;
  lastSampleAt: number | null;
  /** Bytes at the previous poll (to notice new data). */
  windowBytes?: number | null;
  lastFrameAt: number | null;
  bitrateKbps: number | null;
  /** The stream was ready since the demand began (so losing it means the camera went away). */
  wasReady?: boolean;
  /** When a ready stream was lost while still needed; null while streaming or not needed. */
  lostAt?: number | null;
  /** Failed checks since the camera last streamed, and when the next one runs (ms). */
  retries?: number;
  nextRetryAt?: number | null;
}

export interface DeriveInputs {
  camera: Camera;
  path: MediamtxPath | undefined;
  stream: Go2rtcStreamInfo | undefined;
  /** go2rtc's on-demand H.264 transcode of the camera (`<id>-h264`), if listed. */
  transcode?: Go2rtcStreamInfo | undefined;
  mediamtxUp: boolean;
  /** Our own readers at MediaMTX besides go2rtc (recording clips, snapshots by FFmpeg…). */
  internalReaders: number;
  /** Live consumers go2rtc does not see (our MJPEG clients), and whether we transcode for them. */
  extra?: { viewers: number; transcoding: boolean };
  tracking: Tracking;
  now: number;
  /** Demand without a stream for this long is reported offline. */
  offlineAfterMs: number;
  /** Why recording is not writing although it is on (from the recording service), or null. */
  recordingError?: string | null;
}

/** Is go2rtc's producer for this camera connected to MediaMTX right now? */
function go2rtcPulling(stream: Go2rtcStreamInfo | undefined): boolean {
  return (stream?.producers ?? []).some((p) => p.remote_addr !== undefined || (p.bytes_recv ?? 0) > 0);
}

/** go2rtc's consumers that are viewers: not Camstack's own, not go2rtc's transcoding FFmpeg. */
function go2rtcViewers(stream: Go2rtcStreamInfo | undefined): number {
  return (stream?.consumers ?? []).filter((c) => {
    const agent = c.user_agent ?? '';
    return !agent.startsWith('camstack/') && agent !== 'go2rtc/ffmpeg';
  }).length;
}

/**
 * Live consumers: go2rtc's (browsers, WebRTC/MSE/MJPEG), those of its H.264 transcode (whose FFmpeg
 * is one consumer of the camera's stream however many watch it), plus outside readers of the restream.
 */
export function countViewers(
  stream: Go2rtcStreamInfo | undefined,
  path: MediamtxPath | undefined,
  internal: number,
  transcode?: Go2rtcStreamInfo,
): number {
  const go2rtcConsumers = go2rtcViewers(stream) + go2rtcViewers(transcode);
  // HLS sessions are our API's clients, counted there (live/hls.ts) as they come and go.
  const mtxReaders = (path?.readers ?? []).filter((r) => r.type !== 'hlsSession').length;
  const outside = Math.max(0, mtxReaders - (go2rtcPulling(stream) ? 1 : 0) - internal);
  return go2rtcConsumers + outside;
}

/** One spelling for codecs whichever engine named them: MediaMTX "H264"/"H265", FFmpeg "h264"/"hevc". */
export function normaliseCodec(codec: string | null): string | null {
  if (!codec) return null;
  const c = codec.toLowerCase().replace(/[^a-z0-9]/g, '');
  return c === 'hevc' ? 'h265' : c;
}

/** Pure: one camera's status from what the engines say and what we tracked. */
export function deriveStatus(i: DeriveInputs): CameraStatus {
  const { camera, path, stream, tracking: t, now } = i;
  const status = initialStatus(camera.id);
  status.transcoding = needsTranscode(camera) || (i.extra?.transcoding ?? false) || go2rtcViewers(i.transcode) > 0;
  if (!camera.enabled) return status;
  status.retries = t.retries ?? 0;
  status.nextRetryAt = t.nextRetryAt ? new Date(t.nextRetryAt).toISOString() : null;
  if (!i.mediamtxUp) {
    status.state = 'error';
    status.lastError = 'MediaMTX is not running: camera ingest unavailable';
    return status;
  }
  status.viewers = countViewers(stream, path, i.internalReaders, i.transcode) + (i.extra?.viewers ?? 0);
  const ready = path?.ready === true || path?.available === true;
  const facts = t.verification.state === 'ok' ? t.verification.facts : null;
  const video = path?.tracks2?.find((tr) => /^(H26[45]|AV1|VP[89]|M?JPEG|MPEG-4)/i.test(tr.codec));
  status.codec = normaliseCodec(video?.codec ?? facts?.codec ?? null);
  const w = video?.codecProps?.width;
  const h = video?.codecProps?.height;
  status.resolution = w && h ? `${w}x${h}` : (facts?.resolution ?? null);
  status.fps = facts?.fps ?? null;
  if (ready) {
    status.state = 'streaming';
    const since = Date.parse(path?.readyTime ?? path?.availableTime ?? '');
    status.uptimeSeconds = Number.isFinite(since) ? Math.max(0, Math.floor((now - since) / 1000)) : 0;
    status.bitrateKbps = t.bitrateKbps;
    status.lastFrameAt = t.lastFrameAt ? new Date(t.lastFrameAt).toISOString() : null;
    status.recordingError = camera.recording.continuous ? (i.recordingError ?? null) : null;
    status.recording = camera.recording.continuous && status.recordingError === null;
    return status;
  }
  status.lastFrameAt = t.lastFrameAt ? new Date(t.lastFrameAt).toISOString() : null;
  // A stream that was there and went away while needed: the camera is gone (not "connecting"),
  // also while a check runs to find out why; MediaMTX keeps reconnecting meanwhile.
  if (t.lostAt !== undefined && t.lostAt !== null) {
    status.state = 'offline';
    status.lastError =
      t.verification.state === 'failed' ? t.verification.reason : 'the camera stopped sending (reconnecting every 5 s)';
    return status;
  }
  if (t.verification.state === 'pending') {
    status.state = 'connecting';
    return status;
  }
  if (t.verification.state === 'failed') {
    status.state = 'offline';
    status.lastError = t.verification.reason;
    return status;
  }
  if (t.demandSince !== null) {
    if (now - t.demandSince >= i.offlineAfterMs) {
      status.state = 'offline';
      status.lastError = 'no stream from the camera (still retrying)';
    } else {
      status.state = 'connecting';
    }
    return status;
  }
  return status; // idle: nobody needs it, so it is not pulled
}

/** Fields whose change is worth an event by itself (metrics fields ride along). */
function significant(s: CameraStatus): string {
  return JSON.stringify([
    s.state,
    s.viewers,
    s.lastError,
    s.codec,
    s.resolution,
    s.transcoding,
    s.recording,
    s.fps,
    s.retries,
    s.nextRetryAt,
    s.recordingError,
  ]);
}

export interface CameraRuntimeDeps extends EngineAccess {
  verify: (url: string, options?: Partial<VerifyOptions>) => Promise<VerifyResult>;
  verifyOptions?: Partial<VerifyOptions>;
  /** Awaited before a verification: lets the engines learn about the camera first. */
  beforeVerify?: () => Promise<void>;
  /** Live facts from elsewhere (MJPEG clients and their transcoder). */
  extra?: (id: string) => { viewers: number; transcoding: boolean };
  pollIntervalMs?: number;
  offlineAfterMs?: number;
  now?: () => number;
}

export class CameraRuntime implements CameraStatusSource {
  readonly #d: CameraRuntimeDeps;
  readonly #status = new Map<string, CameraStatus>();
  readonly #tracking = new Map<string, Tracking>();
  readonly #internal = new Map<string, number>();
  readonly #verifying = new Map<string, AbortController>();
  readonly #retry = new Map<string, NodeJS.Timeout>();
  #timer: NodeJS.Timeout | null = null;
  /** Why recording is paused (media disk full, from `recording.paused`), or null. */
  #recordingPaused: string | null = null;
  /** Shut down: no new verification or retry. */
  #quiesced = false;
  #polling: Promise<void> | null = null;
  #unsubscribe: (() => void)[] = [];
  #lastEmit = new Map<string, number>();

  constructor(deps: CameraRuntimeDeps) {
    this.#d = deps;
  }

  get(id: string): CameraStatus | undefined {
    return this.#status.get(id);
  }

  all(): CameraStatus[] {
    return this.#d.cameras().map((c) => this.#status.get(c.id) ?? initialStatus(c.id));
  }

  /** Registers one of our own readers of a camera's restream (clip jobs); returns its release. */
  acquireInternalReader(id: string): () => void {
    this.#internal.set(id, (this.#internal.get(id) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#internal.set(id, Math.max(0, (this.#internal.get(id) ?? 1) - 1));
    };
  }

  start(): void {
    const { bus } = this.#d;
    this.#quiesced = false;
    this.#unsubscribe = [
      bus.on('camera.added', ({ camera }) => this.verify(camera.id), 'camera-runtime'),
      bus.on(
        'camera.updated',
        ({ camera, previous }) => {
          if (streamChanged(camera, previous)) {
            const t = this.#track(camera.id);
            t.wasReady = false;
            t.lostAt = null;
            this.verify(camera.id);
          }
          void this.poll();
        },
        'camera-runtime',
      ),
      bus.on('camera.removed', ({ camera }) => this.#forget(camera.id), 'camera-runtime'),
      bus.on(
        'recording.paused',
        (e) => {
          this.#recordingPaused = e.reason;
          void this.poll();
        },
        'camera-runtime',
      ),
    ];
    for (const cam of this.#d.cameras()) this.verify(cam.id);
    this.#timer = setInterval(() => void this.poll(), this.#d.pollIntervalMs ?? 2000);
    this.#timer.unref();
    void this.poll();
  }

  /** Stops polling, verifying and retrying at once (a poll in flight finishes on its own). */
  quiesce(): void {
    this.#quiesced = true;
    for (const off of this.#unsubscribe) off();
    this.#unsubscribe = [];
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    for (const ctrl of this.#verifying.values()) ctrl.abort();
    for (const t of this.#retry.values()) clearTimeout(t);
    this.#retry.clear();
  }

  async stop(): Promise<void> {
    this.quiesce();
    await this.#polling?.catch(() => undefined);
  }

  #track(id: string): Tracking {
    let t = this.#tracking.get(id);
    if (!t) {
      t = {
        verification: { state: 'pending' },
        demandSince: null,
        lastInboundBytes: null,
        lastSampleAt: null,
        lastFrameAt: null,
        bitrateKbps: null,
      };
      this.#tracking.set(id, t);
    }
    return t;
  }

  #forget(id: string): void {
    this.#verifying.get(id)?.abort();
    this.#verifying.delete(id);
    const timer = this.#retry.get(id);
    if (timer) clearTimeout(timer);
    this.#retry.delete(id);
    this.#tracking.delete(id);
    this.#status.delete(id);
    this.#internal.delete(id);
  }

  /** Verifies a camera (a few frames within a timeout) and schedules retries while it fails. */
  verify(id: string): void {
    if (this.#quiesced) return;
    const camera = this.#d.cameras().find((c) => c.id === id);
    if (!camera?.enabled) return;
    this.#verifying.get(id)?.abort();
    const timer = this.#retry.get(id);
    if (timer) clearTimeout(timer);
    this.#retry.delete(id);
    const ctrl = new AbortController();
    this.#verifying.set(id, ctrl);
    const t = this.#track(id);
    t.verification = { state: 'pending' };
    t.nextRetryAt = null;
    void this.poll();
    void this.#verifyOnce(camera, ctrl.signal)
      .then((result) => {
        if (ctrl.signal.aborted || this.#verifying.get(id) !== ctrl) return;
        this.#verifying.delete(id);
        const now = this.#now();
        const tr = this.#track(id);
        if (result.ok) {
          const { ok: _ok, ...facts } = result;
          tr.verification = { state: 'ok', facts, at: now };
          tr.retries = 0;
          tr.nextRetryAt = null;
          this.#d.logger.info({ camera: id, ...facts }, 'camera verified');
        } else {
          tr.verification = { state: 'failed', reason: result.reason, at: now };
          const failures = (tr.retries ?? 0) + 1;
          // Back off: 10 s, 20 s, 40 s … up to 5 minutes between tries; never a busy loop.
          const delay = Math.min(300_000, 10_000 * 2 ** (failures - 1));
          this.#d.logger.warn({ camera: id, reason: result.reason, retryInMs: delay }, 'camera verification failed');
          const retry = setTimeout(() => this.verify(id), delay);
          retry.unref();
          this.#retry.set(id, retry);
          tr.retries = failures;
          tr.nextRetryAt = now + delay;
        }
        return this.poll();
      })
      .catch((err: unknown) => this.#d.logger.error({ camera: id, err: String(err) }, 'verification crashed'));
  }

  /**
   * Reads frames through MediaMTX's restream first, so the camera still sees a single client
   * (MediaMTX). Only when that fails is the camera asked directly, to learn its own reason
   * ("401 Unauthorized", "connection refused") — at that point nothing is streaming from it.
   */
  async #verifyOnce(camera: Camera, signal: AbortSignal): Promise<VerifyResult> {
    const d = this.#d;
    await d.beforeVerify?.();
    if (signal.aborted) return { ok: false, reason: 'verification cancelled' };
    const opts = { ...d.verifyOptions };
    const release = this.acquireInternalReader(camera.id);
    let viaRestream: VerifyResult;
    try {
      // MediaMTX may need to open the camera first (on demand): allow for that.
      viaRestream = await d.verify(restreamUrl(camera.id, d.ports), {
        ...opts,
        attempts: camera.sourceType === 'ffmpeg-test' ? (opts.attempts ?? 3) : 1,
        timeoutMs: (opts.timeoutMs ?? 5000) * 2,
      });
    } finally {
      release();
    }
    if (viaRestream.ok || camera.sourceType === 'ffmpeg-test' || signal.aborted) return viaRestream;
    return d.verify(upstreamUrl(camera), opts);
  }

  #now(): number {
    return (this.#d.now ?? Date.now)();
  }

  /** One poll of both engines; overlapping calls share the running poll. */
  poll(): Promise<void> {
    this.#polling ??= this.#pollOnce().finally(() => {
      this.#polling = null;
    });
    return this.#polling;
  }

  async #pollOnce(): Promise<void> {
    const d = this.#d;
    const mediamtxUp = d.engineRunning('mediamtx');
    const [paths, streams] = await Promise.all([
      mediamtxUp ? d.mediamtx.paths().catch(() => null) : Promise.resolve(null),
      d.engineRunning('go2rtc') ? d.go2rtc.streams().catch(() => null) : Promise.resolve(null),
    ]);
    const byName = new Map((paths ?? []).map((p) => [p.name, p]));
    const now = this.#now();
    for (const camera of d.cameras()) {
      const t = this.#track(camera.id);
      const path = byName.get(camera.id);
      const stream = streams?.[camera.id];
      const ready = path?.ready === true || path?.available === true;
      // Bitrate and last-frame time from the bytes MediaMTX received.
      const inbound = path?.inboundBytes ?? path?.bytesReceived;
      if (ready && inbound !== undefined) {
        // MediaMTX updates its byte counters in steps: measure over windows of at least 2 s.
        if (t.lastInboundBytes === null || t.lastSampleAt === null || inbound < t.lastInboundBytes) {
          t.lastInboundBytes = inbound;
          t.lastSampleAt = now;
          t.windowBytes = inbound;
        } else {
          if (inbound > (t.windowBytes ?? inbound)) t.lastFrameAt = now;
          t.windowBytes = inbound;
          const dt = (now - t.lastSampleAt) / 1000;
          if (dt >= 2) {
            t.bitrateKbps = Math.round(((inbound - t.lastInboundBytes) * 8) / dt / 100) / 10;
            t.lastInboundBytes = inbound;
            t.lastSampleAt = now;
          }
        }
      } else {
        t.lastInboundBytes = null;
        t.lastSampleAt = null;
        t.bitrateKbps = null;
      }
      const demand =
        camera.enabled &&
        (isRecorded(camera) || (path?.readers.length ?? 0) > 0 || (stream?.consumers?.length ?? 0) > 0);
      if (ready || !demand) t.demandSince = null;
      else t.demandSince ??= now;
      // Losing a ready stream while it is needed means the camera went away; an engine restart
      // or the end of demand starts afresh (connecting, not lost).
      if (!mediamtxUp || paths === null || !demand) {
        t.wasReady = false;
        t.lostAt = null;
      } else if (ready) {
        t.wasReady = true;
        t.lostAt = null;
        // Streaming again after failed checks: check now (its facts, and the retry count reset).
        if (t.verification.state === 'failed' && !this.#verifying.has(camera.id)) this.verify(camera.id);
      } else if (t.wasReady) {
        t.lostAt ??= now;
      }
      const offlineAfterMs = d.offlineAfterMs ?? 15_000;
      const status = deriveStatus({
        camera,
        path,
        stream,
        transcode: streams?.[h264StreamName(camera.id)],
        mediamtxUp: mediamtxUp && paths !== null,
        internalReaders: this.#internal.get(camera.id) ?? 0,
        ...(d.extra ? { extra: d.extra(camera.id) } : {}),
        // Recording is paused for every recorded camera (media disk full): say why on each.
        recordingError: camera.enabled && isRecorded(camera) ? this.#recordingPaused : null,
        tracking: t,
        now,
        offlineAfterMs,
      });
      // A stream that stopped while needed: find out why (rate-limited by the verification backoff).
      const previous = this.#status.get(camera.id) ?? null;
      if (
        status.state === 'offline' &&
        previous?.state !== 'offline' &&
        t.verification.state === 'ok' &&
        !this.#verifying.has(camera.id)
      ) {
        this.verify(camera.id);
      }
      this.#publish(status, previous, now);
    }
  }

  #publish(status: CameraStatus, previous: CameraStatus | null, now: number): void {
    this.#status.set(status.id, status);
    const changed = !previous || significant(previous) !== significant(status);
    const metricsMoved =
      previous &&
      (previous.bitrateKbps !== status.bitrateKbps || previous.uptimeSeconds !== status.uptimeSeconds) &&
      now - (this.#lastEmit.get(status.id) ?? 0) >= 1000;
    if (changed || metricsMoved) {
      this.#lastEmit.set(status.id, now);
      this.#d.bus.emit('camera.status', { status, previous });
    }
  }
}
