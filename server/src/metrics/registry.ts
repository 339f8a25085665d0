/**
 * Camstack's Prometheus metrics: a private prom-client Registry (never the global one) holding the Node
 * server's default metrics, the supervised processes, FFmpeg job progress and camera status.
 */
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { CameraStatus } from '../cameras/status.js';
import type { EventBus, ProcessState } from '../events/bus.js';
import type { FfmpegProgress } from './progress.js';

/**
 * Prefix of prom-client's default Node metrics. Not plain `camstack_`: the defaults include
 * `process_cpu_seconds_total`, `process_resident_memory_bytes` and `process_open_fds`, which would collide with
 * the per-process series below (`camstack_process_*{process}`). The server itself appears as
 * `camstack_node_process_cpu_seconds_total`, `camstack_node_nodejs_heap_size_used_bytes`, ….
 */
export const DEFAULT_METRICS_PREFIX = 'camstack_node_';

/** What the registry needs to know about a supervised process at one sample. */
export interface ProcessObservation {
  name: string;
  state: ProcessState;
  restarts: number;
  /** Resource usage of the process tree, null when no child process is alive. */
  stats: { cpuSecondsTotal: number; rssBytes: number; openFds: number } | null;
}

export interface MetricsRegistryOptions {
  /** When given, `camera.status` updates the camera series and `camera.removed` drops them. */
  bus?: EventBus;
  /** Collect prom-client's default Node process metrics (default true). */
  defaultMetrics?: boolean;
}

type Labels<L extends string> = Partial<Record<L, string>>;

/** A counter whose absolute value comes from elsewhere (/proc, FFmpeg): drop the series and add the value. */
function setCounter<L extends string>(counter: Counter<L>, labels: Labels<L>, value: number): void {
  counter.remove(labels);
  counter.inc(labels, Number.isFinite(value) && value > 0 ? value : 0);
}

/** Sets the gauge, or removes the series when the value is unknown. */
function setOrRemove<L extends string>(gauge: Gauge<L>, labels: Labels<L>, value: number | null): void {
  if (value === null || !Number.isFinite(value)) gauge.remove(labels);
  else gauge.set(labels, value);
}

export class MetricsRegistry {
  /** The underlying prom-client registry (private to this instance). */
  readonly registry: Registry;

  readonly #processCpu: Counter<'process'>;
  readonly #processRss: Gauge<'process'>;
  readonly #processFds: Gauge<'process'>;
  readonly #processRestarts: Counter<'process'>;
  readonly #processUp: Gauge<'process'>;

  readonly #ffmpegFps: Gauge<'job'>;
  readonly #ffmpegSpeed: Gauge<'job'>;
  readonly #ffmpegBitrate: Gauge<'job'>;
  readonly #ffmpegFrames: Counter<'job'>;
  readonly #ffmpegDropped: Counter<'job'>;
  readonly #ffmpegDup: Counter<'job'>;

  readonly #cameraUp: Gauge<'camera'>;
  readonly #cameraViewers: Gauge<'camera'>;
  readonly #cameraBitrate: Gauge<'camera'>;
  readonly #cameraFps: Gauge<'camera'>;

  readonly #unsubscribe: Array<() => void> = [];

