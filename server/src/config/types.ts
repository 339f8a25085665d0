/**
 * The configuration's types: the normalised {@link Config} and {@link Camera} every part reads,
 * and the {@link ConfigProblem}s a bad file or variable produces (one line each in a
 * {@link ConfigError}). No I/O.
 */
import type { EventSettings, RecordingSettings } from '../contract/index.js';
import type { CamstackEnv } from './env.js';
import type { IntegrationConfig } from './integration-options.js';
import type { MotionConfig } from './motion.js';
import type { OnvifSettings } from './onvif-config.js';
import type { LogLevel } from './schema.js';
import type { SourceType } from './source.js';

export const DEFAULT_OPTIONS_PATH = '/data/options.json';

/** A camera's recording settings, as the API shows them too. */
export type { RecordingSettings } from '../contract/index.js';

export interface Camera {
  id: string;
  name: string;
  /** Source URL WITHOUT credentials (see `withCredentials` in source.ts for the engines). */
  source: string;
  substream: string | null;
  username: string | null;
  password: string | null;
  enabled: boolean;
  sourceType: SourceType;
  /** Where the camera is defined: the add-on options UI or the cameras file. */
  origin: 'options' | 'file';
  recording: RecordingSettings;
  /** What its events do (camera-events/). */
  events: EventSettings;
  /** Its ONVIF service (its own events), or null when off. */
  onvif: OnvifSettings | null;
  /** Camstack's own motion detector on the camera (off by default). */
  motion: MotionConfig;
}

export interface Config {
  logLevel: LogLevel;
  camerasFile: string;
  mediaDir: string;
  dataDir: string;
  maxCameras: number;
  onDemandGraceSeconds: number;
  webrtcPort: number;
  webrtcCandidates: string[];
  rtspPort: number;
  apiPort: number | null;
  apiToken: string | null;
  ingressPort: number;
  /** Cap on all recordings together, in bytes (storage_max_gb × 10^9); 0 = none. */
  storageMaxBytes: number;
  storageMinFreePercent: number;
  allowTestSources: boolean;
  cameras: Camera[];
  /** MQTT discovery, the HA websocket, HA live cameras and the RTSP reader credentials. */
  integrations: IntegrationConfig;
  /** Every `CAMSTACK_*` variable, parsed (env.ts): main.ts hands them to the parts. */
  env: CamstackEnv;
}

export interface ConfigProblem {
  /** Where: `source` plus, when not the whole document, ` pointer`. */
  path: string;
  message: string;
  /** The document: `options.json`, `cameras_file (/config/cameras.yaml)`, `CAMSTACK_CAMERAS_FILE (/x.yaml)`, `env`. */
  source: string;
  /** Location inside it, e.g. `cameras[1].id`; empty for the document itself. */
  pointer: string;
}

/** Render one problem as a line: `options.json log_level: must be …`, `options.json unknown key "foo"`. */
export function formatProblem(p: ConfigProblem): string {
  return p.pointer === '' ? `${p.path} ${p.message}` : `${p.path}: ${p.message}`;
}

export class ConfigError extends Error {
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export interface LoadConfigOptions {
  /** Overrides `CAMSTACK_OPTIONS` and its default `/data/options.json`. */
  optionsPath?: string;
  /** Environment to read overrides from; defaults to `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
}

/** The options document as problems name it. */
export const OPTIONS_LABEL = 'options.json';

export function makeProblem(source: string, pointer: string, message: string): ConfigProblem {
  return { path: pointer === '' ? source : `${source} ${pointer}`, message, source, pointer };
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
