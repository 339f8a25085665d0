/**
 * One camera's motion detector: a supervised FFmpeg (restarted with backoff when it dies or stops
 * producing frames) reads the camera's restream from MediaMTX on loopback and writes small grey
 * frames to a pipe; each frame is compared with the previous one over the mask, and the state
 * machine turns the scores into start/end events. All the judgement is in the pure modules
 * (`config.ts`, `mask.ts`, `frames.ts`, `state.ts`, `args.ts`); this file is only the I/O.
 */

import { analysisHeight, type MotionConfig, type MotionThresholds, thresholdsFor } from '../config/motion.js';
import { rasterizeMask } from '../config/motion-mask.js';
import type { EventBus, ProcessState } from '../events/bus.js';
import type { Logger } from '../log/logger.js';
import type { SecretRedactor } from '../log/redact.js';
import { type FfmpegProgress, ProgressParser } from '../metrics/progress.js';
import { ManagedProcess } from '../supervisor/managed-process.js';
import type { RestartPolicyOptions } from '../supervisor/restart-policy.js';
import { motionArgs } from './args.js';
import { FrameClock } from './clock.js';
import { FrameComparer, RawFrameReader } from './frames.js';
import { isMoving, MotionStateMachine, type MotionTiming, timingFor } from './state.js';

/** A motion event of one camera. */
export interface MotionEvent {
  camera: string;
  state: 'start' | 'end';
  /**
   * ISO 8601. start: the first moving frame of the event; end: the last one. Frames are timed by
   * their place in the stream (clock.ts): a late burst of frames keeps their spacing; what remains
   * is the pipeline's least delay (network, decoding, the pipe).
   */
  at: string;
  /** Peak score of the event so far: percentage (0..100) of the watched picture that changed between two frames. */
  score: number;
}

export interface MotionStatus {
  camera: string;
  /** The FFmpeg's supervisor state (`running` once spawned and producing). */
  process: ProcessState;
  running: boolean;
  /** Running and frames arriving (one within the last 5 s, or 3 frame intervals at a low fps). */
  healthy: boolean;
  pid: number | null;
  restarts: number;
  /** Redacted reason of the last restart or failure (with FFmpeg's last lines). */
  lastError: string | null;
  /** True between a start event and its end. */
  motion: boolean;
  /** Frames analysed per second, measured over the last ~10 s (0 when none arrive). */
  fps: number;
  /** Score of the latest frame (percentage of watched pixels changed), null before the second frame. */
  lastScore: number | null;
  /** Highest score of the last ~10 s (to tune sensitivity against: motion needs `thresholds.areaPercent`). */
  recentPeakScore: number | null;
  lastFrameAt: string | null;
  /** Frames analysed since start(). */
  frames: number;
  /** CPU time this Node process spent comparing frames since start(), in ms (the FFmpeg's is in /proc). */
  analysisCpuMs: number;
  thresholds: MotionThresholds;
}

export interface MotionDetectorDeps {
  ffmpegBin: string;
  bus: EventBus;
  logger: Logger;
  redactor: SecretRedactor;
  /** Where the FFmpeg's pid file goes (reaped after a crash, like the other FFmpeg jobs). */
  pidDir?: string;
  /** FFmpeg `-progress` blocks, by process name (for the metrics). */
  onProgress?: (processName: string, progress: FfmpegProgress) => void;
  /** Registers the FFmpeg as one of our own readers of the restream (not a viewer); returns its release. */
  acquireInternalReader?: (camera: string) => () => void;
  /**
   * Restart backoff of the FFmpeg. Default: 1 s doubling to 30 s; 100 restarts allowed per 10 min,
   * which 30 s apart never runs out (a camera offline for hours is retried every 30 s).
   */
  policy?: RestartPolicyOptions;
  /** No frame for this long → the FFmpeg is killed and restarted. Default 20 s. */
  stuckAfterMs?: number;
  /** Clock (ms since the epoch) of frames and events. Default Date.now. */
  now?: () => number;
}

