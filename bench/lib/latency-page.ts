/**
 * The glass-to-glass latency bench's side in the page: one player per path (WebRTC, MSE over a
 * WebSocket, the browser's own HLS, MJPEG in an <img>) that, while recording, grabs the camera's
 * timecode strip from every presented frame (requestVideoFrameCallback for a <video>; for the
 * <img>, each new picture found by polling) as grey bytes with the wall time it was shown. The
 * bytes go back to Node, where `readTimecode` (scripts/synthetic-cameras.ts) reads them: one
 * decoder for the camera and the bench.
 *
 * Plain JavaScript in a string, for the same reason as test/helpers/browser.ts: tsx rewrites
 * nested functions with a helper the page does not have, and the project has no DOM types.
 */
import type { BrowserContext, Page, Request } from 'playwright-core';

export type PlayerKind = 'webrtc' | 'mse' | 'hls' | 'mjpeg';

export interface PlayerOptions {
  kind: PlayerKind;
  /** Same-origin path of the stream (signalling URL for WebRTC, WebSocket path for MSE). */
  url: string;
  /** The camera's frame width: the strip is found in an element of another size by scaling. */
  sourceWidth: number;
  stripWidth: number;
  stripHeight: number;
  /** The panel's MSE live-edge policy (panel/src/player/live-edge.ts), seconds and rate. */
  edge: { target: number; jump: number; hurry: number; rate: number };
  /** The panel's HLS policy (panel/src/player/hls.ts): seek to `target` behind when over `maxLag`. */
  hlsEdge: { maxLag: number; target: number };
  /** MJPEG polling period (ms). */
  pollMs: number;
  /** Samples kept at most per recording (memory bound). */
  maxSamples: number;
  timeoutMs: number;
}

export interface PlayerStatus {
  frames: number;
  /** Seconds behind the end of what the element holds (buffered end for MSE, seekable end for HLS). */
  lag: number | null;
  rate: number;
  width: number;
  height: number;
  error: string | null;
}

export interface Recording {
  /** Wall-clock ms (Date.now in the page) each grabbed picture was shown. */
  times: number[];
  /** stripWidth × stripHeight grey bytes per picture, concatenated, base64. */
  grey: string;
  frames: number;
}

/**
 * A page on `origin` holding the player library. The document is whatever the origin answers for
 * a path it does not have (a 404 is fine): it must come from that loopback server itself, or
 * Chromium's local-network-access checks block the page's requests to it.
 */
export async function openPlayerPage(
  context: BrowserContext,
  origin: string,
): Promise<{ page: Page; requests: string[] }> {
  await context.addInitScript({ content: PAGE_LIB });
  const page = await context.newPage();
  page.setDefaultTimeout(60_000);
  const requests: string[] = [];
  page.on('request', (r: Request) => {
    requests.push(r.url());
  });
  await page.goto(`${origin}/__camstack-latency-bench`, { waitUntil: 'load' });
  return { page, requests };
}

async function call<T>(page: Page, fn: string, arg: unknown): Promise<T> {
  return (await page.evaluate(`window.__camstackLatency.${fn}(${JSON.stringify(arg)})`)) as T;
}

/** Starts a player; resolves at its first presented frame (ms from the start), throws on failure. */
export async function startPlayer(page: Page, o: PlayerOptions): Promise<{ id: string; firstFrameMs: number }> {
  const r = await call<{ id: string; firstFrameMs: number } | { error: string }>(page, 'start', o);
  if ('error' in r) throw new Error(`${o.kind} ${o.url}: ${r.error}`);
  return r;
}

export const playerStatus = (page: Page, id: string): Promise<PlayerStatus> => call(page, 'status', id);
export const setRecording = (page: Page, id: string, on: boolean): Promise<boolean> => call(page, 'record', { id, on });
export const takeRecording = (page: Page, id: string): Promise<Recording> => call(page, 'take', id);
export const closePlayer = (page: Page, id: string): Promise<boolean> => call(page, 'close', id);

