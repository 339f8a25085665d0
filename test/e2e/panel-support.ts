/**
 * What the panel's browser tests and benchmark share:
 *
 * - {@link startIngressProxy}: a tiny reverse proxy on loopback that does what Home Assistant's
 *   ingress does — `/api/hassio_ingress/<token>/…` → the server with the prefix stripped and
 *   `X-Ingress-Path: /api/hassio_ingress/<token>` added; streaming responses (SSE, MJPEG) pass
 *   through unbuffered and WebSocket upgrades are piped both ways. Anything outside the prefix is
 *   404, so a panel URL that forgot to be relative fails loudly.
 * - {@link PANEL_INIT}: an init script that counts what pages open (RTCPeerConnection,
 *   WebSocket, EventSource) and records CSP violations, for leak and policy checks.
 * - {@link startPanelRig}: synthetic cameras, the real server, the proxy and Chromium, started
 *   together (and {@link startPanelServer}: the server with a longer start-up allowance);
 * - {@link buildPanel}: builds the panel once when server/public is missing or stale.
 * - {@link readClock}: reads the synthetic cameras' drawn wall clock from a video frame, by
 *   matching it against the same text rendered by FFmpeg with the same font (no OCR needed).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { SyntheticCameraServer } from '../../scripts/synthetic-cameras.js';
import { resolveBinaries } from '../../server/src/engines/binaries.js';
import { launchChromium } from '../helpers/browser.js';
import { freePorts } from '../helpers/ports.js';
import { type ServerProcess, type StartOptions, startServerProcess } from '../helpers/server-process.js';

export const root = fileURLToPath(new URL('../..', import.meta.url));
/** Where the panel tests write their screenshots (git-ignored). */
export const SHOTS = join(root, 'screenshots');
export const PUBLIC_DIR = join(root, 'server/public');

export interface IngressProxy {
  /** e.g. http://127.0.0.1:PORT/api/hassio_ingress/TOKEN/ (with the trailing slash). */
  url: string;
  prefix: string;
  /** Requests seen, as `METHOD /path-after-the-prefix` (for assertions on relative URLs). */
  requests: string[];
  /** Requests refused because they were outside the prefix. */
  outside: string[];
  close: () => Promise<void>;
}

