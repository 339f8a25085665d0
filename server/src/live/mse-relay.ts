/**
 * Our MSE relay (`GET /api/cameras/:id/ws`): go2rtc's stream-socket protocol, with a GOP cache so
 * that live video starts at once.
 *
 * - Shared upstream: one go2rtc MSE consumer per camera and codec offer, opened by us (user agent
 *   `camstack/…`, so go2rtc's list of consumers does not count it; each of our viewers is counted
 *   instead). It keeps go2rtc's `mse` answer, the init segment and the fragments since the last
 *   keyframe (bounded: a GOP over `maxGopBytes` is not cached). A viewer whose offer it serves
 *   (see `canShare`) gets the answer, the init segment and the cached group at once, then the live
 *   fragments. Without a cached group it gets fragments from the next keyframe on.
 * - Private upstream: anything else a viewer sends (WebRTC signalling, a second or an unshareable
 *   `mse` request, `mp4`…) goes to a go2rtc socket of its own, proxied both ways as before.
 * - Lifetime: a shared upstream stays while it has viewers and `warmMs` after the last one left;
 *   for cameras the server pulls anyway (`pinned`: the recorded ones) one is kept open all the
 *   time, so even their first viewer starts at once. Idle on-demand cameras are never pulled for it.
 * - A viewer that falls more than `maxViewerBufferBytes` behind is closed with 1013 (try again):
 *   a dropped fragment would break its decoder, and a reconnect starts at a keyframe again.
 */
import WebSocket from 'ws';
import type { Logger } from '../log/logger.js';
import { concatBytes, Fmp4Splitter, GopCache } from './fmp4.js';
import { canShare, FULL_OFFER, offerFamilies, offerKey } from './mse-codecs.js';

export interface MseRelayOptions {
  /** go2rtc's stream socket for a stream (a camera's, or its transcode): `ws://127.0.0.1:<api>/api/ws?src=<name>`. */
  upstreamUrl: (stream: string) => string;
  go2rtcRunning: () => boolean;
  /** Cameras the server pulls anyway (recorded, enabled): a shared upstream is kept open for them. */
  pinned: () => Iterable<string>;
  /** Counts a viewer go2rtc does not see; returns its release. */
  acquireViewer: (cameraId: string) => () => void;
  logger: Logger;
  /** How long a shared upstream outlives its last viewer (ms). Default 30 s. */
  warmMs?: number;
  /** Largest cached group of pictures (bytes); a longer GOP is not cached. Default 8 MiB. */
  maxGopBytes?: number;
  /** A viewer further behind than this is closed with 1013. Default 8 MiB. */
  maxViewerBufferBytes?: number;
  /** How often the pinned upstreams are checked (ms). Default 5 s. */
  reconcileMs?: number;
  /** Shared upstreams per camera at most (distinct codec offers); more viewers go private. Default 4. */
  maxSharedPerCamera?: number;
}

/** What the relay holds, for metrics and tests. */
export interface MseRelayStats {
  camera: string;
  offer: string;
  viewers: number;
  pinned: boolean;
  answered: boolean;
  cachedFragments: number;
  cachedBytes: number;
}

const USER_AGENT = 'camstack/mse-relay';
/** An upstream whose boxes never complete this far is not fMP4 as we know it. */
const MAX_SPLITTER_BYTES = 16 * 1024 * 1024;
const PINNED_RETRY_MAX_MS = 60_000;

interface Viewer {
  camera: string;
  /** The go2rtc stream it watches: the camera's own, or its H.264 transcode. */
  stream: string;
  socket: WebSocket;
  shared: Upstream | null;
  /** Counted while attached to a shared upstream. */
  release: (() => void) | null;
  /** Joined without a cached group: skip fragments until a keyframe. */
  needKeyframe: boolean;
  /** Has been sent the init segment of the current upstream muxer. */
  hasInit: boolean;
  private: WebSocket | null;
  pending: [WebSocket.RawData, boolean][];
}

class Upstream {
  readonly ws: WebSocket;
  readonly viewers = new Set<Viewer>();
  readonly splitter = new Fmp4Splitter();
  readonly cache: GopCache;
  /** go2rtc's answer as it sent it (`{"type":"mse","value":…}`), and the MIME in it. */
  answer: string | null = null;
  mime: string | null = null;
  failed = false;
  pinned = false;
  /** A camera's H.264 transcode: closed with its last viewer, never kept warm. */
  transcode = false;
  warmTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    readonly camera: string,
    readonly offer: string,
    url: string,
    maxGopBytes: number,
  ) {
    this.cache = new GopCache(maxGopBytes);
    this.ws = new WebSocket(url, { headers: { 'user-agent': USER_AGENT } });
  }

  get key(): string {
    return offerKey(this.offer);
  }
}