  constructor(options: MetricsRegistryOptions = {}) {
    this.registry = new Registry();
    const registers = [this.registry];
    if (options.defaultMetrics ?? true) {
      collectDefaultMetrics({ register: this.registry, prefix: DEFAULT_METRICS_PREFIX });
    }
    const gauge = <L extends string>(name: string, help: string, label: L): Gauge<L> =>
      new Gauge({ name, help, labelNames: [label], registers });
    const counter = <L extends string>(name: string, help: string, label: L): Counter<L> =>
      new Counter({ name, help, labelNames: [label], registers });

    this.#processCpu = counter(
      'camstack_process_cpu_seconds_total',
      'CPU seconds used by a supervised process and its descendants',
      'process',
    );
    this.#processRss = gauge(
      'camstack_process_resident_memory_bytes',
      'Resident memory of a supervised process and its descendants',
      'process',
    );
    this.#processFds = gauge(
      'camstack_process_open_fds',
      'Open file descriptors of a supervised process and its descendants',
      'process',
    );
    this.#processRestarts = counter(
      'camstack_process_restarts_total',
      'Restarts of a supervised process since Camstack started',
      'process',
    );
    this.#processUp = gauge('camstack_process_up', '1 when the supervised process is running', 'process');

    this.#ffmpegFps = gauge('camstack_ffmpeg_fps', 'Average frames per second reported by an FFmpeg job', 'job');
    this.#ffmpegSpeed = gauge(
      'camstack_ffmpeg_speed',
      'Processing speed of an FFmpeg job relative to real time',
      'job',
    );
    this.#ffmpegBitrate = gauge('camstack_ffmpeg_bitrate_kbps', 'Output bitrate of an FFmpeg job in kbit/s', 'job');
    this.#ffmpegFrames = counter('camstack_ffmpeg_frames_total', 'Frames written by an FFmpeg job', 'job');
    this.#ffmpegDropped = counter('camstack_ffmpeg_dropped_frames_total', 'Frames dropped by an FFmpeg job', 'job');
    this.#ffmpegDup = counter('camstack_ffmpeg_dup_frames_total', 'Frames duplicated by an FFmpeg job', 'job');

    this.#cameraUp = gauge('camstack_camera_up', '1 when the camera is streaming', 'camera');
    this.#cameraViewers = gauge('camstack_camera_viewers', 'Live viewers of the camera', 'camera');
    this.#cameraBitrate = gauge('camstack_camera_bitrate_kbps', 'Incoming bitrate of the camera in kbit/s', 'camera');
    this.#cameraFps = gauge('camstack_camera_fps', 'Incoming frame rate of the camera', 'camera');

    const bus = options.bus;
    if (bus !== undefined) {
      this.#unsubscribe.push(
        bus.on('camera.status', ({ status }) => this.observeCameraStatus(status), 'metrics'),
        bus.on('camera.removed', ({ camera }) => this.removeCamera(camera.id), 'metrics'),
      );
    }
  }

  /** Content-Type of text(): `text/plain; version=0.0.4; charset=utf-8`. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** All series in the Prometheus text exposition format. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  observeProcess(p: ProcessObservation): void {
    const labels = { process: p.name };
    this.#processUp.set(labels, p.state === 'running' ? 1 : 0);
    setCounter(this.#processRestarts, labels, p.restarts);
    if (p.stats === null) {
      this.#processCpu.remove(labels);
      this.#processRss.remove(labels);
      this.#processFds.remove(labels);
      return;
    }
    setCounter(this.#processCpu, labels, p.stats.cpuSecondsTotal);
    this.#processRss.set(labels, p.stats.rssBytes);
    this.#processFds.set(labels, p.stats.openFds);
  }

  /** Drops every series of a supervised process that is gone for good. */
  removeProcess(name: string): void {
    const labels = { process: name };
    for (const metric of [this.#processCpu, this.#processRestarts]) metric.remove(labels);
    for (const metric of [this.#processRss, this.#processFds, this.#processUp]) metric.remove(labels);
  }

  observeProgress(job: string, progress: FfmpegProgress): void {
    const labels = { job };
    setOrRemove(this.#ffmpegFps, labels, progress.fps);
    setOrRemove(this.#ffmpegSpeed, labels, progress.speed);
    setOrRemove(this.#ffmpegBitrate, labels, progress.bitrateKbps);
    for (const [counter, value] of [
      [this.#ffmpegFrames, progress.frame],
      [this.#ffmpegDropped, progress.dropFrames],
      [this.#ffmpegDup, progress.dupFrames],
    ] as const) {
      if (value === null) counter.remove(labels);
      else setCounter(counter, labels, value);
    }
  }

  /** Drops every series of an FFmpeg job that is gone. */
  removeJob(job: string): void {
    const labels = { job };
    for (const metric of [this.#ffmpegFps, this.#ffmpegSpeed, this.#ffmpegBitrate]) metric.remove(labels);
    for (const metric of [this.#ffmpegFrames, this.#ffmpegDropped, this.#ffmpegDup]) metric.remove(labels);
  }

  observeCameraStatus(status: CameraStatus): void {
    const labels = { camera: status.id };
    this.#cameraUp.set(labels, status.state === 'streaming' ? 1 : 0);
    this.#cameraViewers.set(labels, status.viewers);
    setOrRemove(this.#cameraBitrate, labels, status.bitrateKbps);
    setOrRemove(this.#cameraFps, labels, status.fps);
  }

  /** Drops every series of a camera that was removed. */
  removeCamera(id: string): void {
    const labels = { camera: id };
    for (const metric of [this.#cameraUp, this.#cameraViewers, this.#cameraBitrate, this.#cameraFps]) {
      metric.remove(labels);
    }
  }

  /** Unsubscribes from the bus and drops every metric. */
  close(): void {
    for (const off of this.#unsubscribe.splice(0)) off();
    this.registry.clear();
  }
}
