import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import type { EngineHealth, EngineName } from '../contract/index.js';
import type { EventBus } from '../events/bus.js';
import { LineLevels } from '../log/engine-lines.js';
import type { Logger } from '../log/logger.js';
import type { SecretRedactor } from '../log/redact.js';
import { ManagedProcess } from '../supervisor/managed-process.js';
import type { RestartPolicyOptions } from '../supervisor/restart-policy.js';
import type { EngineBinaries } from './binaries.js';
import { Go2rtcClient, MediamtxClient } from './clients.js';
import { buildGo2rtcConfig } from './go2rtc-config.js';
import { buildMediamtxConfig } from './mediamtx-config.js';
import { assertDistinctPorts, type EnginePorts } from './ports.js';

export interface EngineTiming {
  healthIntervalMs?: number;
  unhealthyAfterMs?: number;
  policy?: RestartPolicyOptions;
}

export interface EnginesOptions {
  bus: EventBus;
  logger: Logger;
  redactor: SecretRedactor;
  binaries: EngineBinaries;
  /** Where the generated engine config files and pid files live (under the data dir). */
  workDir: string;
  recordDir: string;
  ports: EnginePorts;
  webrtcBind: string;
  webrtcCandidates: readonly string[];
  rtspBind: string;
  logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error';
  timing?: EngineTiming;
  /** Recorded segment length in seconds (default 600). */
  segmentSeconds?: number;
  /** Credentials other hosts need to read the RTSP restream (HA live cameras); none: loopback only. */
  rtspReader?: { user: string; pass: string } | null;
}

export type { EngineHealth, EngineName } from '../contract/index.js';

/**
 * go2rtc and MediaMTX as supervised processes. "Running" means the engine's API answered
 * (go2rtc GET /api, MediaMTX GET /v3/info), not merely that the process spawned.
 */
export class Engines {
  readonly go2rtc: ManagedProcess;
  readonly mediamtx: ManagedProcess;
  readonly go2rtcApi: Go2rtcClient;
  readonly mediamtxApi: MediamtxClient;
  readonly ports: EnginePorts;
  readonly binaries: EngineBinaries;
  readonly #opts: EnginesOptions;

  constructor(opts: EnginesOptions) {
    assertDistinctPorts(opts.ports);
    this.#opts = opts;
    this.ports = opts.ports;
    this.binaries = opts.binaries;
    this.go2rtcApi = new Go2rtcClient(opts.ports.go2rtcApi);
    this.mediamtxApi = new MediamtxClient(opts.ports.mediamtxApi);
    const common = {
      bus: opts.bus,
      logger: opts.logger,
      redactor: opts.redactor,
      pidDir: join(opts.workDir, 'pids'),
      ...(opts.timing?.healthIntervalMs !== undefined ? { healthIntervalMs: opts.timing.healthIntervalMs } : {}),
      ...(opts.timing?.unhealthyAfterMs !== undefined ? { unhealthyAfterMs: opts.timing.unhealthyAfterMs } : {}),
      ...(opts.timing?.policy ? { policy: opts.timing.policy } : {}),
    };
    const go2rtcLevels = new LineLevels();
    const mediamtxLevels = new LineLevels();
    this.go2rtc = new ManagedProcess({
      ...common,
      lineLevel: (line) => go2rtcLevels.level(line, Date.now()),
      name: 'go2rtc',
      command: opts.binaries.go2rtc,
      args: ['-c', join(opts.workDir, 'go2rtc.yaml')],
      cwd: opts.workDir,
      healthCheck: async (signal) => {
        await this.go2rtcApi.info(signal);
        return true;
      },
    });
    this.mediamtx = new ManagedProcess({
      ...common,
      lineLevel: (line) => mediamtxLevels.level(line, Date.now()),
      name: 'mediamtx',
      command: opts.binaries.mediamtx,
      args: [join(opts.workDir, 'mediamtx.yml')],
      cwd: opts.workDir,
      healthCheck: async (signal) => {
        await this.mediamtxApi.info(signal);
        return true;
      },
    });
  }

  /** Writes the boot configs and starts both engines. */
  async start(): Promise<void> {
    const o = this.#opts;
    await mkdir(join(o.workDir, 'pids'), { recursive: true });
    await mkdir(o.recordDir, { recursive: true });
    const go2rtcConfig = buildGo2rtcConfig({
      ports: o.ports,
      ffmpegBin: o.binaries.ffmpeg,
      webrtcBind: o.webrtcBind,
      webrtcCandidates: o.webrtcCandidates,
      logLevel: o.logLevel,
    });
    const mediamtxConfig = buildMediamtxConfig({
      ports: o.ports,
      recordDir: o.recordDir,
      rtspBind: o.rtspBind,
      logLevel: o.logLevel,
      ...(o.segmentSeconds !== undefined ? { segmentSeconds: o.segmentSeconds } : {}),
      rtspReader: o.rtspReader ?? null,
    });
    // go2rtc edits its file in place when streams are added through its API, and its editor
    // cannot patch flow-style YAML: write block YAML. MediaMTX never writes its file; JSON keeps
    // values such as `rtspEncryption: "no"` strings for its YAML 1.1 parser.
    await writeFile(join(o.workDir, 'go2rtc.yaml'), toYaml(go2rtcConfig), { mode: 0o600 });
    await writeFile(join(o.workDir, 'mediamtx.yml'), `${JSON.stringify(mediamtxConfig, null, 2)}\n`, { mode: 0o600 });
    this.mediamtx.start();
    this.go2rtc.start();
  }

  /** Shutdown begins: an engine that exits from now on is not restarted. */
  holdRestarts(): void {
    this.go2rtc.holdRestarts();
    this.mediamtx.holdRestarts();
  }

  async stop(): Promise<void> {
    this.holdRestarts();
    await Promise.all([this.go2rtc.stop(), this.mediamtx.stop()]);
  }

  get(name: EngineName): ManagedProcess {
    return name === 'go2rtc' ? this.go2rtc : this.mediamtx;
  }

  health(): Record<EngineName, EngineHealth> {
    return { go2rtc: this.go2rtc.snapshot(), mediamtx: this.mediamtx.snapshot() };
  }
}
