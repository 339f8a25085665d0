/**
 * Every `CAMSTACK_*` environment variable the server reads, declared once: what it does, what
 * it takes and what it means when unset. One rule for all of them: unset or blank → the declared
 * default; surrounding spaces are ignored; any other value that is not what the variable takes is
 * a start-up problem naming the variable (`env CAMSTACK_PORT: must be …`), listed with the
 * options' problems. Pure: takes a `process.env`-like record, returns the frozen values and the
 * problems.
 *
 * Most are development and test knobs; the add-on image sets the `*_BIN` paths,
 * `CAMSTACK_API_PORT` and `CAMSTACK_RTSP_BIND` (addon/Dockerfile). A default of `null` means
 * "not set here": the option, or the part's own default the description names.
 */
import { parseAddressRange } from '../address-range.js';
import { LOG_LEVELS } from './schema.js';
import { type ConfigProblem, DEFAULT_OPTIONS_PATH, isPlainObject, makeProblem } from './types.js';

/** A value the variable does not take: what it must be instead. */
class Invalid {
  constructor(readonly expected: string) {}
}

interface Variable<T> {
  readonly description: string;
  /** What it takes, as the problem says it: `must be <takes>`. */
  readonly takes: string;
  /** The value when unset or blank. */
  readonly default: T;
  /** The trimmed, non-blank text → the value, or Invalid. */
  readonly parse: (text: string) => T | Invalid;
}

function integer<D extends number | null>(
  min: number,
  max: number | null,
  defaultValue: D,
  description: string,
): Variable<number | D> {
  const takes = max === null ? `an integer of at least ${min}` : `an integer from ${min} to ${max}`;
  return {
    description,
    takes,
    default: defaultValue,
    parse: (text) => {
      const n = /^[+-]?\d+$/.test(text) ? Number(text) : Number.NaN;
      return Number.isSafeInteger(n) && n >= min && (max === null || n <= max) ? n : new Invalid(takes);
    },
  };
}

/** Milliseconds (or seconds) of a timing knob; unset = the part's own default. */
const duration = (description: string) => integer(0, null, null, description);

function text<D extends string | null>(defaultValue: D, description: string, takes = 'text'): Variable<string | D> {
  return { description, takes, default: defaultValue, parse: (t) => t };
}

function flag(description: string): Variable<boolean> {
  const takes = '1, true, yes, 0, false or no';
  return {
    description,
    takes,
    default: false,
    parse: (t) => {
      const v = t.toLowerCase();
      if (v === '1' || v === 'true' || v === 'yes') return true;
      if (v === '0' || v === 'false' || v === 'no') return false;
      return new Invalid(takes);
    },
  };
}

function oneOf<V extends string>(values: readonly V[], description: string): Variable<V | null> {
  const takes = `one of ${values.join(', ')}`;
  return {
    description,
    takes,
    default: null,
    parse: (t) => ((values as readonly string[]).includes(t) ? (t as V) : new Invalid(takes)),
  };
}

function addressList(description: string): Variable<readonly string[] | null> {
  const takes = 'a comma-separated list of IP addresses or CIDR ranges';
  return {
    description,
    takes,
    default: null,
    parse: (t) => {
      const entries = t
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      if (entries.length === 0) return new Invalid(takes);
      for (const entry of entries) {
        const range = parseAddressRange(entry);
        if ('error' in range) return new Invalid(`${takes}; ${range.error}`);
      }
      return Object.freeze(entries);
    },
  };
}

/** The engines' ports, by their names in engines/ports.ts (`EnginePorts`). */
export const ENGINE_PORT_NAMES = [
  'go2rtcApi',
  'go2rtcRtsp',
  'webrtc',
  'mediamtxApi',
  'mediamtxRtsp',
  'mediamtxPlayback',
  'mediamtxHls',
] as const;
export type EnginePortName = (typeof ENGINE_PORT_NAMES)[number];

