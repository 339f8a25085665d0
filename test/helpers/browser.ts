/**
 * Real Chromium (Debian's /usr/bin/chromium, installed by `npm run setup`) driven by playwright-core,
 * for end-to-end live-view tests and benchmarks. The measuring code runs inside a page opened on
 * the origin under test (same origin, relative URLs, no CORS), and hands back plain numbers.
 *
 * The in-page code is plain JavaScript in a string (PAGE_LIB) rather than TypeScript functions
 * passed to page.evaluate: tsx rewrites nested functions with a `__name` helper that does not exist
 * in the page, and the project's TypeScript settings carry no DOM types.
 */
import { existsSync } from 'node:fs';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--allow-loopback-in-peer-connection',
  '--autoplay-policy=no-user-gesture-required',
  '--use-fake-ui-for-media-stream',
];

/** Launches Chromium; fails (never skips) with a message naming `npm run setup` when it is missing. */
export async function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM_PATH}: run \`npm run setup\` (it installs Debian's chromium package)`,
    );
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS, ...extraArgs], timeout: 60_000 });
}

export interface LivePage {
  page: Page;
  context: BrowserContext;
  close: () => Promise<void>;
}

export interface OpenPageOptions {
  /** Extra script run before any page script (e.g. to take WebRTC away). */
  initScript?: string;
}

/**
 * A fresh context and page opened on `url` (an address on the origin under test, e.g. the
 * server's /api/health), with the measuring library installed.
 */
export async function openLivePage(browser: Browser, url: string, opts: OpenPageOptions = {}): Promise<LivePage> {
  // Headless Chromium calls itself "HeadlessChrome/…", which go2rtc takes for Safari (it looks for
  // " Chrome/") and answers stream.mp4 with a redirect to HLS: present the desktop browser's name.
  const userAgent = `Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${browser.version()} Safari/537.36`;
  const context = await browser.newContext({ viewport: { width: 800, height: 600 }, userAgent });
  try {
    if (opts.initScript) await context.addInitScript({ content: opts.initScript });
    await context.addInitScript({ content: PAGE_LIB });
    const page = await context.newPage();
    page.setDefaultTimeout(60_000);
    const res = await page.goto(url, { waitUntil: 'load' });
    if (!res?.ok()) throw new Error(`opening ${url} answered ${res?.status()}`);
    return { page, context, close: () => context.close() };
  } catch (err) {
    await context.close().catch(() => {});
    throw err;
  }
}

/** Script for openLivePage's initScript: RTCPeerConnection throws, as in a browser with WebRTC off. */
export const DISABLE_WEBRTC = `(() => {
  const off = function RTCPeerConnection() { throw new Error('WebRTC is disabled in this browser'); };
  for (const name of ['RTCPeerConnection', 'webkitRTCPeerConnection']) {
    Object.defineProperty(window, name, { value: off, configurable: true, writable: true });
  }
})();`;

export interface FrameStats {
  /** ms from the helper's start to the first decoded frame (requestVideoFrameCallback). */
  firstFrameMs: number;
  /** Frames presented during the counting window after the first frame. */
  frames: number;
  /** Seconds of media time that advanced during the counting window. */
  mediaAdvance: number;
  /** video.currentTime advance during the counting window (seconds). */
  currentTimeAdvance: number;
  countMs: number;
  width: number;
  height: number;
}

export interface WebrtcResult extends FrameStats {
  mode: 'webrtc';
  /** ms spent gathering the browser's own ICE candidates. */
  gatherMs: number;
  /** ms for the signalling round trip (POST offer → answer). */
  signallingMs: number;
  /** ms from the answer until the peer connection is connected. */
  connectMs: number;
  status: number;
  /** WHEP: the Location header of the 201. */
  location: string | null;
  /** Kept open until closeSession (when keepOpen). */
  session: string | null;
}

export interface MseResult extends FrameStats {
  mode: 'mse';
  /** The MIME type go2rtc chose, e.g. video/mp4; codecs="avc1.42C01E,opus". */
  mime: string;
  /** ms from the helper's start to the WebSocket being open. */
  openMs: number;
  /** ms from the helper's start to the server's {"type":"mse"} answer. */
  mimeMs: number;
  /** ms from the helper's start to the first binary message (the fMP4 init segment). */
  firstDataMs: number;
  /** ms from the helper's start to the second binary message (the first media fragment). */
  firstMediaMs: number;
  bytes: number;
  session: string | null;
}

export interface LiveFailure {
  mode: 'webrtc' | 'mse';
  error: string;
  status?: number;
  body?: string;
}