export interface MotionDetectorOptions {
  camera: string;
  /** The restream to read, e.g. rtsp://127.0.0.1:<mediamtx>/<camera>. No credentials on loopback. */
  input: string;
  config: MotionConfig;
  onMotion: (event: MotionEvent) => void;
}

/** Frames kept for the fps figure: their arrival times over this window. */
const FPS_WINDOW_MS = 10_000;
/** Default of `stuckAfterMs`. */
const STUCK_AFTER_MS = 20_000;
/** How often the detector checks, without frames, whether an event has ended. */
const TICK_MS = 500;

export class MotionDetector {
  readonly camera: string;
  readonly config: MotionConfig;
  readonly #d: MotionDetectorDeps;
  readonly #onMotion: (event: MotionEvent) => void;
  readonly #proc: ManagedProcess;
  readonly #reader: RawFrameReader;
  readonly #comparer: FrameComparer;
  readonly #machine: MotionStateMachine;
  readonly #clock: FrameClock;
  readonly #thresholds: MotionThresholds;
  readonly #timing: MotionTiming;
  readonly #now: () => number;
  readonly #log: Logger;
  #frameTimes: number[] = [];
  /** Scores of the frames in #frameTimes (NaN for a first frame, which has none). */
  #frameScores: number[] = [];
  #frames = 0;
  #lastScore: number | null = null;
  #lastFrameAt: number | null = null;
  #analysisCpuUs = 0;
  #tick: NodeJS.Timeout | null = null;
  #release: (() => void) | null = null;
  #lastPid: number | null = null;