function enginePorts(description: string): Variable<Readonly<Partial<Record<EnginePortName, number>>>> {
  const takes = `a JSON object of ports (1 to 65535) named ${ENGINE_PORT_NAMES.join(', ')}`;
  return {
    description,
    takes,
    default: Object.freeze({}),
    parse: (t) => {
      let data: unknown;
      try {
        data = JSON.parse(t);
      } catch {
        return new Invalid(takes);
      }
      if (!isPlainObject(data)) return new Invalid(takes);
      const out: Partial<Record<EnginePortName, number>> = {};
      for (const [key, port] of Object.entries(data)) {
        const known = (ENGINE_PORT_NAMES as readonly string[]).includes(key);
        if (!known || !(Number.isInteger(port) && (port as number) >= 1 && (port as number) <= 65535)) {
          return new Invalid(takes);
        }
        out[key as EnginePortName] = port as number;
      }
      return Object.freeze(out);
    },
  };
}

const binary = (name: string) =>
  text(null, `Path of the ${name} executable. Default: the pinned build from npm run setup, else PATH.`, 'a path');

/** The declared variables, in the order of the documentation table. */
export const ENV_VARIABLES = {
  // Where the configuration and the data are.
  CAMSTACK_OPTIONS: text(DEFAULT_OPTIONS_PATH, 'The add-on options file.', 'a path'),
  CAMSTACK_CAMERAS_FILE: text(
    null,
    'The cameras YAML file (relative: to the working directory); must exist when set. Default: the cameras_file option.',
    'a path',
  ),
  CAMSTACK_MEDIA_DIR: text(null, 'Recordings, clips and snapshots (overrides media_dir).', 'a path'),
  CAMSTACK_DATA_DIR: text(null, 'The index, engine configs and pid files (overrides data_dir).', 'a path'),
  CAMSTACK_LOG_LEVEL: oneOf(LOG_LEVELS, 'Overrides the log_level option.'),
  CAMSTACK_ALLOW_TEST_SOURCES: flag('Accept the demo cameras’ camstack-test: sources (development). Default off.'),
  // Listeners.
  CAMSTACK_HOST: text('0.0.0.0', 'Address the HTTP listeners bind.', 'an address'),
  CAMSTACK_PORT: integer(0, 65535, null, 'The ingress port (0: any free port). Default: the ingress_port option.'),
  CAMSTACK_API_PORT: integer(
    1,
    65535,
    null,
    'The direct API port when api_token is set and api_port is not (the add-on image sets 8098). Default: none.',
  ),
  CAMSTACK_API_RATE_LIMIT: integer(
    0,
    null,
    null,
    'Requests per source address per minute on the direct port. Default 300.',
  ),
  CAMSTACK_INGRESS_ALLOW: addressList(
    'Who may use the ingress port. Default: the ingress proxy (172.30.32.2) in the add-on, else loopback.',
  ),
  // The engines.
  CAMSTACK_GO2RTC_BIN: binary('go2rtc'),
  CAMSTACK_MEDIAMTX_BIN: binary('MediaMTX'),
  CAMSTACK_FFMPEG_BIN: text(null, 'Path of the ffmpeg executable. Default: ffmpeg on PATH.', 'a path'),
  CAMSTACK_FFPROBE_BIN: text(null, 'Path of the ffprobe executable. Default: ffprobe on PATH.', 'a path'),
  CAMSTACK_CACHE_DIR: text(
    null,
    'Where npm run setup put the pinned engines (it reads the same variable). Default: .cache in the checkout.',
    'a path',
  ),
  CAMSTACK_ENGINE_PORTS: enginePorts(
    'The engines’ ports, as JSON, merged over the defaults (engines/ports.ts), e.g. {"go2rtcApi":31984}.',
  ),
  CAMSTACK_WEBRTC_BIND: text('', 'Address go2rtc’s WebRTC media port binds ("" = every interface).', 'an address'),
  CAMSTACK_RTSP_BIND: text(
    '127.0.0.1',
    'Address the RTSP restream binds (the add-on image sets 0.0.0.0).',
    'an address',
  ),
  CAMSTACK_SEGMENT_SECONDS: integer(1, null, null, 'Length of a recording segment in seconds. Default 600.'),
  CAMSTACK_HEALTH_INTERVAL_MS: duration('How often the engines’ health is probed. Default 5000.'),
  CAMSTACK_UNHEALTHY_AFTER_MS: duration(
    'Health failing this long (or never healthy since spawn) → kill and restart. Default 30000.',
  ),
  CAMSTACK_BACKOFF_BASE_MS: duration('First delay of the restart backoff. Default 1000.'),
  // Cameras and recordings.
  CAMSTACK_RECONCILE_MS: duration('How often both engines are checked against the cameras. Default 5000.'),
  CAMSTACK_STATUS_POLL_MS: duration('How often the cameras’ status is polled. Default 2000.'),
  CAMSTACK_MSE_WARM_MS: duration(
    'How long the MSE relay keeps an on-demand camera’s shared go2rtc stream after its last viewer. Default 30000.',
  ),
  CAMSTACK_RECORDING_SCAN_MS: duration('How often the recordings folder is scanned for new segments. Default 2000.'),
  CAMSTACK_RECORDING_FULL_SCAN_MS: duration('How often the whole recordings folder is rescanned. Default 60000.'),
  CAMSTACK_RETENTION_MS: duration('How often retention and the storage cap run. Default 60000.'),
  CAMSTACK_BUFFER_SECONDS: duration(
    'Seconds buffer segments (the pre-roll of cameras not recorded 24/7) are kept. Default 600.',
  ),
  // Home Assistant.
  CAMSTACK_MQTT_BIRTH_DELAY_MS: duration(
    'Longest random wait before announcing after Home Assistant’s birth message (shortest: 1000 or less). Default 5000.',
  ),
  CAMSTACK_MQTT_RECONNECT_MS: duration('First MQTT reconnect delay (at most 8 times it). Default 1000.'),
  CAMSTACK_MQTT_STORAGE_MS: duration('How often the storage sensors are refreshed. Default 60000.'),
  CAMSTACK_MQTT_DISCOVERY_COLLECT_MS: duration(
    'How long retained discovery configs are collected after connecting. Default 1000.',
  ),
  CAMSTACK_MQTT_MIGRATION_STEP_MS: duration('Pause between the steps of a discovery migration. Default 1500.'),
  CAMSTACK_HA_RETRY_MS: duration('First Home Assistant websocket retry delay (at most 8 times it). Default 2000.'),
} as const satisfies Record<`CAMSTACK_${string}`, Variable<unknown>>;

