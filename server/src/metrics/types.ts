/** Shapes of the metrics snapshot (the `metrics.tick` event and GET /api/metrics.json). Types only. */
import type { ProcessState } from '../events/bus.js';
import type { FfmpegProgress } from './progress.js';

export interface ProcessMetrics {
  /** Supervisor name: "go2rtc", "mediamtx", "ffmpeg:front_door:clip"… */
  name: string;
  pid: number | null;
  state: ProcessState;
  restarts: number;
  /** CPU use since the previous sample in percent of one core (200 = two cores); null on the first sample. */
  cpuPercent: number | null;
  /** CPU seconds of the process and its descendants; null while it has no live child process. */
  cpuSecondsTotal: number | null;
  rssBytes: number | null;
  openFds: number | null;
  /** Members of the process tree (the process plus descendants, e.g. go2rtc's FFmpeg children). */
  processCount: number | null;
  /** Latest FFmpeg progress block, for FFmpeg jobs that report one. */
  progress: FfmpegProgress | null;
}

export interface SystemMetrics {
  /** 1, 5 and 15 minute load averages. */
  loadavg: [number, number, number];
  memTotalBytes: number;
  /** Memory available to new processes (os.freemem: MemAvailable on Linux). */
  memFreeBytes: number;
  cpuCount: number;
}

export interface MetricsSnapshot {
  /** ISO time of the sample. */
  at: string;
  system: SystemMetrics;
  processes: ProcessMetrics[];
}