  constructor(deps: MotionDetectorDeps, opts: MotionDetectorOptions) {
    this.#d = deps;
    this.camera = opts.camera;
    this.config = opts.config;
    this.#onMotion = opts.onMotion;
    this.#now = deps.now ?? Date.now;
    this.#log = deps.logger.child({ motion: opts.camera });
    const { width, fps } = opts.config;
    const height = analysisHeight(width);
    this.#thresholds = thresholdsFor(opts.config.sensitivity);
    this.#timing = timingFor(fps, opts.config.minDurationSeconds, opts.config.endAfterSeconds);
    this.#reader = new RawFrameReader(width * height);
    this.#comparer = new FrameComparer(rasterizeMask(opts.config.zones, width, height), this.#thresholds.pixelDelta);
    this.#machine = new MotionStateMachine(this.#timing);
    // A stall the FFmpeg survives (shorter than the stuck limit) keeps its backlog's spacing.
    this.#clock = new FrameClock(fps, deps.stuckAfterMs ?? STUCK_AFTER_MS);
    const name = `ffmpeg:${opts.camera}:motion`;
    const progress = new ProgressParser();
    const onProgress = deps.onProgress;
    this.#proc = new ManagedProcess({
      name,
      command: deps.ffmpegBin,
      args: motionArgs(opts.input, { fps, width, height, ...(onProgress ? { progressFd: 3 } : {}) }),
      bus: deps.bus,
      logger: deps.logger,
      redactor: deps.redactor,
      stopMethod: 'SIGINT',
      stopGraceMs: 1000,
      killGraceMs: 2000,
      stuckAfterMs: deps.stuckAfterMs ?? STUCK_AFTER_MS,
      policy: deps.policy ?? { baseDelayMs: 1000, maxDelayMs: 30_000, maxRestarts: 100, windowMs: 600_000 },
      lineLevel: () => 'debug',
      ...(deps.pidDir ? { pidDir: deps.pidDir } : {}),
      ...(onProgress
        ? {
            onProgressLine: (line: string) => {
              const block = progress.push(line);
              if (block) onProgress(name, block);
            },
          }
        : {}),
      onStdoutData: (chunk) => this.#onData(chunk),
    });
  }

  /** The supervised FFmpeg (for the metrics sampler and tests). */
  get process(): ManagedProcess {
    return this.#proc;
  }

  /** Starts reading (no-op when running). Resolves once the FFmpeg is spawned. */
  async start(): Promise<void> {
    if (this.#tick === null) {
      this.#tick = setInterval(() => this.#onTick(), TICK_MS);
      this.#tick.unref();
    }
    this.#release ??= this.#d.acquireInternalReader?.(this.camera) ?? null;
    await this.#proc.start();
  }

  /** Stops the FFmpeg (its whole process group is reaped) and ends an event in progress. Idempotent. */
  async stop(): Promise<void> {
    if (this.#tick !== null) clearInterval(this.#tick);
    this.#tick = null;
    await this.#proc.stop();
    this.#release?.();
    this.#release = null;
    this.#reader.reset();
    this.#comparer.reset();
    this.#clock.reset();
    this.#emit(this.#machine.finish());
    this.#frameTimes = [];
    this.#frameScores = [];
  }

  status(): MotionStatus {
    const snap = this.#proc.snapshot();
    const now = this.#now();
    const recent = this.#frameTimes.filter((t) => now - t <= FPS_WINDOW_MS);
    const recentScores = this.#frameScores
      .slice(this.#frameScores.length - recent.length)
      .filter((s) => !Number.isNaN(s));
    const round = (n: number) => Math.round(n * 1000) / 1000;
    const first = recent[0];
    const fps = recent.length >= 2 && first !== undefined ? ((recent.length - 1) * 1000) / Math.max(1, now - first) : 0;
    return {
      camera: this.camera,
      process: snap.state,
      running: snap.state === 'running',
      healthy:
        snap.state === 'running' &&
        this.#lastFrameAt !== null &&
        now - this.#lastFrameAt <= Math.max(5000, 3000 / this.config.fps),
      pid: snap.pid,
      restarts: snap.restarts,
      lastError: snap.lastError,
      motion: this.#machine.active,
      fps: Math.round(fps * 100) / 100,
      lastScore: this.#lastScore === null ? null : round(this.#lastScore),
      recentPeakScore: recentScores.length === 0 ? null : round(Math.max(...recentScores)),
      lastFrameAt: this.#lastFrameAt === null ? null : new Date(this.#lastFrameAt).toISOString(),
      frames: this.#frames,
      analysisCpuMs: Math.round(this.#analysisCpuUs / 100) / 10,
      thresholds: this.#thresholds,
    };
  }

  #onData(chunk: Buffer): void {
    const pid = this.#proc.pid;
    if (pid !== this.#lastPid) {
      // A new FFmpeg run: its first frame is not comparable with the last one of the previous run.
      this.#lastPid = pid;
      this.#reader.reset();
      this.#comparer.reset();
      this.#clock.reset();
    }
    const cpu0 = process.cpuUsage();
    this.#reader.push(chunk, (frame) => this.#onFrame(frame));
    const cpu = process.cpuUsage(cpu0);
    this.#analysisCpuUs += cpu.user + cpu.system;
  }

  #onFrame(frame: Uint8Array): void {
    const arrival = this.#now();
    const at = this.#clock.frame(arrival);
    this.#frames++;
    this.#lastFrameAt = arrival;
    const score = this.#comparer.compare(frame);
    this.#frameTimes.push(arrival);
    this.#frameScores.push(score ?? Number.NaN);
    while (this.#frameTimes.length > 0 && arrival - (this.#frameTimes[0] as number) > FPS_WINDOW_MS) {
      this.#frameTimes.shift();
      this.#frameScores.shift();
    }
    if (score === null) return;
    this.#lastScore = score;
    this.#emit(this.#machine.sample(isMoving(score, this.#thresholds), score, at));
  }

  #onTick(): void {
    this.#emit(this.#machine.tick(this.#clock.now(this.#now())));
  }

  #emit(transition: ReturnType<MotionStateMachine['tick']>): void {
    if (transition === null) return;
    const event: MotionEvent = {
      camera: this.camera,
      state: transition.state,
      at: new Date(transition.atMs).toISOString(),
      score: Math.round(transition.peakScore * 1000) / 1000,
    };
    this.#log.info({ state: event.state, at: event.at, score: event.score }, `motion ${event.state}`);
    try {
      this.#onMotion(event);
    } catch (err) {
      this.#log.warn({ err }, 'onMotion callback threw');
    }
  }
}
