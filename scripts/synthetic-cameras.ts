/**
 * Synthetic cameras for the demo, the tests and the benchmarks: a separate MediaMTX instance
 * plays "the camera network" (its RTSP server is what Camstack pulls from, and its API lists the
 * readers of every path, so tests count upstream connections at the source), and one FFmpeg per
 * camera publishes a test pattern with a visible wall clock (H.264 or H.265, 2 s GOP, Opus audio).
 * Everything listens on 127.0.0.1 only, except the RTSP server when `rtspHost` names another
 * local address (the image test binds it to its Docker network's gateway, for the add-on container).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveBinaries } from '../server/src/engines/binaries.js';

export interface SyntheticCameraSpec {
  /** Path on the simulated camera server: rtsp://127.0.0.1:<port>/<name>. */
  name: string;
  width?: number;
  height?: number;
  fps?: number;
  gopSeconds?: number;
  /** Video bitrate in kbit/s (default: x264's CRF output, small). */
  bitrateKbps?: number;
  audio?: boolean;
  /**
   * Video codec (default `h264`). `h265` encodes with libx265 (ultrafast, same GOP, parameter sets
   * repeated before every keyframe so a reader that joins late can start), like an H.265 camera.
   */
  codec?: 'h264' | 'h265';
  /** Label drawn next to the clock (default: the name). */
  label?: string;
  /**
   * Also draw the wall clock machine-readably: a strip of black/white 16×16 blocks in the top-left
   * corner ({@link TIMECODE_WIDTH}×{@link TIMECODE_HEIGHT}); read it back with {@link readTimecode}.
   * Needs a frame at least 320 pixels wide.
   */
  timecode?: boolean;
  /**
   * Publish this (pre-encoded) file in a loop with stream copy instead of encoding a test pattern:
   * cheap enough to run many 1080p cameras at once (benchmarks).
   */
  loopFile?: string;
}

interface Running {
  spec: Required<Omit<SyntheticCameraSpec, 'bitrateKbps' | 'loopFile'>> & { bitrateKbps?: number; loopFile?: string };
  proc: ChildProcess | null;
}

/**
 * The machine-readable clock: the wall time in tenths of a second, modulo 2^20 (29 hours), as 20
 * bits, least significant first, one 16×16 block per bit (white = 1) on the top row, and the same
 * bits inverted on the row below (every pair must differ, so a misread is noticed, not trusted).
 * Blocks sit on H.264's 16×16 macroblock grid, so compression keeps them clean. FFmpeg stamps
 * each frame with the wall clock (`setpts=RTCTIME`) before drawing, then restores the timestamps.
 */
export const TIMECODE_BITS = 20;
export const TIMECODE_BLOCK = 16;
export const TIMECODE_WIDTH = TIMECODE_BITS * TIMECODE_BLOCK;
export const TIMECODE_HEIGHT = 2 * TIMECODE_BLOCK;
const TIMECODE_MODULO = 2 ** TIMECODE_BITS;

function timecodeFilters(): string {
  const boxes = [`drawbox=x=0:y=0:w=${TIMECODE_WIDTH}:h=${TIMECODE_HEIGHT}:color=black:t=fill`];
  for (let i = 0; i < TIMECODE_BITS; i++) {
    const bit = `mod(floor(t*10/${2 ** i}),2)`;
    const box = `x=${i * TIMECODE_BLOCK}:w=${TIMECODE_BLOCK}:h=${TIMECODE_BLOCK}:color=white:t=fill`;
    boxes.push(`drawbox=${box}:y=0:enable='eq(${bit},1)'`);
    boxes.push(`drawbox=${box}:y=${TIMECODE_BLOCK}:enable='eq(${bit},0)'`);
  }
  return `,settb=1/1000,setpts=RTCTIME/1000,${boxes.join(',')},setpts=N/(FRAME_RATE*TB)`;
}

/**
 * Reads the clock strip from the top-left TIMECODE_WIDTH×TIMECODE_HEIGHT pixels of a frame
 * (8-bit grey, `width` pixels per row) and returns the wall time in ms (to 100 ms, rounded down),
 * taking the 29-hour period nearest to `nearMs`. Throws when the strip does not read cleanly.
 */
export function readTimecode(gray: Uint8Array, width: number, nearMs: number): number {
  const level = (bx: number, by: number): number => {
    let sum = 0;
    for (let y = 4; y < TIMECODE_BLOCK - 4; y++) {
      for (let x = 4; x < TIMECODE_BLOCK - 4; x++) {
        sum += gray[(by * TIMECODE_BLOCK + y) * width + bx * TIMECODE_BLOCK + x] ?? 0;
      }
    }
    return sum / ((TIMECODE_BLOCK - 8) * (TIMECODE_BLOCK - 8));
  };
  let value = 0;
  for (let i = 0; i < TIMECODE_BITS; i++) {
    const top = level(i, 0) > 128;
    const bottom = level(i, 1) > 128;
    if (top === bottom) throw new Error(`timecode bit ${i} does not read cleanly`);
    if (top) value += 2 ** i;
  }
  const near = Math.floor(nearMs / 100);
  const base = near - (((near % TIMECODE_MODULO) + TIMECODE_MODULO) % TIMECODE_MODULO);
  let best = base + value;
  for (const candidate of [best - TIMECODE_MODULO, best + TIMECODE_MODULO]) {
    if (Math.abs(candidate - near) < Math.abs(best - near)) best = candidate;
  }
  return best * 100;
}