/** A reverse proxy like HA's ingress in front of `target` (http://127.0.0.1:port). */
export async function startIngressProxy(
  target: string,
  token = 'b9Xk2TqWn3ZpL8vRcD4sYhJ7mF1aQe6uG0oNi5tKyHw',
): Promise<IngressProxy> {
  const prefix = `/api/hassio_ingress/${token}`;
  const upstream = new URL(target);
  const requests: string[] = [];
  const outside: string[] = [];
  const sockets = new Set<Socket>();

  const strip = (url: string | undefined): string | null => {
    if (!url) return null;
    if (url === prefix) return '/';
    if (!url.startsWith(`${prefix}/`)) return null;
    return url.slice(prefix.length);
  };
  const headersFor = (req: IncomingMessage) => {
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = v;
    headers.host = upstream.host;
    headers['x-ingress-path'] = prefix;
    headers['x-forwarded-for'] = req.socket.remoteAddress ?? '127.0.0.1';
    headers['x-remote-user-name'] = 'panel-test';
    return headers;
  };

  const server: Server = createServer((req, res) => {
    // Home Assistant's own page for an add-on's panel (`/hassio/ingress/<slug>?…`): like HA's
    // ingress view, an iframe on the add-on's root whatever the page's path and query say.
    if (req.method === 'GET' && req.url?.startsWith('/hassio/ingress/')) {
      requests.push(`HA ${req.url}`);
      res
        .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
        .end(
          `<!doctype html><title>Home Assistant</title><style>html,body,iframe{margin:0;width:100%;height:100%;border:0}</style><iframe title="Camstack" src="${prefix}/"></iframe>`,
        );
      return;
    }
    const path = strip(req.url);
    if (path === null) {
      outside.push(`${req.method} ${req.url}`);
      res.writeHead(404, { 'content-type': 'text/plain' }).end('outside the ingress prefix');
      return;
    }
    requests.push(`${req.method} ${path}`);
    const up = httpRequest(
      { host: upstream.hostname, port: upstream.port, method: req.method, path, headers: headersFor(req) },
      (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        res.flushHeaders();
        upRes.pipe(res);
      },
    );
    up.on('error', () => {
      if (!res.headersSent) res.writeHead(502).end('upstream error');
      else res.destroy();
    });
    res.on('close', () => up.destroy());
    req.pipe(up);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  // WebSocket (and any other) upgrade: replay the request upstream, then splice the sockets.
  server.on('upgrade', (req, client: Socket, head) => {
    const path = strip(req.url);
    if (path === null) {
      outside.push(`UPGRADE ${req.url}`);
      client.end('HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    requests.push(`UPGRADE ${path}`);
    const up = connect(Number(upstream.port), upstream.hostname, () => {
      const lines = [`${req.method} ${path} HTTP/1.1`];
      for (const [k, v] of Object.entries(headersFor(req))) {
        for (const one of Array.isArray(v) ? v : [v]) lines.push(`${k}: ${one}`);
      }
      up.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (head.length) up.write(head);
      up.pipe(client);
      client.pipe(up);
    });
    sockets.add(up);
    const end = () => {
      up.destroy();
      client.destroy();
    };
    up.on('error', end);
    client.on('error', end);
    up.on('close', () => {
      sockets.delete(up);
      client.destroy();
    });
    client.on('close', () => up.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}${prefix}/`,
    prefix,
    requests,
    outside,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Init script for panel pages: counts RTCPeerConnections and WebSockets that are still open
 * (`window.__panelCounts()`), records CSP violations (`window.__cspViolations`) and errors.
 */
export const PANEL_INIT = `(() => {
  const pcs = new Set();
  const sockets = new Set();
  const sources = new Set();
  let pcCreated = 0, wsCreated = 0;
  const RealPC = window.RTCPeerConnection;
  if (RealPC) {
    const Wrapped = function (...args) { const pc = new RealPC(...args); pcs.add(pc); pcCreated++; return pc; };
    Wrapped.prototype = RealPC.prototype;
    Object.setPrototypeOf(Wrapped, RealPC);
    window.RTCPeerConnection = Wrapped;
  }
  const RealWS = window.WebSocket;
  class CountedWS extends RealWS {
    constructor(...args) { super(...args); sockets.add(this); wsCreated++; }
  }
  window.WebSocket = CountedWS;
  const RealES = window.EventSource;
  class CountedES extends RealES {
    constructor(...args) { super(...args); sources.add(this); }
  }
  window.EventSource = CountedES;
  window.__panelCounts = () => ({
    pcOpen: [...pcs].filter((p) => p.connectionState !== 'closed' && p.signalingState !== 'closed').length,
    pcCreated,
    wsOpen: [...sockets].filter((s) => s.readyState === 0 || s.readyState === 1).length,
    wsCreated,
    esOpen: [...sources].filter((s) => s.readyState !== 2).length,
  });
  window.__cspViolations = [];
  document.addEventListener('securitypolicyviolation', (e) => {
    window.__cspViolations.push(e.violatedDirective + ' ' + (e.blockedURI || '') + ' ' + (e.sourceFile || '') + ':' + e.lineNumber);
  });
})();`;

export interface PanelCounts {
  pcOpen: number;
  pcCreated: number;
  wsOpen: number;
  wsCreated: number;
  esOpen: number;
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : statSync(full).mtimeMs);
  }
  return newest;
}

/** Builds the panel when server/public is missing or older than panel/ (npm test builds it first). */
export function buildPanel(): void {
  const index = join(PUBLIC_DIR, 'index.html');
  const panelDir = join(root, 'panel');
  if (existsSync(index) && statSync(index).mtimeMs >= newestMtime(panelDir)) return;
  const res = spawnSync(
    process.execPath,
    [join(root, 'node_modules/vite/bin/vite.js'), 'build', 'panel', '--logLevel', 'warn'],
    {
      cwd: root,
      encoding: 'utf8',
    },
  );
  if (res.status !== 0) throw new Error(`building the panel failed:\n${res.stdout}${res.stderr}`);
}

/** The JS and CSS of the built panel: raw and gzip bytes (gzip -9, as served). */
export function bundleSize(): { files: { name: string; raw: number; gzip: number }[]; raw: number; gzip: number } {
  const dir = join(PUBLIC_DIR, 'assets');
  const files = readdirSync(dir)
    .filter((f) => /\.(js|css)$/.test(f))
    .map((name) => {
      const body = readFileSync(join(dir, name));
      return { name, raw: body.length, gzip: gzipSync(body, { level: 9 }).length };
    });
  return {
    files,
    raw: files.reduce((n, f) => n + f.raw, 0),
    gzip: files.reduce((n, f) => n + f.gzip, 0),
  };
}

// ---- reading the synthetic camera's clock ---------------------------------------------------

const FONT_CANDIDATES = [
  '/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf',
  '/usr/share/fonts/TTF/DejaVuSansMono.ttf',
  '/usr/share/fonts/dejavu/DejaVuSansMono.ttf',
];

export interface GrayFrame {
  width: number;
  height: number;
  /** One byte per pixel, row-major. */
  data: Uint8Array;
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/** The text the synthetic camera draws for a moment (its drawtext: `<label> %Y-%m-%d %H:%M:%S`, local time). */
export function clockText(label: string, at: Date): string {
  return `${label} ${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())} ${pad(at.getHours())}:${pad(at.getMinutes())}:${pad(at.getSeconds())}`;
}

/**
 * The synthetic camera's clock drawn by FFmpeg exactly as the camera draws it (same font, size,
 * place and box), on a white background so the box stands out. The text comes from a file:
 * no filtergraph escaping of its colons.
 */
function renderClock(ffmpeg: string, font: string, text: string, width: number, height: number): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'camstack-clock-'));
  try {
    const textFile = join(dir, 'text.txt');
    writeFileSync(textFile, text);
    const size = Math.max(16, Math.round(height / 14));
    const filter = `drawtext=fontfile=${font}:textfile=${textFile}:x=10:y=h-th-10:fontsize=${size}:fontcolor=white:box=1:boxcolor=black@0.6:boxborderw=6`;
    return execFileSync(ffmpeg, [
      '-hide_banner',
      '-loglevel',
      'error',
      '-f',
      'lavfi',
      '-i',
      `color=c=white:size=${width}x${height}:rate=1,${filter}`,
      '-frames:v',
      '1',
      '-f',
      'rawvideo',
      '-pix_fmt',
      'gray',
      '-',
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The rectangle of the clock's dark box in a reference rendering (white elsewhere). */
function boxOf(ref: Uint8Array, width: number, height: number): { x0: number; y0: number; x1: number; y1: number } {
  let x0 = width;
  let y0 = height;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if ((ref[y * width + x] ?? 255) < 200) {
        x0 = Math.min(x0, x);
        y0 = Math.min(y0, y);
        x1 = Math.max(x1, x);
        y1 = Math.max(y1, y);
      }
    }
  }
  if (x1 < 0) throw new Error('the reference clock has no box');
  return { x0, y0, x1, y1 };
}

/**
 * The time shown by the synthetic camera's clock in `frame`: every second within ±`windowS` of
 * `guess` is rendered and compared, inside the clock's box, with the frame (white text after
 * thresholding: the box darkens the picture below the threshold). `score` is the share of
 * differing pixels relative to the text's ink (0 = identical); `runnerUp` the next best.
 */
export function readClock(
  ffmpeg: string,
  label: string,
  frame: GrayFrame,
  guess: Date,
  windowS = 20,
): { at: Date; score: number; runnerUp: number } {
  const font = FONT_CANDIDATES.find((f) => existsSync(f));
  if (!font) throw new Error('no DejaVuSansMono font (fonts-dejavu-core): the synthetic clock cannot be read');
  const { width, height } = frame;
  const ink = (px: Uint8Array, i: number) => (px[i] ?? 0) > 170;
  let best = { at: guess, score: Number.POSITIVE_INFINITY };
  let runnerUp = Number.POSITIVE_INFINITY;
  for (let d = -windowS; d <= windowS; d++) {
    const at = new Date(Math.round(guess.getTime() / 1000) * 1000 + d * 1000);
    const ref = renderClock(ffmpeg, font, clockText(label, at), width, height);
    const box = boxOf(ref, width, height);
    let diff = 0;
    let inked = 0;
    for (let y = box.y0; y <= box.y1; y++) {
      for (let x = box.x0; x <= box.x1; x++) {
        const i = y * width + x;
        const a = ink(ref, i);
        if (a) inked++;
        if (a !== ink(frame.data, i)) diff++;
      }
    }
    const score = diff / Math.max(1, inked);
    if (score < best.score) {
      runnerUp = best.score;
      best = { at, score };
    } else if (score < runnerUp) runnerUp = score;
  }
  return { ...best, runnerUp };
}

/** The FFmpeg the server and the synthetic cameras use. */
export function ffmpegPath(): string {
  return resolveBinaries().ffmpeg;
}

// ---- pages --------------------------------------------------------------------------------

export interface PlayerState {
  camera: string;
  mode: string;
  phase: string;
  reason: string;
  frames: number;
}

/** Every <camstack-player> on the page (Playwright's CSS engine pierces the shadow roots). */
export async function playerStates(page: Page, selector = 'camstack-player'): Promise<PlayerState[]> {
  return page.locator(selector).evaluateAll((els) =>
    els.map((el) => {
      const p = el as unknown as PlayerState;
      return { camera: p.camera, mode: p.mode, phase: p.phase, reason: p.reason, frames: p.frames };
    }),
  );
}

export async function panelCounts(page: Page): Promise<PanelCounts> {
  return (await page.evaluate('window.__panelCounts()')) as PanelCounts;
}

export async function cspViolations(page: Page): Promise<string[]> {
  return (await page.evaluate('window.__cspViolations')) as string[];
}

export interface PanelPageOptions {
  viewport?: { width: number; height: number };
  colorScheme?: 'light' | 'dark';
  initScript?: string;
  /** Runs on the new context before the page opens (e.g. to hold back a request with `route`). */
  prepare?: (context: BrowserContext) => Promise<unknown>;
}

/** A fresh context on the panel (`url` under the ingress prefix), with PANEL_INIT installed. */
export async function openPanel(
  browser: Browser,
  url: string,
  opts: PanelPageOptions = {},
): Promise<{ page: Page; context: BrowserContext; errors: string[] }> {
  const context = await browser.newContext({
    viewport: opts.viewport ?? { width: 1280, height: 800 },
    colorScheme: opts.colorScheme ?? 'light',
    timezoneId: Intl.DateTimeFormat().resolvedOptions().timeZone,
    acceptDownloads: true,
  });
  if (opts.initScript) await context.addInitScript({ content: opts.initScript });
  await context.addInitScript({ content: PANEL_INIT });
  await opts.prepare?.(context);
  const page = await context.newPage();
  page.setDefaultTimeout(30_000);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  const res = await page.goto(url, { waitUntil: 'load' });
  if (!res?.ok()) throw new Error(`opening ${url} answered ${res?.status()}`);
  return { page, context, errors };
}

/** Waits until `check` passes, polling; the last failure is in the error. */
export async function eventually<T>(what: string, timeoutMs: number, check: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      return await check();
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}: ${last instanceof Error ? last.message : String(last)}`,
  );
}

/** Adds a camera through the API (201 expected). */
export async function addCamera(baseUrl: string, body: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${baseUrl}/api/cameras`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
  if (res.status !== 201) throw new Error(`adding ${String(body.id)}: ${res.status} ${await res.text()}`);
}

export async function viewers(baseUrl: string, id: string): Promise<number> {
  const res = await fetch(`${baseUrl}/api/cameras/${id}/status`, { signal: AbortSignal.timeout(3000) });
  return ((await res.json()) as { viewers: number }).viewers;
}

/**
 * The real server, as test/helpers/server-process.ts starts it, but given up to two minutes to
 * answer: on a busy 2-CPU machine, tsx compiling the server on start-up can take over 30 s.
 */
export async function startPanelServer(opts: StartOptions = {}): Promise<ServerProcess> {
  const sp = await startServerProcess({ ...opts, waitHealthy: false });
  try {
    await eventually('the server to answer /api/health', 120_000, async () => {
      if (sp.proc.exitCode !== null) throw new Error(`server exited with ${sp.proc.exitCode}:\n${sp.output()}`);
      const res = await fetch(`${sp.baseUrl}/api/health`, { signal: AbortSignal.timeout(2000) });
      assert.ok(res.ok);
    });
  } catch (err) {
    await sp.cleanup();
    throw err;
  }
  return sp;
}

// ---- a whole rig: synthetic cameras, the server, the ingress proxy, Chromium ----------------

export interface RigCamera {
  /** Camera id in Camstack. */
  id: string;
  name: string;
  /** Path on the synthetic camera server (also the label drawn next to its clock). */
  sim: string;
  audio?: boolean;
  /** The camera's video codec (default H.264). */
  codec?: 'h264' | 'h265';
  recording?: Record<string, unknown>;
}

export interface PanelRig {
  sim: SyntheticCameraServer;
  sp: ServerProcess;
  proxy: IngressProxy;
  browser: Browser;
  /** Opens the panel at `route` (relative to the ingress root) in a fresh context. */
  open: (route: string, opts?: PanelPageOptions) => Promise<{ page: Page; context: BrowserContext; errors: string[] }>;
  /** Closes every context opened so far. */
  closePages: () => Promise<void>;
  /** JSON from the server's API (direct, not through the proxy); throws on a non-2xx. */
  api: <T>(path: string, init?: RequestInit) => Promise<T>;
  close: () => Promise<void>;
}

/** Builds the panel if needed and starts everything a panel test needs; `close()` stops it all. */
export async function startPanelRig(opts: {
  cameras: RigCamera[];
  env?: Record<string, string>;
  /** The synthetic cameras want these credentials (the rig's cameras are added with them). */
  auth?: { user: string; pass: string };
}): Promise<PanelRig> {
  buildPanel();
  const [rtspPort, apiPort] = (await freePorts(2)) as [number, number];
  const sim = new SyntheticCameraServer({ rtspPort, apiPort, ...(opts.auth ? { auth: opts.auth } : {}) });
  const contexts: BrowserContext[] = [];
  let sp: ServerProcess | undefined;
  let browser: Browser | undefined;
  let proxy: IngressProxy | undefined;
  const close = async () => {
    for (const c of contexts.splice(0)) await c.close().catch(() => {});
    await browser?.close().catch(() => {});
    await proxy?.close();
    await sp?.cleanup();
    await sim.stop();
  };
  try {
    await sim.start();
    for (const c of opts.cameras) {
      await sim.addCamera({
        name: c.sim,
        width: 640,
        height: 360,
        fps: 15,
        gopSeconds: 1,
        audio: c.audio ?? true,
        codec: c.codec ?? 'h264',
      });
    }
    [sp, browser] = await Promise.all([
      startPanelServer({ env: { CAMSTACK_STATUS_POLL_MS: '300', CAMSTACK_RECONCILE_MS: '1000', ...opts.env } }),
      launchChromium(),
    ]);
    const server = sp;
    for (const c of opts.cameras) {
      await addCamera(server.baseUrl, {
        id: c.id,
        name: c.name,
        source: sim.url(c.sim),
        ...(opts.auth ? { username: opts.auth.user, password: opts.auth.pass } : {}),
        ...(c.recording ? { recording: c.recording } : {}),
      });
    }
    // The API answers 201 before the engines are told: wait until go2rtc has every camera, or a
    // page opened at once may find WebRTC's stream missing and start on MSE instead.
    await eventually('go2rtc to know every camera', 60_000, async () => {
      const res = await fetch(`http://127.0.0.1:${server.enginePorts.go2rtcApi}/api/streams`, {
        signal: AbortSignal.timeout(3000),
      });
      const streams = (await res.json()) as Record<string, unknown>;
      for (const c of opts.cameras) assert.ok(c.id in streams, `${c.id} not in go2rtc yet`);
    });
    proxy = await startIngressProxy(server.baseUrl);
  } catch (err) {
    await close();
    throw err;
  }
  const server = sp as ServerProcess;
  const chromium = browser as Browser;
  const ingress = proxy as IngressProxy;
  return {
    sim,
    sp: server,
    proxy: ingress,
    browser: chromium,
    open: async (route, pageOpts = {}) => {
      const p = await openPanel(chromium, `${ingress.url}${route}`, pageOpts);
      contexts.push(p.context);
      return p;
    },
    closePages: async () => {
      for (const c of contexts.splice(0)) await c.close().catch(() => {});
    },
    api: async <T>(path: string, init?: RequestInit): Promise<T> => {
      const res = await fetch(`${server.baseUrl}${path}`, { ...init, signal: AbortSignal.timeout(15_000) });
      const text = await res.text();
      if (!res.ok) throw new Error(`${path}: ${res.status} ${text}`);
      return (text ? JSON.parse(text) : null) as T;
    },
    close,
  };
}