export class MseRelay {
  readonly #o: Required<Omit<MseRelayOptions, 'logger'>> & { logger: Logger };
  /** camera → its shared upstreams. */
  readonly #shared = new Map<string, Set<Upstream>>();
  /** Pinned cameras whose upstream failed: when to try again, and the current delay. */
  readonly #retry = new Map<string, { at: number; delayMs: number }>();
  readonly #viewers = new Set<Viewer>();
  #timer: ReturnType<typeof setInterval> | null = null;
  #stopped = false;

  constructor(options: MseRelayOptions) {
    this.#o = {
      warmMs: 30_000,
      maxGopBytes: 8 * 1024 * 1024,
      maxViewerBufferBytes: 8 * 1024 * 1024,
      reconcileMs: 5000,
      maxSharedPerCamera: 4,
      ...options,
    };
  }

  start(): void {
    if (this.#timer) return;
    this.#stopped = false;
    this.#timer = setInterval(() => this.reconcile(), this.#o.reconcileMs);
    this.#timer.unref();
    this.reconcile();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    for (const v of [...this.#viewers]) v.socket.close(1001, 'server stopping');
    for (const set of this.#shared.values()) for (const up of [...set]) this.#drop(up);
    this.#shared.clear();
  }

  stats(): MseRelayStats[] {
    const out: MseRelayStats[] = [];
    for (const set of this.#shared.values())
      for (const up of set)
        out.push({
          camera: up.camera,
          offer: up.offer,
          viewers: up.viewers.size,
          pinned: up.pinned,
          answered: up.mime !== null,
          cachedFragments: up.cache.fragments,
          cachedBytes: up.cache.bytes,
        });
    return out;
  }

  /**
   * The newest keyframe held for a camera's own stream (init segment + its fragment, and when it
   * arrived), or null: what a snapshot can be decoded from without waiting for the camera.
   */
  heldKeyframe(camera: string): { readonly mp4: Uint8Array; atMs: number } | null {
    let best: { readonly mp4: Uint8Array; atMs: number } | null = null;
    for (const up of this.#shared.get(camera) ?? []) {
      if (up.failed || up.transcode) continue;
      const k = up.cache.keyframe();
      if (k && (!best || k.atMs > best.atMs)) best = k;
    }
    return best;
  }

  /** Keeps one shared upstream open for each pinned camera while go2rtc runs; lets the others go. */
  reconcile(): void {
    if (this.#stopped) return;
    const running = this.#o.go2rtcRunning();
    const pinned = new Set(running ? this.#o.pinned() : []);
    for (const set of this.#shared.values())
      for (const up of set) {
        if (up.pinned && !pinned.has(up.camera)) {
          up.pinned = false;
          this.#idle(up);
        }
      }
    const now = Date.now();
    for (const id of pinned) {
      const set = this.#shared.get(id);
      const full = [...(set ?? [])].find((u) => u.key === offerKey(FULL_OFFER) && !u.failed);
      if (full) {
        full.pinned = true;
        if (full.warmTimer) clearTimeout(full.warmTimer);
        full.warmTimer = null;
        continue;
      }
      const retry = this.#retry.get(id);
      if (retry && retry.at > now) continue;
      const up = this.#open(id, FULL_OFFER);
      if (up) up.pinned = true;
    }
    for (const id of this.#retry.keys()) if (!pinned.has(id)) this.#retry.delete(id);
  }

  /**
   * Takes over a viewer's socket (already upgraded) for one camera; `stream` is the go2rtc stream
   * it watches when not the camera's own (its H.264 transcode). Upstreams are shared per stream.
   */
  handle(socket: WebSocket, camera: string, userAgent: string, stream = camera): void {
    const v: Viewer = {
      camera,
      stream,
      socket,
      shared: null,
      release: null,
      needKeyframe: false,
      hasInit: false,
      private: null,
      pending: [],
    };
    this.#viewers.add(v);
    socket.on('message', (data, binary) => {
      if (!binary && !v.shared && !v.private) {
        const offer = mseOffer(data);
        if (offer !== null && offerFamilies(offer).size > 0 && this.#join(v, offer)) return;
      }
      this.#toPrivate(v, data, binary, userAgent);
    });
    const gone = () => this.#leave(v);
    socket.on('close', gone);
    socket.on('error', gone);
  }

  // ---- shared upstreams ---------------------------------------------------------------------

  #join(v: Viewer, offer: string): boolean {
    const set = this.#shared.get(v.stream) ?? new Set<Upstream>();
    const key = offerKey(offer);
    let up = [...set].find((u) => !u.failed && (u.mime !== null ? canShare(u.offer, u.mime, offer) : u.key === key));
    if (!up) {
      if (set.size >= this.#o.maxSharedPerCamera) return false;
      up = this.#open(v.stream, offer, v.stream !== v.camera) ?? undefined;
      if (!up) return false;
    }
    v.shared = up;
    v.release = this.#o.acquireViewer(v.camera);
    up.viewers.add(v);
    if (up.warmTimer) clearTimeout(up.warmTimer);
    up.warmTimer = null;
    if (up.answer) this.#start(up, v);
    return true;
  }

  /** A viewer joining an answered upstream: answer, init segment, cached group. */
  #start(up: Upstream, v: Viewer): void {
    this.#send(v, up.answer ?? '', false);
    const init = up.cache.init;
    if (!init) return; // the init segment follows with the stream
    this.#send(v, init, true);
    v.hasInit = true;
    const gop = up.cache.gop();
    if (gop) this.#send(v, concatBytes(gop), true);
    else v.needKeyframe = true;
  }

  /** `transcode`: the stream is a camera's H.264 transcode, which costs an encoder while open. */
  #open(camera: string, offer: string, transcode = false): Upstream | null {
    if (this.#stopped || !this.#o.go2rtcRunning()) return null;
    const up = new Upstream(camera, offer, this.#o.upstreamUrl(camera), this.#o.maxGopBytes);
    up.transcode = transcode;
    let set = this.#shared.get(camera);
    if (!set) {
      set = new Set();
      this.#shared.set(camera, set);
    }
    set.add(up);
    up.ws.on('open', () => up.ws.send(JSON.stringify({ type: 'mse', value: offer })));
    up.ws.on('message', (data, binary) => {
      if (binary) this.#media(up, toBytes(data));
      else this.#text(up, String(data));
    });
    up.ws.on('close', () => this.#lost(up, true));
    up.ws.on('error', (err) => {
      this.#o.logger.debug({ camera, err: String(err) }, 'relay upstream failed');
      this.#lost(up, true, 'go2rtc unavailable');
    });
    return up;
  }

  #text(up: Upstream, text: string): void {
    let msg: { type?: unknown; value?: unknown } = {};
    try {
      msg = JSON.parse(text) as typeof msg;
    } catch {
      // not JSON: pass it on as it is
    }
    if (msg.type === 'mse' && typeof msg.value === 'string' && up.answer === null) {
      up.answer = text;
      up.mime = msg.value;
      if (up.pinned) this.#retry.delete(up.camera);
      for (const v of up.viewers) this.#start(up, v);
      return;
    }
    if (msg.type === 'error' && up.answer === null) {
      // go2rtc refused this offer (e.g. "codecs not matched"): the viewers hear why, as before,
      // and may go on with other requests on their own upstream.
      up.failed = true;
      for (const v of [...up.viewers]) {
        this.#send(v, text, false);
        this.#detach(v);
      }
      this.#lost(up, false);
      return;
    }
    for (const v of up.viewers) this.#send(v, text, false);
  }

  #media(up: Upstream, bytes: Uint8Array): void {
    for (const piece of up.splitter.push(bytes)) {
      if (piece.kind === 'init') {
        up.cache.setInit(piece.bytes);
        for (const v of up.viewers) {
          if (!up.answer) continue;
          this.#send(v, piece.bytes, true);
          v.hasInit = true;
          v.needKeyframe = true;
        }
        continue;
      }
      up.cache.push(piece.bytes, piece.info.keyframe);
      for (const v of up.viewers) {
        if (!v.hasInit) continue;
        if (v.needKeyframe) {
          if (!piece.info.keyframe) continue;
          v.needKeyframe = false;
        }
        this.#send(v, piece.bytes, true);
      }
    }
    if (up.splitter.buffered > MAX_SPLITTER_BYTES) {
      this.#o.logger.warn({ camera: up.camera }, 'relay: the stream from go2rtc is not fragmented MP4 as expected');
      this.#lost(up, true, 'unreadable stream');
    }
  }

  /**
   * The upstream is gone (closed, failed, dropped). With `closeViewers` its viewers are closed
   * (they reconnect), after hearing `why` when given.
   */
  #lost(up: Upstream, closeViewers: boolean, why?: string): void {
    const set = this.#shared.get(up.camera);
    if (!set?.has(up)) return;
    set.delete(up);
    if (set.size === 0) this.#shared.delete(up.camera);
    if (up.pinned && !this.#stopped) {
      // try again, later each time while it keeps failing (a camera that is down)
      const prev = this.#retry.get(up.camera);
      const delayMs = up.answer ? this.#o.reconcileMs : Math.min(PINNED_RETRY_MAX_MS, (prev?.delayMs ?? 2500) * 2);
      this.#retry.set(up.camera, { at: Date.now() + delayMs, delayMs });
    }
    this.#drop(up);
    for (const v of [...up.viewers]) {
      this.#detach(v);
      if (!closeViewers) continue;
      if (why) this.#send(v, JSON.stringify({ type: 'error', value: why }), false);
      if (v.socket.readyState === WebSocket.OPEN) v.socket.close();
    }
  }

  #drop(up: Upstream): void {
    if (up.warmTimer) clearTimeout(up.warmTimer);
    up.warmTimer = null;
    up.ws.removeAllListeners('message');
    up.ws.removeAllListeners('close');
    up.ws.on('error', () => {});
    if (up.ws.readyState === WebSocket.OPEN || up.ws.readyState === WebSocket.CONNECTING) up.ws.terminate();
  }

  /**
   * No viewer left: a pinned upstream stays, another one stays warm for a while — except a
   * transcode, whose encoder is not worth keeping busy for a viewer that may not come.
   */
  #idle(up: Upstream): void {
    if (up.viewers.size > 0 || up.pinned || up.warmTimer) return;
    if (up.transcode) {
      this.#lost(up, false);
      return;
    }
    up.warmTimer = setTimeout(() => {
      up.warmTimer = null;
      if (up.viewers.size === 0 && !up.pinned) this.#lost(up, false);
    }, this.#o.warmMs);
    up.warmTimer.unref();
  }

  #detach(v: Viewer): void {
    const up = v.shared;
    v.shared = null;
    v.hasInit = false;
    v.needKeyframe = false;
    v.release?.();
    v.release = null;
    if (up) {
      up.viewers.delete(v);
      this.#idle(up);
    }
  }

  // ---- viewers ------------------------------------------------------------------------------

  #send(v: Viewer, data: Uint8Array | string, binary: boolean): void {
    if (v.socket.readyState !== WebSocket.OPEN) return;
    if (v.socket.bufferedAmount > this.#o.maxViewerBufferBytes) {
      v.socket.close(1013, 'too slow: reconnect');
      return;
    }
    v.socket.send(data, { binary });
  }

  #leave(v: Viewer): void {
    if (!this.#viewers.delete(v)) return;
    this.#detach(v);
    const p = v.private;
    v.private = null;
    if (p && (p.readyState === WebSocket.OPEN || p.readyState === WebSocket.CONNECTING)) p.terminate();
    if (v.socket.readyState === WebSocket.OPEN) v.socket.close();
  }

  /** A go2rtc socket of the viewer's own, proxied both ways. */
  #toPrivate(v: Viewer, data: WebSocket.RawData, binary: boolean, userAgent: string): void {
    let p = v.private;
    if (!p) {
      if (this.#stopped) return;
      // The viewer's user agent: go2rtc counts this consumer as the viewer it is.
      p = new WebSocket(this.#o.upstreamUrl(v.stream), { headers: { 'user-agent': userAgent } });
      v.private = p;
      const up = p;
      up.on('open', () => {
        for (const [d, b] of v.pending.splice(0)) up.send(d, { binary: b });
      });
      up.on('message', (d, b) => {
        // A shared stream and a private one would interleave fragments: the private one wins.
        if (b && v.shared) this.#detach(v);
        this.#send(v, b ? toBytes(d) : String(d), b);
      });
      up.on('close', () => this.#leave(v));
      up.on('error', (err) => {
        this.#o.logger.debug({ camera: v.camera, err: String(err) }, 'go2rtc stream socket failed');
        this.#send(v, JSON.stringify({ type: 'error', value: 'go2rtc unavailable' }), false);
        this.#leave(v);
      });
    }
    if (p.readyState === WebSocket.OPEN) p.send(data, { binary });
    else if (p.readyState === WebSocket.CONNECTING && v.pending.length < 32) v.pending.push([data, binary]);
  }
}

/** The codec list of a `{"type":"mse","value":…}` request; null for any other message. */
export function mseOffer(data: WebSocket.RawData): string | null {
  try {
    const msg = JSON.parse(String(data)) as { type?: unknown; value?: unknown };
    return msg.type === 'mse' && typeof msg.value === 'string' ? msg.value : null;
  } catch {
    return null;
  }
}

function toBytes(data: WebSocket.RawData): Uint8Array {
  if (Array.isArray(data)) return concatBytes(data);
  return data instanceof ArrayBuffer ? new Uint8Array(data) : data;
}