const FONT_CANDIDATES = [
  '/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf',
  '/usr/share/fonts/TTF/DejaVuSansMono.ttf',
  '/usr/share/fonts/dejavu/DejaVuSansMono.ttf',
];

/** The FFmpeg arguments of one synthetic camera (pure, for tests and the demo alike). */
export function publisherArgs(spec: Running['spec'], url: string, fontFile: string | null): string[] {
  const { width, height, fps, gopSeconds } = spec;
  if (spec.loopFile) {
    return [
      '-hide_banner',
      '-loglevel',
      'error',
      '-nostdin',
      '-re',
      '-stream_loop',
      '-1',
      '-i',
      spec.loopFile,
      '-map',
      '0',
      '-c',
      'copy',
      '-f',
      'rtsp',
      '-rtsp_transport',
      'tcp',
      url,
    ];
  }
  const gop = String(fps * gopSeconds);
  // Wall clock (local time) at the bottom, big enough to read in a screenshot.
  const clock = fontFile
    ? `,drawtext=fontfile=${fontFile}:text='${spec.label} %{localtime\\:%Y-%m-%d %H\\\\\\:%M\\\\\\:%S}':x=10:y=h-th-10:fontsize=${Math.max(16, Math.round(height / 14))}:fontcolor=white:box=1:boxcolor=black@0.6:boxborderw=6`
    : '';
  const args = [
    '-hide_banner',
    '-loglevel',
    'error',
    '-nostdin',
    '-re',
    '-f',
    'lavfi',
    '-i',
    `testsrc2=size=${width}x${height}:rate=${fps}${spec.timecode ? timecodeFilters() : ''}${clock}`,
  ];
  if (spec.audio) args.push('-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000');
  if (spec.codec === 'h265') {
    args.push(
      '-c:v',
      'libx265',
      '-preset',
      'ultrafast',
      '-tune',
      'zerolatency',
      '-pix_fmt',
      'yuv420p',
      '-g',
      gop,
      '-x265-params',
      `keyint=${gop}:min-keyint=${gop}:scenecut=0:repeat-headers=1:log-level=error`,
    );
  } else {
    args.push(
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-tune',
      'zerolatency',
      '-profile:v',
      'baseline',
      '-pix_fmt',
      'yuv420p',
      '-g',
      gop,
      '-keyint_min',
      gop,
      '-sc_threshold',
      '0',
    );
  }
  if (spec.bitrateKbps) {
    args.push(
      '-b:v',
      `${spec.bitrateKbps}k`,
      '-maxrate',
      `${spec.bitrateKbps}k`,
      '-bufsize',
      `${spec.bitrateKbps * 2}k`,
    );
  }
  if (spec.audio) args.push('-c:a', 'libopus', '-ar', '48000', '-ac', '2', '-b:a', '32k');
  args.push('-f', 'rtsp', '-rtsp_transport', 'tcp', url);
  return args;
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

export interface SyntheticCameraServerOptions {
  rtspPort: number;
  apiPort: number;
  /** When set, reading a camera needs these credentials (like a real camera); publishing does not. */
  auth?: { user: string; pass: string };
  /** Local address of the RTSP server (default 127.0.0.1); FFmpeg publishes to it there. */
  rtspHost?: string;
}

export class SyntheticCameraServer {
  readonly rtspPort: number;
  readonly apiPort: number;
  readonly auth: { user: string; pass: string } | null;
  readonly rtspHost: string;
  readonly #cameras = new Map<string, Running>();
  #mediamtx: ChildProcess | null = null;
  #dir: string | null = null;
  readonly #bins = resolveBinaries();
  readonly #font = FONT_CANDIDATES.find((f) => existsSync(f)) ?? null;

  constructor(opts: SyntheticCameraServerOptions) {
    this.rtspPort = opts.rtspPort;
    this.apiPort = opts.apiPort;
    this.auth = opts.auth ?? null;
    this.rtspHost = opts.rtspHost ?? '127.0.0.1';
  }

  url(name: string): string {
    return `rtsp://${this.rtspHost}:${this.rtspPort}/${name}`;
  }

  async start(): Promise<void> {
    this.#dir = await mkdtemp(join(tmpdir(), 'camstack-sim-'));
    const config = {
      logLevel: 'warn',
      logDestinations: ['stdout'],
      api: true,
      apiAddress: `127.0.0.1:${this.apiPort}`,
      rtsp: true,
      rtspTransports: ['tcp'],
      rtspAddress: `${this.rtspHost}:${this.rtspPort}`,
      rtmp: false,
      hls: false,
      webrtc: false,
      srt: false,
      moq: false,
      playback: false,
      metrics: false,
      pprof: false,
      paths: { all_others: {} },
      ...(this.auth
        ? {
            authInternalUsers: [
              {
                user: 'any',
                pass: '',
                // On another local address the publisher's source address is the kernel's pick
                // (not always that address): publishing is then open to whoever reaches it.
                ips: this.rtspHost === '127.0.0.1' ? ['127.0.0.1'] : [],
                permissions: [{ action: 'publish' }, { action: 'api' }],
              },
              { user: this.auth.user, pass: this.auth.pass, ips: [], permissions: [{ action: 'read' }] },
            ],
          }
        : {}),
    };
    const file = join(this.#dir, 'camera-sim.yml');
    await writeFile(file, JSON.stringify(config));
    this.#mediamtx = spawn(this.#bins.mediamtx, [file], { stdio: ['ignore', 'ignore', 'inherit'], detached: true });
    await waitFor(
      async () => (await fetch(`http://127.0.0.1:${this.apiPort}/v3/info`, { signal: AbortSignal.timeout(500) })).ok,
      10_000,
      'the synthetic camera server',
    );
  }

  /** Starts publishing a camera and waits until its path is online at the simulated camera. */
  async addCamera(spec: SyntheticCameraSpec): Promise<string> {
    const full: Running['spec'] = {
      name: spec.name,
      width: spec.width ?? 640,
      height: spec.height ?? 360,
      fps: spec.fps ?? 25,
      gopSeconds: spec.gopSeconds ?? 2,
      audio: spec.audio ?? true,
      label: spec.label ?? spec.name,
      timecode: spec.timecode ?? false,
      codec: spec.codec ?? 'h264',
      ...(spec.bitrateKbps ? { bitrateKbps: spec.bitrateKbps } : {}),
      ...(spec.loopFile ? { loopFile: spec.loopFile } : {}),
    };
    const running: Running = { spec: full, proc: null };
    this.#cameras.set(spec.name, running);
    await this.resume(spec.name);
    return this.url(spec.name);
  }

  /** Stops a camera's publisher: the camera "disappears" (connection refused on its path). */
  async pause(name: string): Promise<void> {
    const cam = this.#camera(name);
    if (cam.proc) await killGroup(cam.proc);
    cam.proc = null;
  }

  async resume(name: string): Promise<void> {
    const cam = this.#camera(name);
    if (cam.proc) return;
    const args = publisherArgs(cam.spec, this.url(name), this.#font);
    cam.proc = spawn(this.#bins.ffmpeg, args, { stdio: ['ignore', 'ignore', 'inherit'], detached: true });
    await waitFor(async () => (await this.path(name))?.online === true, 15_000, `synthetic camera ${name} online`);
  }

  /** Number of clients reading this camera right now, as the camera itself counts them. */
  async readers(name: string): Promise<number> {
    return (await this.path(name))?.readers.length ?? 0;
  }

  async path(name: string): Promise<{ online: boolean; readers: unknown[] } | null> {
    const res = await fetch(`http://127.0.0.1:${this.apiPort}/v3/paths/get/${encodeURIComponent(name)}`, {
      signal: AbortSignal.timeout(2000),
    });
    if (res.status === 404) return null;
    if (!res.ok) throw new Error(`camera server answered ${res.status}`);
    const body = (await res.json()) as { online?: boolean; ready?: boolean; readers?: unknown[] };
    return { online: body.online ?? body.ready ?? false, readers: body.readers ?? [] };
  }

  /** Every process this server started (publishers and its MediaMTX), for leak checks. */
  pids(): number[] {
    const pids = [...this.#cameras.values()].map((c) => c.proc?.pid).filter((p): p is number => !!p);
    if (this.#mediamtx?.pid) pids.push(this.#mediamtx.pid);
    return pids;
  }

  async stop(): Promise<void> {
    await Promise.all([...this.#cameras.keys()].map((n) => this.pause(n)));
    if (this.#mediamtx) await killGroup(this.#mediamtx);
    this.#mediamtx = null;
    if (this.#dir) await rm(this.#dir, { recursive: true, force: true });
    this.#dir = null;
  }

  #camera(name: string): Running {
    const cam = this.#cameras.get(name);
    if (!cam) throw new Error(`no synthetic camera ${name}`);
    return cam;
  }
}

async function killGroup(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null || !proc.pid) return;
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-(proc.pid as number), sig);
    } catch {
      // already gone
    }
  };
  signal('SIGINT');
  const timer = setTimeout(() => signal('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}