export interface WebrtcOptions {
  /** Same-origin path (or full URL) to POST the offer to (unused with `ha`). */
  url: string;
  /**
   * Signal through Home Assistant's websocket instead (`camera/webrtc/offer`, as HA's dashboard
   * does): the answer and HA's trickled ICE candidates come back as subscription events.
   */
  ha?: { wsUrl: string; token: string; entityId: string };
  /** `json` ({type:'offer',sdp} → {type:'answer',sdp}) or `whep` (application/sdp → 201 + Location). */
  form?: 'json' | 'whep';
  audio?: boolean;
  timeoutMs?: number;
  /** Only the connection, not frames, must happen within this (the "cannot connect" budget). */
  connectTimeoutMs?: number;
  countMs?: number;
  keepOpen?: boolean;
  /**
   * Drops every ICE candidate from the offer and the answer: signalling works but no media path
   * exists (as with a firewalled media port), so the peer connection never connects.
   */
  dropCandidates?: boolean;
}

export interface MseOptions {
  /** Same-origin path (or full ws:/http: URL) of the WebSocket. */
  url: string;
  /** Codecs to offer; default: video-rtc.js's list, filtered by MediaSource.isTypeSupported. */
  codecs?: string[];
  timeoutMs?: number;
  countMs?: number;
  keepOpen?: boolean;
}

export interface MjpegResult {
  naturalWidth: number;
  naturalHeight: number;
  firstImageMs: number;
  /** Distinct pictures among the samples taken after the first one loaded. */
  distinct: number;
  samples: number;
  /** Kept open until closeSession (when keepOpen). */
  session: string | null;
}

export interface AutoResult {
  mode: 'webrtc' | 'mse';
  /** Why WebRTC was not used, when it was not. */
  webrtcError: string | null;
  result: WebrtcResult | MseResult;
}

type PageCall = 'webrtc' | 'mse' | 'auto' | 'progressive' | 'mjpeg' | 'sample' | 'close' | 'sessions';

async function call<T>(page: Page, fn: PageCall, arg: unknown): Promise<T> {
  return (await page.evaluate(`window.__camstackLive.${fn}(${JSON.stringify(arg)})`)) as T;
}

function isFailure(x: unknown): x is LiveFailure {
  return typeof x === 'object' && x !== null && 'error' in x;
}

/** WebRTC in the page; throws with the server's answer when it fails. */
export async function playWebrtc(page: Page, opts: WebrtcOptions): Promise<WebrtcResult> {
  const res = await tryWebrtc(page, opts);
  if (isFailure(res)) throw new Error(`WebRTC failed: ${res.error}${res.body ? ` — ${res.body}` : ''}`);
  return res;
}

export function tryWebrtc(page: Page, opts: WebrtcOptions): Promise<WebrtcResult | LiveFailure> {
  return call(page, 'webrtc', opts);
}

/** MSE over a WebSocket in the page; throws with go2rtc's error when it fails. */
export async function playMse(page: Page, opts: MseOptions): Promise<MseResult> {
  const res = await tryMse(page, opts);
  if (isFailure(res)) throw new Error(`MSE failed: ${res.error}`);
  return res;
}

export function tryMse(page: Page, opts: MseOptions): Promise<MseResult | LiveFailure> {
  return call(page, 'mse', opts);
}

/** What a player does: WebRTC first, MSE when WebRTC is unavailable or cannot connect. */
export async function playAuto(page: Page, opts: { webrtc: WebrtcOptions; mse: MseOptions }): Promise<AutoResult> {
  const res = await call<AutoResult | LiveFailure>(page, 'auto', opts);
  if (isFailure(res)) throw new Error(`no live mode played: ${res.error}`);
  return res;
}

/** A plain <video src> on a progressive MP4 URL (what players and `<video>` tags use). */
export async function playProgressive(
  page: Page,
  opts: { url: string; timeoutMs?: number; countMs?: number },
): Promise<FrameStats> {
  const res = await call<FrameStats | LiveFailure>(page, 'progressive', opts);
  if (isFailure(res)) throw new Error(`progressive MP4 failed: ${res.error}`);
  return res;
}

/** An <img> on a multipart MJPEG URL: waits for a picture, then samples it `samples` times. */
export async function watchMjpeg(
  page: Page,
  opts: { url: string; timeoutMs?: number; samples?: number; intervalMs?: number; keepOpen?: boolean },
): Promise<MjpegResult> {
  const res = await call<MjpegResult | LiveFailure>(page, 'mjpeg', opts);
  if (isFailure(res)) throw new Error(`MJPEG failed: ${res.error}`);
  return res;
}