const PAGE_LIB = `(() => {
  const sessions = new Map();
  let nextId = 1;
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const withTimeout = (p, ms, what) =>
    Promise.race([p, sleep(ms).then(() => { throw new Error('timed out after ' + ms + ' ms waiting for ' + what); })]);
  const wsUrl = (u) => {
    const url = new URL(u, location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    return url.href;
  };
  const MSE_CODECS = ['avc1.640029', 'avc1.64002A', 'avc1.640033', 'hvc1.1.6.L153.B0', 'mp4a.40.2', 'mp4a.40.5', 'flac', 'opus'];

  // Grabs the timecode strip of an element (scaled back to the camera's pixels) as grey bytes.
  function recorder(o) {
    const canvas = document.createElement('canvas');
    canvas.width = o.stripWidth;
    canvas.height = o.stripHeight;
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    const rec = { on: false, times: [], chunks: [] };
    rec.grab = (el, elWidth, wall) => {
      if (!rec.on || rec.times.length >= o.maxSamples || !elWidth) return;
      const k = elWidth / o.sourceWidth;
      ctx.drawImage(el, 0, 0, o.stripWidth * k, o.stripHeight * k, 0, 0, o.stripWidth, o.stripHeight);
      const px = ctx.getImageData(0, 0, o.stripWidth, o.stripHeight).data;
      const g = new Uint8Array(o.stripWidth * o.stripHeight);
      for (let i = 0; i < g.length; i++) g[i] = (px[4 * i] + px[4 * i + 1] + px[4 * i + 2]) / 3;
      rec.times.push(wall);
      rec.chunks.push(g);
    };
    return rec;
  }

  function newVideo() {
    const video = document.createElement('video');
    video.muted = true;
    video.autoplay = true;
    video.playsInline = true;
    video.width = 320;
    video.height = 180;
    document.body.appendChild(video);
    return video;
  }

  // Every presented frame: count it, and grab its strip while recording, stamped with the time
  // the compositor expects to show it (Date.now shifted by expectedDisplayTime − now).
  function watchVideo(video, s) {
    let resolveFirst;
    s.firstFrame = new Promise((r) => { resolveFirst = r; });
    const cb = (_now, meta) => {
      if (s.closed) return;
      s.frames++;
      if (s.frames === 1) resolveFirst(performance.now());
      const wall = Date.now() + (meta.expectedDisplayTime - performance.now());
      s.rec.grab(video, video.videoWidth, wall);
      video.requestVideoFrameCallback(cb);
    };
    video.requestVideoFrameCallback(cb);
  }

  async function webrtc(o, s) {
    const pc = new RTCPeerConnection({ iceServers: [] });
    const video = newVideo();
    s.video = video;
    s.cleanup.push(() => { pc.close(); video.srcObject = null; video.remove(); });
    const stream = new MediaStream();
    pc.addTransceiver('video', { direction: 'recvonly' });
    pc.addTransceiver('audio', { direction: 'recvonly' });
    pc.ontrack = (e) => { stream.addTrack(e.track); if (!video.srcObject) video.srcObject = stream; };
    watchVideo(video, s);
    await pc.setLocalDescription(await pc.createOffer());
    await withTimeout(new Promise((resolve) => {
      if (pc.iceGatheringState === 'complete') return resolve();
      pc.addEventListener('icegatheringstatechange', () => { if (pc.iceGatheringState === 'complete') resolve(); });
    }), 10000, 'ICE gathering');
    const res = await fetch(o.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'offer', sdp: pc.localDescription.sdp }),
    });
    const text = await res.text();
    if (res.status !== 200) throw new Error('signalling answered ' + res.status + ': ' + text.slice(0, 200));
    await pc.setRemoteDescription({ type: 'answer', sdp: JSON.parse(text).sdp });
    video.play().catch(() => {});
    s.lag = () => null;
  }

  // MSE as the panel plays it (panel/src/player/mse.ts): sequence of appends, and after each one
  // its live-edge policy (live-edge.ts followEdge, constants handed in).
  function followEdge(e, currentTime, start, end, shown, rate) {
    if (end <= start) return { seek: null, rate: 1 };
    if (currentTime < start) return { seek: start, rate: 1 };
    if (!shown) return { seek: null, rate: 1 };
    const lag = end - currentTime;
    if (lag > e.jump) return { seek: Math.max(start, end - e.target), rate: 1 };
    if (lag > e.hurry || (rate > 1 && lag > e.target)) return { seek: null, rate: e.rate };
    return { seek: null, rate: 1 };
  }

  async function mse(o, s) {
    if (typeof MediaSource === 'undefined') throw new Error('no MediaSource in this browser');
    const codecs = MSE_CODECS.filter((c) => MediaSource.isTypeSupported('video/mp4; codecs="' + c + '"'));
    const video = newVideo();
    s.video = video;
    watchVideo(video, s);
    const ms = new MediaSource();
    const opened = new Promise((r) => ms.addEventListener('sourceopen', r, { once: true }));
    video.src = URL.createObjectURL(ms);
    video.play().catch(() => {});
    const ws = new WebSocket(wsUrl(o.url));
    ws.binaryType = 'arraybuffer';
    s.cleanup.push(() => { ws.close(); video.removeAttribute('src'); video.load(); video.remove(); });
    let sb = null;
    const queue = [];
    let resolveMime, rejectMime;
    const gotMime = new Promise((res, rej) => { resolveMime = res; rejectMime = rej; });
    gotMime.catch(() => {});
    const pump = () => {
      if (!sb || sb.updating || queue.length === 0 || ms.readyState !== 'open') return;
      const parts = queue.splice(0);
      let chunk = parts[0];
      if (parts.length > 1) {
        const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
        let off = 0;
        for (const p of parts) { out.set(new Uint8Array(p), off); off += p.byteLength; }
        chunk = out.buffer;
      }
      try { sb.appendBuffer(chunk); } catch (e) { s.error = 'appendBuffer: ' + e; }
    };
    ws.onmessage = (ev) => {
      if (typeof ev.data === 'string') {
        const m = JSON.parse(ev.data);
        if (m.type === 'mse') resolveMime(m.value);
        else if (m.type === 'error') rejectMime(new Error('server said: ' + m.value));
        return;
      }
      queue.push(ev.data);
      pump();
    };
    let rejectOpen;
    const open = new Promise((res, rej) => { ws.onopen = res; rejectOpen = rej; });
    ws.onclose = (ev) => {
      if (!s.closed) s.error = 'WebSocket closed (' + ev.code + (ev.reason ? ' ' + ev.reason : '') + ')';
      rejectMime(new Error(s.error));
      rejectOpen(new Error(s.error));
    };
    await withTimeout(open, o.timeoutMs, 'the WebSocket to open');
    await withTimeout(opened, o.timeoutMs, 'MediaSource to open');
    ws.send(JSON.stringify({ type: 'mse', value: codecs.join(',') }));
    const mime = await withTimeout(gotMime, o.timeoutMs, 'the MSE answer');
    sb = ms.addSourceBuffer(mime);
    sb.mode = 'segments';
    sb.addEventListener('updateend', () => {
      const b = video.buffered;
      if (b.length) {
        const start = b.start(0), end = b.end(b.length - 1);
        const act = followEdge(o.edge, video.currentTime, start, end, s.frames > 0, video.playbackRate);
        if (act.seek !== null) video.currentTime = act.seek;
        if (video.playbackRate !== act.rate) video.playbackRate = act.rate;
        if (video.paused) video.play().catch(() => {});
        if (!sb.updating && end - start > 30) { try { sb.remove(start, end - 10); return; } catch {} }
      }
      pump();
    });
    pump();
    s.lag = () => { const b = video.buffered; return b.length ? b.end(b.length - 1) - video.currentTime : null; };
  }

  // The browser's own HLS player, kept near the live edge as the panel does (hls.ts).
  async function hls(o, s) {
    const video = newVideo();
    s.video = video;
    if (video.canPlayType('application/vnd.apple.mpegurl') === '') throw new Error('no native HLS in this browser');
    watchVideo(video, s);
    // As the panel does: Chromium's player sometimes refuses the first playlists of a muxer that
    // just started; load the source again (twice at most) before the first frame.
    let reloads = 0;
    video.onerror = () => {
      const why = 'HLS: ' + (video.error ? video.error.code + ' ' + video.error.message : '?');
      if (s.frames === 0 && reloads < 2) {
        reloads++;
        setTimeout(() => { if (!s.closed) { video.src = o.url; video.play().catch(() => {}); } }, 500);
      } else s.error = why;
    };
    video.src = o.url;
    video.play().catch(() => {});
    const timer = setInterval(() => {
      const r = video.seekable;
      if (r.length === 0) return;
      const edge = r.end(r.length - 1);
      if (Number.isFinite(edge) && edge - video.currentTime > o.hlsEdge.maxLag) {
        video.currentTime = Math.max(r.start(r.length - 1), edge - o.hlsEdge.target);
      }
      if (video.paused && video.readyState >= 2) video.play().catch(() => {});
    }, 1000);
    s.cleanup.push(() => { clearInterval(timer); video.removeAttribute('src'); video.load(); video.remove(); });
    s.lag = () => { const r = video.seekable; return r.length ? r.end(r.length - 1) - video.currentTime : null; };
  }

  // MJPEG in an <img>: polled; a picture counts as new when a coarse hash of all of it changes.
  async function mjpeg(o, s) {
    const img = document.createElement('img');
    document.body.appendChild(img);
    const small = document.createElement('canvas');
    small.width = 64;
    small.height = 36;
    const sctx = small.getContext('2d', { willReadFrequently: true });
    let last = null, resolveFirst;
    s.firstFrame = new Promise((r) => { resolveFirst = r; });
    const timer = setInterval(() => {
      if (!img.naturalWidth) return;
      sctx.drawImage(img, 0, 0, 64, 36);
      const px = sctx.getImageData(0, 0, 64, 36).data;
      let h = 2166136261;
      for (let j = 0; j < px.length; j += 3) h = Math.imul(h ^ px[j], 16777619) >>> 0;
      if (h === last) return;
      last = h;
      s.frames++;
      if (s.frames === 1) resolveFirst(performance.now());
      s.rec.grab(img, img.naturalWidth, Date.now());
    }, o.pollMs);
    s.cleanup.push(() => { clearInterval(timer); img.src = ''; img.remove(); });
    img.src = o.url;
    s.img = img;
    s.lag = () => null;
  }

  const PLAYERS = { webrtc, mse, hls, mjpeg };

  async function start(o) {
    const t0 = performance.now();
    const id = 'p' + nextId++;
    const s = { frames: 0, closed: false, error: null, cleanup: [], rec: recorder(o), lag: () => null, firstFrame: null };
    sessions.set(id, s);
    try {
      await withTimeout(PLAYERS[o.kind](o, s), o.timeoutMs, 'the player to start');
      const first = await withTimeout(Promise.race([s.firstFrame, (async () => {
        while (!s.error) await sleep(50);
        throw new Error(s.error);
      })()]), o.timeoutMs, 'the first frame');
      return { id, firstFrameMs: first - t0 };
    } catch (e) {
      close(id);
      return { error: String(e && e.message || e) };
    }
  }

  function status(id) {
    const s = sessions.get(id);
    if (!s) return { frames: 0, lag: null, rate: 1, width: 0, height: 0, error: 'no session ' + id };
    const v = s.video;
    return {
      frames: s.frames, lag: s.lag(), rate: v ? v.playbackRate : 1,
      width: v ? v.videoWidth : s.img ? s.img.naturalWidth : 0,
      height: v ? v.videoHeight : s.img ? s.img.naturalHeight : 0,
      error: s.error,
    };
  }

  function record(a) {
    const s = sessions.get(a.id);
    if (s) s.rec.on = a.on;
    return !!s;
  }

  function take(id) {
    const s = sessions.get(id);
    if (!s) return { times: [], grey: '', frames: 0 };
    const rec = s.rec;
    const all = new Uint8Array(rec.chunks.reduce((n, c) => n + c.length, 0));
    let off = 0;
    for (const c of rec.chunks) { all.set(c, off); off += c.length; }
    let bin = '';
    for (let i = 0; i < all.length; i += 8192) bin += String.fromCharCode.apply(null, all.subarray(i, i + 8192));
    const out = { times: rec.times.splice(0), grey: btoa(bin), frames: s.frames };
    rec.chunks = [];
    return out;
  }

  function close(id) {
    const s = sessions.get(id);
    if (!s) return false;
    sessions.delete(id);
    s.closed = true;
    for (const c of s.cleanup) { try { c(); } catch {} }
    return true;
  }

  window.__camstackLatency = { start, status, record, take, close };
})();`;