type Variables = typeof ENV_VARIABLES;
export type EnvName = keyof Variables;

/** The parsed variables, by name. */
export type CamstackEnv = {
  readonly [K in EnvName]: Variables[K] extends Variable<infer T> ? T : never;
};

function shown(text: string): string {
  const json = JSON.stringify(text);
  return json.length > 80 ? `${json.slice(0, 77)}…` : json;
}

/**
 * Parse every declared variable. Start only when `problems` is empty; a bad variable has its
 * default in `values`, so the caller can go on checking the rest and list every problem at once.
 */
export function parseEnv(env: Readonly<Record<string, string | undefined>>): {
  values: CamstackEnv;
  problems: ConfigProblem[];
} {
  const values: Record<string, unknown> = {};
  const problems: ConfigProblem[] = [];
  for (const [name, variable] of Object.entries(ENV_VARIABLES) as [EnvName, Variable<unknown>][]) {
    const text = env[name]?.trim();
    const value = text === undefined || text === '' ? variable.default : variable.parse(text);
    if (value instanceof Invalid) {
      problems.push(makeProblem('env', name, `must be ${value.expected} (got ${shown(text ?? '')})`));
      values[name] = variable.default;
    } else {
      values[name] = value;
    }
  }
  return { values: Object.freeze(values) as CamstackEnv, problems };
}