/** Samples an MJPEG <img> left open with keepOpen again: how many distinct pictures it showed. */
export async function sampleMjpeg(
  page: Page,
  session: string,
  opts: { samples?: number; intervalMs?: number } = {},
): Promise<number> {
  const res = await call<{ distinct: number } | LiveFailure>(page, 'sample', { session, ...opts });
  if (isFailure(res)) throw new Error(res.error);
  return res.distinct;
}

/** Closes a session left open with keepOpen (peer connection or WebSocket). */
export async function closeSession(page: Page, session: string | null): Promise<void> {
  if (session) await call(page, 'close', session);
}

/** Frames of an open session so far (to check it is still playing). */
export async function sessionFrames(page: Page, session: string): Promise<{ frames: number; open: boolean }> {
  return call(page, 'sessions', session);
}

/** The code installed in every page: window.__camstackLive. */
const PAGE_LIB = String.raw`(() => {
  const sessions = new Map();
  let nextId = 1;
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const withTimeout = (p, ms, what) =>
    Promise.race([p, sleep(ms).then(() => { throw new Error('timed out after ' + ms + ' ms waiting for ' + what); })]);
  const toUrl = (u, ws) => {
    const url = new URL(u, location.href);
    if (ws && url.protocol.startsWith('http')) url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    return url.href;
  };

  function makeVideo() {
    const video = document.createElement('video');
    video.muted = true;
    video.autoplay = true;
    video.playsInline = true;
    video.width = 320;
    video.height = 240;
    document.body.appendChild(video);
    return video;
  }

  // Counts decoded frames with requestVideoFrameCallback.
  function watchFrames(video) {
    const st = { first: null, count: 0, mediaTime: 0, stopped: false };
    let resolveFirst;
    st.firstFrame = new Promise((r) => { resolveFirst = r; });
    const cb = (_now, meta) => {
      if (st.stopped) return;
      if (st.first === null) { st.first = performance.now(); resolveFirst(st.first); }
      st.count++;
      st.mediaTime = meta.mediaTime;
      video.requestVideoFrameCallback(cb);
    };
    video.requestVideoFrameCallback(cb);
    return st;
  }

  async function frameStats(video, st, t0, timeoutMs, countMs) {
    const first = await withTimeout(st.firstFrame, timeoutMs, 'the first decoded frame');
    const c0 = st.count, m0 = st.mediaTime, v0 = video.currentTime;
    await sleep(countMs);
    return {
      firstFrameMs: first - t0,
      frames: st.count - c0,
      mediaAdvance: st.mediaTime - m0,
      currentTimeAdvance: video.currentTime - v0,
      countMs,
      width: video.videoWidth,
      height: video.videoHeight,
    };
  }

  function keep(keepOpen, close, st) {
    if (!keepOpen) { close(); return null; }
    const id = 's' + nextId++;
    sessions.set(id, { close, st });
    return id;
  }

  // Home Assistant's websocket: auth, then camera/webrtc/offer; resolves with the answer (or
  // error); candidates that arrive before ready() is called are queued until then.
  function haOffer(ha, offer, onCandidate, setClose) {
    return new Promise((resolve) => {
      const ws = new WebSocket(ha.wsUrl);
      setClose(() => ws.close());
      let ready = false;
      const queued = [];
      const addCandidate = (c) => { if (ready) onCandidate(c); else queued.push(c); };
      const done = (x) => resolve({ ...x, ready: () => { ready = true; queued.splice(0).forEach(onCandidate); } });
      ws.onerror = () => done({ error: 'websocket error' });
      ws.onmessage = (ev) => {
        const m = JSON.parse(ev.data);
        if (m.type === 'auth_required') ws.send(JSON.stringify({ type: 'auth', access_token: ha.token }));
        else if (m.type === 'auth_invalid') done({ error: 'auth invalid: ' + m.message });
        else if (m.type === 'auth_ok') ws.send(JSON.stringify({ id: 1, type: 'camera/webrtc/offer', entity_id: ha.entityId, offer }));
        else if (m.type === 'result' && !m.success) done({ error: JSON.stringify(m.error) });
        else if (m.type === 'event') {
          const e = m.event;
          if (e.type === 'answer') done({ sdp: e.answer });
          else if (e.type === 'candidate') addCandidate(e.candidate);
          else if (e.type === 'error') done({ error: e.code + ': ' + e.message });
        }
      };
    });
  }

  async function webrtc(o) {
    const timeoutMs = o.timeoutMs ?? 20000, countMs = o.countMs ?? 2000;
    const t0 = performance.now();
    let pc = null, video = null, haClose = null;
    const cleanup = () => { try { pc && pc.close(); } catch {} try { haClose && haClose(); } catch {} if (video) { video.srcObject = null; video.remove(); } };
    try {
      pc = new RTCPeerConnection({ iceServers: [] });
      video = makeVideo();
      const stream = new MediaStream();
      pc.addTransceiver('video', { direction: 'recvonly' });
      if (o.audio !== false) pc.addTransceiver('audio', { direction: 'recvonly' });
      pc.ontrack = (e) => { stream.addTrack(e.track); if (!video.srcObject) video.srcObject = stream; };
      const st = watchFrames(video);
      await pc.setLocalDescription(await pc.createOffer());
      await withTimeout(new Promise((resolve) => {
        if (pc.iceGatheringState === 'complete') return resolve();
        pc.addEventListener('icegatheringstatechange', () => { if (pc.iceGatheringState === 'complete') resolve(); });
      }), 10000, 'ICE gathering');
      const tGathered = performance.now();
      const whep = o.form === 'whep';
      const noCandidates = (sdp) => sdp.split('\r\n').filter((l) => !l.startsWith('a=candidate')).join('\r\n');
      const offer = o.dropCandidates ? noCandidates(pc.localDescription.sdp) : pc.localDescription.sdp;
      let res, sdp;
      if (o.ha) {
        const answer = await haOffer(o.ha, offer, (c) => pc.addIceCandidate(c).catch(() => {}), (close) => { haClose = close; });
        if (answer.error) { cleanup(); return { mode: 'webrtc', error: 'Home Assistant: ' + answer.error, status: 0, body: JSON.stringify(answer) }; }
        res = { status: 200, headers: { get: () => null } };
        sdp = answer.sdp;
        await pc.setRemoteDescription({ type: 'answer', sdp });
        answer.ready();
      } else {
        res = await fetch(o.url, {
          method: 'POST',
          headers: { 'content-type': whep ? 'application/sdp' : 'application/json' },
          body: whep ? offer : JSON.stringify({ type: 'offer', sdp: offer }),
        });
        const text = await res.text();
        if (res.status !== (whep ? 201 : 200)) { cleanup(); return { mode: 'webrtc', error: 'signalling answered ' + res.status, status: res.status, body: text }; }
        sdp = whep ? text : JSON.parse(text).sdp;
        if (o.dropCandidates) sdp = noCandidates(sdp);
        await pc.setRemoteDescription({ type: 'answer', sdp });
      }
      const tAnswer = performance.now();
      const connectTimeout = o.connectTimeoutMs ?? timeoutMs;
      await withTimeout(new Promise((resolve, reject) => {
        const check = () => {
          if (pc.connectionState === 'connected') resolve();
          else if (pc.connectionState === 'failed') reject(new Error('peer connection failed'));
        };
        pc.addEventListener('connectionstatechange', check);
        check();
      }), connectTimeout, 'the peer connection to connect');
      const tConnected = performance.now();
      video.play().catch(() => {});
      const stats = await frameStats(video, st, t0, timeoutMs, countMs);
      const session = keep(o.keepOpen, () => { st.stopped = true; cleanup(); }, st);
      return {
        mode: 'webrtc', ...stats, status: res.status, location: res.headers.get('location'), session,
        gatherMs: tGathered - t0, signallingMs: tAnswer - tGathered, connectMs: tConnected - tAnswer,
      };
    } catch (e) {
      cleanup();
      return { mode: 'webrtc', error: String(e && e.message || e) };
    }
  }

  const MSE_CODECS = ['avc1.640029', 'avc1.64002A', 'avc1.640033', 'hvc1.1.6.L153.B0', 'mp4a.40.2', 'mp4a.40.5', 'flac', 'opus'];

  async function mse(o) {
    const timeoutMs = o.timeoutMs ?? 20000, countMs = o.countMs ?? 2000;
    const t0 = performance.now();
    let ws = null, video = null, bytes = 0, mime = null, failed = null;
    const cleanup = () => { try { ws && ws.close(); } catch {} if (video) { video.removeAttribute('src'); video.load(); video.remove(); } };
    try {
      if (typeof MediaSource === 'undefined') throw new Error('no MediaSource in this browser');
      const codecs = (o.codecs ?? MSE_CODECS).filter((c) => MediaSource.isTypeSupported('video/mp4; codecs="' + c + '"'));
      video = makeVideo();
      const st = watchFrames(video);
      const ms = new MediaSource();
      const opened = new Promise((r) => ms.addEventListener('sourceopen', r, { once: true }));
      video.src = URL.createObjectURL(ms);
      video.play().catch(() => {});
      ws = new WebSocket(toUrl(o.url, true));
      ws.binaryType = 'arraybuffer';
      let openMs = 0, sb = null, mimeMs = 0, firstDataMs = 0, firstMediaMs = 0, chunks = 0;
      const queue = [];
      let rejectBroken;
      const broken = new Promise((_, rej) => { rejectBroken = rej; });
      broken.catch(() => {});
      video.addEventListener('error', () => rejectBroken(new Error('the video element failed')));
      let resolveMime, rejectMime;
      const gotMime = new Promise((res, rej) => { resolveMime = res; rejectMime = rej; });
      const pump = () => {
        if (!sb || sb.updating || queue.length === 0 || ms.readyState !== 'open') return;
        const chunk = queue.length === 1 ? queue.shift() : concat(queue.splice(0));
        try { sb.appendBuffer(chunk); } catch (e) { failed = e; rejectBroken(new Error('appendBuffer failed: ' + e)); }
      };
      const concat = (parts) => {
        const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
        let off = 0;
        for (const p of parts) { out.set(new Uint8Array(p), off); off += p.byteLength; }
        return out.buffer;
      };
      ws.onmessage = (ev) => {
        if (typeof ev.data === 'string') {
          const msg = JSON.parse(ev.data);
          if (msg.type === 'mse') { mimeMs = performance.now() - t0; resolveMime(msg.value); }
          else if (msg.type === 'error') rejectMime(new Error('server said: ' + msg.value));
          return;
        }
        if (bytes === 0) firstDataMs = performance.now() - t0;
        bytes += ev.data.byteLength;
        // The first binary message is the init segment; the next one carries the first keyframe.
        if (firstMediaMs === 0 && chunks++ === 1) firstMediaMs = performance.now() - t0;
        queue.push(ev.data);
        pump();
      };
      const closed = new Promise((_, rej) => {
        ws.onclose = (ev) => rej(new Error('WebSocket closed (' + ev.code + (ev.reason ? ' ' + ev.reason : '') + ')'));
      });
      closed.catch(() => {});
      gotMime.catch(() => {});
      await withTimeout(Promise.race([new Promise((r) => { ws.onopen = r; }), closed]), timeoutMs, 'the WebSocket to open');
      openMs = performance.now() - t0;
      await withTimeout(Promise.race([opened, closed]), timeoutMs, 'MediaSource to open');
      ws.send(JSON.stringify({ type: 'mse', value: codecs.join(',') }));
      mime = await withTimeout(Promise.race([gotMime, closed]), timeoutMs, 'the MSE answer');
      sb = ms.addSourceBuffer(mime);
      sb.mode = 'segments';
      sb.addEventListener('updateend', () => {
        // Follow the live edge: start at the first buffered frame, and never lag more than 3 s.
        const b = video.buffered;
        if (b.length) {
          const start = b.start(0), end = b.end(b.length - 1);
          if (video.currentTime < start || end - video.currentTime > 3) video.currentTime = Math.max(start, end - 0.5);
          if (video.paused) video.play().catch(() => {});
          if (!sb.updating && end - start > 20) { try { sb.remove(start, end - 10); } catch {} }
        }
        pump();
      });
      pump();
      const stats = await withTimeout(Promise.race([frameStats(video, st, t0, timeoutMs, countMs), closed, broken]), timeoutMs + countMs + 1000, 'frames');
      if (failed) throw failed;
      const session = keep(o.keepOpen, () => { st.stopped = true; cleanup(); }, st);
      return { mode: 'mse', ...stats, mime, openMs, mimeMs, firstDataMs, firstMediaMs, bytes, session };
    } catch (e) {
      const v = video;
      const b = v && v.buffered.length ? v.buffered.start(0).toFixed(2) + '–' + v.buffered.end(v.buffered.length - 1).toFixed(2) : 'none';
      const state = v ? ' [video error: ' + (v.error ? v.error.code + ' ' + v.error.message : 'none') + ', readyState ' + v.readyState +
        ', currentTime ' + v.currentTime.toFixed(2) + ', buffered ' + b + ', paused ' + v.paused + ', bytes ' + bytes +
        ', mime ' + mime + (failed ? ', append failed: ' + failed : '') + ']' : '';
      cleanup();
      return { mode: 'mse', error: String(e && e.message || e) + state };
    }
  }

  async function auto(o) {
    const w = await webrtc({ ...o.webrtc, connectTimeoutMs: o.webrtc.connectTimeoutMs ?? 5000 });
    if (!w.error) return { mode: 'webrtc', webrtcError: null, result: w };
    const m = await mse(o.mse);
    if (m.error) return { error: 'WebRTC: ' + w.error + '; MSE: ' + m.error };
    return { mode: 'mse', webrtcError: w.error, result: m };
  }

  // A plain <video src> on a progressive (fragmented) MP4 URL.
  async function progressive(o) {
    const timeoutMs = o.timeoutMs ?? 20000, countMs = o.countMs ?? 2000;
    const t0 = performance.now();
    const video = makeVideo();
    const cleanup = () => { video.removeAttribute('src'); video.load(); video.remove(); };
    try {
      const st = watchFrames(video);
      const broken = new Promise((_, rej) => video.addEventListener('error', () =>
        rej(new Error('the video element failed: ' + (video.error ? video.error.code + ' ' + video.error.message : '?')))));
      broken.catch(() => {});
      video.src = o.url;
      video.play().catch(() => {});
      const stats = await Promise.race([frameStats(video, st, t0, timeoutMs, countMs), broken]);
      st.stopped = true;
      cleanup();
      return { mode: 'mp4', ...stats };
    } catch (e) {
      cleanup();
      return { error: String(e && e.message || e) };
    }
  }

  // Hash of the picture an <img> shows now (a sample of its pixels drawn on a canvas).
  function pictureHash(img, ctx) {
    ctx.drawImage(img, 0, 0, ctx.canvas.width, ctx.canvas.height);
    const px = ctx.getImageData(0, 0, ctx.canvas.width, ctx.canvas.height).data;
    let h = 2166136261;
    for (let j = 0; j < px.length; j += 7) h = Math.imul(h ^ px[j], 16777619) >>> 0;
    return h;
  }

  async function samplePictures(img, ctx, samples, intervalMs) {
    const seen = new Set();
    for (let i = 0; i < samples; i++) {
      seen.add(pictureHash(img, ctx));
      if (i < samples - 1) await sleep(intervalMs);
    }
    return seen.size;
  }

  async function mjpeg(o) {
    const timeoutMs = o.timeoutMs ?? 20000, samples = o.samples ?? 8, intervalMs = o.intervalMs ?? 400;
    const t0 = performance.now();
    const img = document.createElement('img');
    document.body.appendChild(img);
    const cleanup = () => { img.src = ''; img.remove(); };
    try {
      img.src = o.url;
      await withTimeout(new Promise((resolve) => {
        const check = () => (img.naturalWidth > 0 ? resolve() : setTimeout(check, 20));
        check();
      }), timeoutMs, 'the first MJPEG picture');
      const firstImageMs = performance.now() - t0;
      const canvas = document.createElement('canvas');
      canvas.width = img.naturalWidth;
      canvas.height = img.naturalHeight;
      const ctx = canvas.getContext('2d', { willReadFrequently: true });
      const distinct = await samplePictures(img, ctx, samples, intervalMs);
      let session = null;
      if (o.keepOpen) {
        session = 's' + nextId++;
        sessions.set(session, { close: cleanup, st: { count: 0 }, sample: (n, ms) => samplePictures(img, ctx, n, ms) });
      } else cleanup();
      return { naturalWidth: img.naturalWidth, naturalHeight: img.naturalHeight, firstImageMs, distinct, samples, session };
    } catch (e) {
      cleanup();
      return { error: String(e && e.message || e) };
    }
  }

  // Samples an open MJPEG session again: distinct pictures among n samples.
  async function sample(o) {
    const s = sessions.get(o.session);
    if (!s || !s.sample) return { error: 'no MJPEG session ' + o.session };
    return { distinct: await s.sample(o.samples ?? 8, o.intervalMs ?? 400) };
  }

  function close(id) {
    const s = sessions.get(id);
    if (s) { sessions.delete(id); s.close(); }
    return true;
  }

  function sessionsInfo(id) {
    const s = sessions.get(id);
    return { frames: s ? s.st.count : 0, open: !!s };
  }

  window.__camstackLive = { webrtc, mse, auto, progressive, mjpeg, sample, close, sessions: sessionsInfo };
})();`;
