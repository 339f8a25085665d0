/**
 * Loading the configuration: `/data/options.json` (Home Assistant add-on options) plus the
 * cameras YAML file, validated all at once into one normalised, camelCase {@link Config}.
 * Every problem found is reported together in a {@link ConfigError}. I/O happens here only.
 */

import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { Document, parseDocument } from 'yaml';
import { syncDir } from '../fs-sync.js';
import { INTEGRATION_SECRET_KEYS, type IntegrationConfig, integrationConfig } from '../hass/options.js';
import {
  ABSOLUTE_PATH_PATTERN,
  CAMERA_ENABLED_DEFAULT,
  CAMERA_ID_PATTERN,
  type CameraConfig,
  CameraConfigSchema,
  type CamerasFile,
  CamerasFileSchema,
  LOG_LEVELS,
  type LogLevel,
  NO_CONTROL_PATTERN,
  NON_BLANK_PATTERN,
  OPTION_DEFAULTS,
  type Options,
  OptionsSchema,
  RECORDING_DEFAULTS,
  TEXT_PATTERN,
  WEBRTC_CANDIDATE_PATTERN,
} from './schema.js';
import { detectSourceType, redactCredentials, type SourceType, splitCredentials, validateSourceUrl } from './source.js';

export const DEFAULT_OPTIONS_PATH = '/data/options.json';

export interface RecordingSettings {
  continuous: boolean;
  retainDays: number;
  clipRetainDays: number;
  preRollSeconds: number;
  clipSeconds: number;
}

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
  /** Overrides `CAMSTACK_OPTIONS` and the default `/data/options.json`. */
  optionsPath?: string;
  /** Environment to read overrides from; defaults to `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
}

const OPTIONS_LABEL = 'options.json';
const SECRET_KEYS = new Set<string>(['password', 'api_token', 'username', ...INTEGRATION_SECRET_KEYS]);
const URL_KEYS = new Set(['source', 'substream']);

const ajv = new Ajv({ allErrors: true, strict: false, verbose: true });
const validateOptions: ValidateFunction<Options> = ajv.compile<Options>(OptionsSchema);
const validateCamerasFile: ValidateFunction<CamerasFile> = ajv.compile<CamerasFile>(CamerasFileSchema);
const validateCameraSchema: ValidateFunction<CameraConfig> = ajv.compile<CameraConfig>(CameraConfigSchema);

function makeProblem(source: string, pointer: string, message: string): ConfigProblem {
  return { path: pointer === '' ? source : `${source} ${pointer}`, message, source, pointer };
}

// ---------------------------------------------------------------------------------------------
// Ajv errors → problems

function pointerSegments(instancePath: string): string[] {
  if (instancePath === '') return [];
  return instancePath
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function formatPointer(segments: readonly string[]): string {
  let out = '';
  for (const seg of segments) {
    if (/^\d+$/.test(seg)) out += `[${seg}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (Number.isInteger(value)) return 'an integer';
  return typeName(typeof value);
}

/** A short, credential-free rendering of an offending value (secrets show only their kind). */
function formatValue(value: unknown, key: string | undefined): string {
  if (key !== undefined && SECRET_KEYS.has(key)) return kindOf(value);
  let v = value;
  if (typeof v === 'string' && key !== undefined && URL_KEYS.has(key)) v = redactCredentials(v);
  let text: string;
  try {
    text = JSON.stringify(v) ?? String(v);
  } catch {
    // Too deep to render (a body of 30 000 nested arrays overflows the stack), or not JSON.
    text = kindOf(v);
  }
  return text.length > 80 ? `${text.slice(0, 77)}…` : text;
}

const TYPE_NAMES: Record<string, string> = {
  integer: 'an integer',
  number: 'a number',
  string: 'a string',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping of keys to values',
  null: 'null',
};

function typeName(t: unknown): string {
  if (Array.isArray(t)) return t.map(typeName).join(' or ');
  return typeof t === 'string' ? (TYPE_NAMES[t] ?? t) : String(t);
}

/** A slug suggestion for a bad camera id: "Front Door" → "front_door". */
function suggestId(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const slug = value
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 64);
  return slug === '' ? null : slug;
}

function numberRange(parent: Record<string, unknown>): string {
  const min = parent.minimum;
  const max = parent.maximum;
  const kind = parent.type === 'integer' ? 'an integer' : 'a number';
  if (typeof min === 'number' && typeof max === 'number') return `must be ${kind} from ${min} to ${max}`;
  if (typeof min === 'number') return `must be ${kind} of at least ${min}`;
  return `must be ${kind} of at most ${String(max)}`;
}

function messageFor(err: ErrorObject, key: string | undefined): { message: string; withValue: boolean } {
  const params: Record<string, unknown> = err.params;
  const parent: Record<string, unknown> = err.parentSchema ?? {};
  switch (err.keyword) {
    case 'type':
      return { message: `must be ${typeName(params.type)}`, withValue: true };
    case 'enum': {
      const allowed = Array.isArray(params.allowedValues) ? params.allowedValues.map(String) : [];
      return { message: `must be one of ${allowed.join(', ')}`, withValue: true };
    }
    case 'pattern':
      switch (params.pattern) {
        case NON_BLANK_PATTERN:
          return { message: 'must not be blank', withValue: false };
        case TEXT_PATTERN:
          return {
            message:
              typeof err.data === 'string' && !/\S/.test(err.data)
                ? 'must not be blank'
                : 'must not hold control characters',
            withValue: false,
          };
        case NO_CONTROL_PATTERN:
          return { message: 'must not hold control characters', withValue: false };
        case ABSOLUTE_PATH_PATTERN:
          return { message: 'must be an absolute path', withValue: true };
        case WEBRTC_CANDIDATE_PATTERN:
          return { message: 'must be host or host:port (IPv6 in brackets)', withValue: true };
        default:
          return { message: `must match ${String(params.pattern)}`, withValue: true };
      }
    case 'minLength':
      return params.limit === 1
        ? { message: 'must not be empty', withValue: false }
        : { message: `must be at least ${String(params.limit)} characters`, withValue: !SECRET_KEYS.has(key ?? '') };
    case 'maxLength': {
      const length = typeof err.data === 'string' ? ` (got ${err.data.length})` : '';
      return { message: `must be at most ${String(params.limit)} characters${length}`, withValue: false };
    }
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return { message: numberRange(parent), withValue: true };
    case 'maxItems':
      return { message: `must have at most ${String(params.limit)} entries`, withValue: false };
    case 'minItems':
      return { message: `must have at least ${String(params.limit)} entries`, withValue: false };
    default:
      return { message: err.message ?? `is invalid (${err.keyword})`, withValue: true };
  }
}

function isNullBranch(schema: unknown): boolean {
  return typeof schema === 'object' && schema !== null && (schema as Record<string, unknown>).type === 'null';
}

export interface AjvProblemsOptions {
  /**
   * How an unknown property is reported. `key` (the file loader): at the object holding it, as
   * `unknown key "foo"`. `field` (the HTTP API): at the property itself, as `unknown field "foo"`.
   */
  unknownProperty?: 'key' | 'field';
}

/**
 * Turn Ajv errors into problems. Nullable unions (`anyOf: [T, null]`) read as "must be … or null".
 * Needs errors from an Ajv instance created with `verbose: true` (values, ranges and unions).
 */
export function ajvProblems(
  errors: readonly ErrorObject[],
  source: string,
  options: AjvProblemsOptions = {},
): ConfigProblem[] {
  const skip = new Set<ErrorObject>();
  const orNull = new Set<ErrorObject>();
  for (const err of errors) {
    if (err.keyword !== 'anyOf') continue;
    const branches = Array.isArray(err.schema) ? err.schema : [];
    const children = errors.filter((e) => e !== err && e.schemaPath.startsWith(`${err.schemaPath}/`));
    if (branches.some(isNullBranch)) {
      skip.add(err);
      for (const child of children) {
        if (child.keyword === 'type' && child.params.type === 'null' && child.instancePath === err.instancePath) {
          skip.add(child);
        } else if (child.instancePath === err.instancePath) {
          orNull.add(child);
        }
      }
    } else {
      for (const child of children) skip.add(child);
    }
  }

  // An empty string would also fail its pattern; "must not be empty" says it all.
  const empty = new Set(errors.filter((e) => e.keyword === 'minLength').map((e) => e.instancePath));
  for (const err of errors) if (err.keyword === 'pattern' && empty.has(err.instancePath)) skip.add(err);

  const problems: ConfigProblem[] = [];
  const seen = new Set<string>();
  for (const err of errors) {
    if (skip.has(err)) continue;
    const segments = pointerSegments(err.instancePath);
    let key = segments.at(-1);
    let message: string;
    let withValue = false;
    if (err.keyword === 'required') {
      const missing = String(err.params.missingProperty);
      segments.push(missing);
      key = missing;
      message = 'is required';
    } else if (err.keyword === 'additionalProperties') {
      const unknown = String(err.params.additionalProperty);
      if (options.unknownProperty === 'field') {
        segments.push(unknown);
        message = `unknown field ${JSON.stringify(unknown)}`;
      } else {
        message = `unknown key ${JSON.stringify(unknown)}`;
      }
    } else {
      ({ message, withValue } = messageFor(err, key));
      if (orNull.has(err)) message += ' or null';
    }
    if (withValue && err.data !== undefined) message += ` (got ${formatValue(err.data, key)})`;
    if (
      err.keyword === 'type' &&
      String(err.params.type).includes('string') &&
      (typeof err.data === 'number' || typeof err.data === 'boolean')
    ) {
      message += ' — put the value in quotes';
    }
    if (err.keyword === 'pattern' && err.params.pattern === CAMERA_ID_PATTERN) {
      const suggestion = suggestId(err.data);
      if (suggestion !== null) message += ` — e.g. ${JSON.stringify(suggestion)}`;
    }
    const problem = makeProblem(source, formatPointer(segments), message);
    const id = formatProblem(problem);
    if (seen.has(id)) continue;
    seen.add(id);
    problems.push(problem);
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Reading files

function errnoCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code = (err as { code: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function readText(path: string): { text: string } | { missing: true } | { error: string } {
  try {
    return { text: readFileSync(path, 'utf8') };
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return { missing: true };
    return { error: `cannot be read: ${errnoCode(err) ?? errorText(err)}` };
  }
}

/** options.json; a missing file means all defaults. */
function readOptions(path: string, problems: ConfigProblem[]): unknown {
  const read = readText(path);
  if ('missing' in read) return {};
  if ('error' in read) {
    problems.push(makeProblem(`${OPTIONS_LABEL} (${path})`, '', read.error));
    return undefined;
  }
  let data: unknown;
  try {
    data = JSON.parse(read.text);
  } catch (err) {
    problems.push(makeProblem(`${OPTIONS_LABEL} (${path})`, '', `is not valid JSON: ${errorText(err)}`));
    return undefined;
  }
  if (!isPlainObject(data)) {
    problems.push(makeProblem(OPTIONS_LABEL, '', 'must be a JSON object'));
    return undefined;
  }
  return data;
}

/** First line of a `yaml` error message, without its " at line L, column C:" suffix. */
function yamlMessage(message: string): string {
  const first = message.split('\n', 1)[0] ?? message;
  return first.replace(/ at line \d+, column \d+:?$/, '').replace(/:$/, '');
}

interface CamerasFileRef {
  path: string;
  /** `cameras_file (/config/cameras.yaml)` or `CAMSTACK_CAMERAS_FILE (/x.yaml)`. */
  label: string;
  explicit: boolean;
}

/**
 * Which cameras file to read: `CAMSTACK_CAMERAS_FILE` (resolved), else `cameras_file`, else the
 * default. "Explicit" = anything but the default path (HA always writes `cameras_file` into
 * options.json, so the key being present does not make the default path explicit). Null when
 * `cameras_file` is invalid (the schema reports that).
 */
function camerasFileRef(envValue: string | undefined, configured: unknown): CamerasFileRef | null {
  let path: string;
  let key: string;
  if (envValue !== undefined) {
    path = resolve(envValue);
    key = 'CAMSTACK_CAMERAS_FILE';
  } else if (configured === undefined) {
    path = OPTION_DEFAULTS.cameras_file;
    key = 'cameras_file';
  } else if (typeof configured === 'string' && configured.startsWith('/')) {
    path = configured;
    key = 'cameras_file';
  } else {
    return null;
  }
  return { path, label: `${key} (${path})`, explicit: path !== OPTION_DEFAULTS.cameras_file };
}

/**
 * PURE: the line (1-based) of the YAML node a problem's pointer names (`cameras[1].recording`), or
 * of the unknown key itself for `unknown key "x"`; null when the document has no such node.
 */
export function yamlLineOf(doc: Document, text: string, pointer: string, message: string): number | null {
  const segments: (string | number)[] = [];
  for (const m of pointer.matchAll(/([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]/g)) {
    if (m[1] !== undefined) segments.push(m[1]);
    else if (m[2] !== undefined) segments.push(Number(m[2]));
    else if (m[3] !== undefined) segments.push(JSON.parse(m[3]) as string);
  }
  const unknown = /^unknown key (".*")$/.exec(message)?.[1];
  if (unknown !== undefined) segments.push(JSON.parse(unknown) as string);
  for (let n = segments.length; n > 0; n--) {
    const node: unknown = doc.getIn(segments.slice(0, n), true);
    const range = (node as { range?: [number, number, number] } | undefined)?.range;
    if (range) return text.slice(0, range[0]).split('\n').length;
  }
  return null;
}

/** The cameras YAML file's `cameras` list (raw), or undefined when absent/broken. */
function readCamerasFile(
  ref: CamerasFileRef,
  problems: ConfigProblem[],
  onParsed?: (doc: Document, text: string) => void,
): unknown {
  const read = readText(ref.path);
  if ('missing' in read) {
    if (ref.explicit) problems.push(makeProblem(ref.label, '', 'does not exist'));
    return undefined;
  }
  if ('error' in read) {
    problems.push(makeProblem(ref.label, '', read.error));
    return undefined;
  }
  const doc = parseDocument(read.text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    for (const err of doc.errors) {
      const pos = err.linePos?.[0];
      const where = pos ? ` at line ${pos.line}, column ${pos.col}` : '';
      problems.push(makeProblem(ref.label, '', `YAML syntax error${where}: ${yamlMessage(err.message)}`));
    }
    return undefined;
  }
  onParsed?.(doc, read.text);
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    problems.push(makeProblem(ref.label, '', `YAML error: ${errorText(err)}`));
    return undefined;
  }
  if (data === null || data === undefined) return undefined;
  if (!validateCamerasFile(data)) {
    if (!isPlainObject(data)) {
      problems.push(makeProblem(ref.label, '', 'must be a mapping with a top-level "cameras:" list'));
    } else {
      problems.push(...ajvProblems(validateCamerasFile.errors ?? [], ref.label));
    }
  }
  return isPlainObject(data) ? data.cameras : undefined;
}

// ---------------------------------------------------------------------------------------------
// Cross-field checks

interface RawCameraList {
  origin: 'options' | 'file';
  label: string;
  cameras: readonly unknown[];
}

function cameraPointer(index: number, key?: string): string {
  return key === undefined ? `cameras[${index}]` : `cameras[${index}].${key}`;
}

function nonEmpty(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

interface Credentials {
  username: string | null;
  password: string | null;
}

/**
 * One username/password per camera, from the `username`/`password` keys and/or the userinfo of
 * `source` and `substream`. All that are given must agree; disagreements are returned (without
 * the values) as `conflicts`.
 */
interface CredentialConflict {
  field: 'username' | 'password';
  message: string;
}

function mergeCredentials(raw: Record<string, unknown>): { credentials: Credentials; conflicts: CredentialConflict[] } {
  const candidates: { from: string; username?: string | undefined; password?: string | undefined }[] = [
    { from: 'username/password', username: nonEmpty(raw.username), password: nonEmpty(raw.password) },
  ];
  for (const key of ['source', 'substream'] as const) {
    const url = raw[key];
    if (typeof url === 'string') {
      const split = splitCredentials(url);
      candidates.push({ from: `the ${key} URL`, username: split.username, password: split.password });
    }
  }
  const credentials: Credentials = { username: null, password: null };
  const conflicts: CredentialConflict[] = [];
  for (const field of ['username', 'password'] as const) {
    let first: { from: string; value: string } | null = null;
    for (const c of candidates) {
      const value = c[field];
      if (value === undefined) continue;
      if (first === null) first = { from: c.from, value };
      else if (first.value !== value) {
        conflicts.push({
          field,
          message: `the ${field} in ${c.from} differs from the one in ${first.from}; give the credentials once`,
        });
      }
    }
    credentials[field] = first?.value ?? null;
  }
  return { credentials, conflicts };
}

function checkCameras(lists: readonly RawCameraList[], allowTestSources: boolean, problems: ConfigProblem[]): void {
  const schemaFlagged = new Set(problems.map((p) => `${p.source}|${p.pointer}`));
  const ids = new Map<string, string>();
  for (const list of lists) {
    list.cameras.forEach((rawCamera, index) => {
      if (!isPlainObject(rawCamera)) return;
      const id = rawCamera.id;
      if (typeof id === 'string' && new RegExp(CAMERA_ID_PATTERN).test(id)) {
        const here = `${list.label} ${cameraPointer(index, 'id')}`;
        const previous = ids.get(id);
        if (previous !== undefined) {
          problems.push(
            makeProblem(list.label, cameraPointer(index, 'id'), `duplicate camera id "${id}" (also at ${previous})`),
          );
        } else {
          ids.set(id, here);
        }
      }

      const flagged = (key: string) => schemaFlagged.has(`${list.label}|${cameraPointer(index, key)}`);
      for (const p of cameraContentProblems(rawCamera, allowTestSources, flagged)) {
        // Credential conflicts concern the camera as a whole in the file.
        const pointer =
          p.key === 'source' || p.key === 'substream' ? cameraPointer(index, p.key) : cameraPointer(index);
        problems.push(makeProblem(list.label, pointer, p.message));
      }
    });
  }
}

/**
 * The checks of one camera beyond its schema: the source/substream URL rules and agreement of
 * the credentials given in several places. `flagged(key)` tells which keys the schema already
 * reported (their URL checks are skipped). Keys: `source`, `substream`, `username`, `password`.
 */
function cameraContentProblems(
  rawCamera: Record<string, unknown>,
  allowTestSources: boolean,
  flagged: (key: string) => boolean,
): { key: string; message: string }[] {
  const out: { key: string; message: string }[] = [];
  for (const key of ['source', 'substream'] as const) {
    const url = rawCamera[key];
    if (typeof url !== 'string' || url === '') continue;
    if (flagged(key)) continue;
    for (const message of validateSourceUrl(url, { allowTestSources })) out.push({ key, message });
  }
  for (const conflict of mergeCredentials(rawCamera).conflicts) {
    out.push({ key: conflict.field, message: conflict.message });
  }
  return out;
}

export interface ValidateCameraOptions {
  origin: 'options' | 'file';
  /** Accept demo sources (CAMSTACK_ALLOW_TEST_SOURCES). */
  allowTestSources: boolean;
  /** The document named in the problems' `source`/`path`; default `camera`. */
  label?: string;
}

/**
 * Validate ONE camera given in the file form (snake_case, credentials possibly inside the URLs)
 * with exactly the per-camera checks {@link loadConfig} applies: the schema, the source URL
 * rules and credential agreement. Checks across cameras (duplicate ids, max_cameras) are the
 * caller's. Problems' pointers are relative to the camera: `id`, `recording.retain_days`,
 * `password`, `unknown key` at the object holding it. On success, the normalised {@link Camera}.
 */
export function validateCameraConfig(
  raw: unknown,
  options: ValidateCameraOptions,
): { camera: Camera; problems: [] } | { camera: null; problems: ConfigProblem[] } {
  const label = options.label ?? 'camera';
  if (!isPlainObject(raw)) return { camera: null, problems: [makeProblem(label, '', 'must be an object')] };
  const problems = validateCameraSchema(raw) ? [] : ajvProblems(validateCameraSchema.errors ?? [], label);
  const flaggedPointers = new Set(problems.map((p) => p.pointer));
  for (const p of cameraContentProblems(raw, options.allowTestSources, (key) => flaggedPointers.has(key))) {
    problems.push(makeProblem(label, p.key, p.message));
  }
  if (problems.length > 0) return { camera: null, problems };
  const { credentials } = mergeCredentials(raw);
  return { camera: toCamera(raw as CameraConfig, options.origin, credentials), problems: [] };
}

function checkPorts(options: Options, problems: ConfigProblem[]): void {
  const ports: [string, number | null | undefined][] = [
    ['ingress_port', options.ingress_port ?? OPTION_DEFAULTS.ingress_port],
    ['rtsp_port', options.rtsp_port ?? OPTION_DEFAULTS.rtsp_port],
    ['webrtc_port', options.webrtc_port ?? OPTION_DEFAULTS.webrtc_port],
    ['api_port', options.api_port],
  ];
  const used = new Map<number, string>();
  for (const [key, port] of ports) {
    if (typeof port !== 'number') continue;
    const other = used.get(port);
    if (other !== undefined) problems.push(makeProblem(OPTIONS_LABEL, key, `${port} is also used by ${other}`));
    else used.set(port, key);
  }
  if (typeof options.api_port === 'number' && nonEmpty(options.api_token) === undefined) {
    problems.push(
      makeProblem(OPTIONS_LABEL, 'api_token', 'is required when api_port is set (the direct port needs a token)'),
    );
  }
}

/** Problems of the same document together, documents in the order first seen. */
function groupBySource(problems: readonly ConfigProblem[]): ConfigProblem[] {
  const order = new Map<string, number>();
  for (const p of problems) if (!order.has(p.source)) order.set(p.source, order.size);
  return problems
    .map((p, i) => ({ p, i }))
    .sort((a, b) => (order.get(a.p.source) ?? 0) - (order.get(b.p.source) ?? 0) || a.i - b.i)
    .map(({ p }) => p);
}

// ---------------------------------------------------------------------------------------------
// Environment

function envString(env: LoadConfigOptions['env'], name: string): string | undefined {
  const value = env?.[name];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function envFlag(env: LoadConfigOptions['env'], name: string): boolean {
  const value = envString(env, name)?.toLowerCase();
  return value === '1' || value === 'true' || value === 'yes';
}

// ---------------------------------------------------------------------------------------------
// Normalisation

function toCamera(raw: CameraConfig, origin: 'options' | 'file', credentials: Credentials): Camera {
  const source = splitCredentials(raw.source).url;
  const substream = nonEmpty(raw.substream);
  const rec = raw.recording ?? {};
  return {
    id: raw.id,
    name: raw.name.trim(),
    source,
    substream: substream === undefined ? null : splitCredentials(substream).url,
    username: credentials.username,
    password: credentials.password,
    enabled: raw.enabled ?? CAMERA_ENABLED_DEFAULT,
    sourceType: detectSourceType(source),
    origin,
    recording: {
      continuous: rec.continuous ?? RECORDING_DEFAULTS.continuous,
      retainDays: rec.retain_days ?? RECORDING_DEFAULTS.retain_days,
      clipRetainDays: rec.clip_retain_days ?? RECORDING_DEFAULTS.clip_retain_days,
      preRollSeconds: rec.pre_roll_seconds ?? RECORDING_DEFAULTS.pre_roll_seconds,
      clipSeconds: rec.clip_seconds ?? RECORDING_DEFAULTS.clip_seconds,
    },
  };
}

/**
 * Load and validate the whole configuration. Throws {@link ConfigError} listing every problem.
 *
 * - options: `optionsPath`, else `CAMSTACK_OPTIONS`, else `/data/options.json`; missing = defaults.
 * - cameras file: `CAMSTACK_CAMERAS_FILE`, else `cameras_file`. Missing at the default path = no
 *   cameras; missing at any other (explicitly configured) path = error.
 * - env overrides (development): `CAMSTACK_MEDIA_DIR`, `CAMSTACK_DATA_DIR` (resolved against the
 *   working directory), `CAMSTACK_LOG_LEVEL`, `CAMSTACK_ALLOW_TEST_SOURCES=1`.
 * - `CAMSTACK_API_PORT` (the add-on image sets 8098): the direct API port used when `api_token`
 *   is set and `api_port` is not, so add-on users only give a token (the host port is mapped in
 *   the add-on's Network settings).
 */
export function loadConfig(opts: LoadConfigOptions = {}): Config {
  const env = opts.env ?? process.env;
  const problems: ConfigProblem[] = [];
  const optionsPath = opts.optionsPath ?? envString(env, 'CAMSTACK_OPTIONS') ?? DEFAULT_OPTIONS_PATH;

  const rawOptions = readOptions(optionsPath, problems);
  const optionsValid = rawOptions !== undefined && validateOptions(rawOptions);
  if (rawOptions !== undefined && !optionsValid) {
    problems.push(...ajvProblems(validateOptions.errors ?? [], OPTIONS_LABEL));
  }
  const rawRecord = isPlainObject(rawOptions) ? rawOptions : {};

  // Environment overrides.
  const allowTestSources = envFlag(env, 'CAMSTACK_ALLOW_TEST_SOURCES');
  const envLogLevel = envString(env, 'CAMSTACK_LOG_LEVEL');
  if (envLogLevel !== undefined && !(LOG_LEVELS as readonly string[]).includes(envLogLevel)) {
    problems.push(
      makeProblem(
        'env',
        'CAMSTACK_LOG_LEVEL',
        `must be one of ${LOG_LEVELS.join(', ')} (got ${JSON.stringify(envLogLevel)})`,
      ),
    );
  }
  const envMediaDir = envString(env, 'CAMSTACK_MEDIA_DIR');
  const envDataDir = envString(env, 'CAMSTACK_DATA_DIR');
  const envApiPortText = envString(env, 'CAMSTACK_API_PORT');
  const envApiPort = envApiPortText === undefined ? undefined : Number(envApiPortText);
  if (envApiPort !== undefined && !(Number.isInteger(envApiPort) && envApiPort >= 1 && envApiPort <= 65535)) {
    problems.push(makeProblem('env', 'CAMSTACK_API_PORT', `must be a port from 1 to 65535 (got ${envApiPortText})`));
  }

  // The cameras file.
  const camerasRef = camerasFileRef(envString(env, 'CAMSTACK_CAMERAS_FILE'), rawRecord.cameras_file);
  let camerasDoc: { doc: Document; text: string } | null = null;
  const fileCameras = camerasRef
    ? readCamerasFile(camerasRef, problems, (doc, text) => {
        camerasDoc = { doc, text };
      })
    : undefined;

  // Cross-field checks on whatever parsed.
  const optionCameras = Array.isArray(rawRecord.cameras) ? rawRecord.cameras : [];
  const lists: RawCameraList[] = [{ origin: 'options', label: OPTIONS_LABEL, cameras: optionCameras }];
  if (camerasRef && Array.isArray(fileCameras)) {
    lists.push({ origin: 'file', label: camerasRef.label, cameras: fileCameras });
  }
  checkCameras(lists, allowTestSources, problems);

  const maxCameras = typeof rawRecord.max_cameras === 'number' ? rawRecord.max_cameras : OPTION_DEFAULTS.max_cameras;
  const total = lists.reduce((n, l) => n + l.cameras.length, 0);
  if (total > maxCameras) {
    const counts = lists.map((l) => `${l.cameras.length} in ${l.label}`).join(', ');
    problems.push(
      makeProblem(OPTIONS_LABEL, 'max_cameras', `${total} cameras are configured (${counts}), more than ${maxCameras}`),
    );
  }
  if (optionsValid) checkPorts(rawOptions, problems);

  if (problems.length > 0 || !optionsValid) {
    // A person edits the cameras file by hand: name the line of each of its problems.
    const located = camerasDoc as { doc: Document; text: string } | null;
    const withLines = problems.map((p) => {
      if (!located || !camerasRef || p.source !== camerasRef.label || p.pointer === '') return p;
      const line = yamlLineOf(located.doc, located.text, p.pointer, p.message);
      return line === null ? p : { ...p, message: `${p.message} (line ${line})` };
    });
    throw new ConfigError(groupBySource(withLines));
  }

  // Everything validated: normalise.
  const options: Options = rawOptions;
  const cameras: Camera[] = [];
  for (const list of lists) {
    for (const raw of list.cameras as CameraConfig[]) {
      const { credentials } = mergeCredentials(raw as Record<string, unknown>);
      cameras.push(toCamera(raw, list.origin, credentials));
    }
  }

  return {
    logLevel: (envLogLevel as LogLevel | undefined) ?? options.log_level ?? OPTION_DEFAULTS.log_level,
    camerasFile: camerasRef?.path ?? OPTION_DEFAULTS.cameras_file,
    mediaDir: envMediaDir !== undefined ? resolve(envMediaDir) : (options.media_dir ?? OPTION_DEFAULTS.media_dir),
    dataDir: envDataDir !== undefined ? resolve(envDataDir) : (options.data_dir ?? OPTION_DEFAULTS.data_dir),
    maxCameras: options.max_cameras ?? OPTION_DEFAULTS.max_cameras,
    onDemandGraceSeconds: options.on_demand_grace_seconds ?? OPTION_DEFAULTS.on_demand_grace_seconds,
    webrtcPort: options.webrtc_port ?? OPTION_DEFAULTS.webrtc_port,
    webrtcCandidates: [...(options.webrtc_candidates ?? OPTION_DEFAULTS.webrtc_candidates)],
    rtspPort: options.rtsp_port ?? OPTION_DEFAULTS.rtsp_port,
    apiPort: options.api_port ?? (nonEmpty(options.api_token) !== undefined ? (envApiPort ?? null) : null),
    apiToken: nonEmpty(options.api_token) ?? null,
    ingressPort: options.ingress_port ?? OPTION_DEFAULTS.ingress_port,
    storageMaxBytes: Math.round((options.storage_max_gb ?? OPTION_DEFAULTS.storage_max_gb) * 1e9),
    storageMinFreePercent: options.storage_min_free_percent ?? OPTION_DEFAULTS.storage_min_free_percent,
    allowTestSources,
    cameras,
    integrations: integrationConfig(options),
  };
}

// ---------------------------------------------------------------------------------------------
// Writing the cameras file

/** A camera in the file form (snake_case, credentials apart from the URL, defaults spelled out). */
export function cameraToFileForm(camera: Camera): CameraConfig {
  const out: CameraConfig = { id: camera.id, name: camera.name, source: camera.source };
  if (camera.substream !== null) out.substream = camera.substream;
  if (camera.username !== null) out.username = camera.username;
  if (camera.password !== null) out.password = camera.password;
  out.enabled = camera.enabled;
  out.recording = {
    continuous: camera.recording.continuous,
    retain_days: camera.recording.retainDays,
    clip_retain_days: camera.recording.clipRetainDays,
    pre_roll_seconds: camera.recording.preRollSeconds,
    clip_seconds: camera.recording.clipSeconds,
  };
  return out;
}

/**
 * Write the cameras whose origin is `file` to `path` as YAML, atomically: a temporary file in
 * the same directory (mode 0600: it may hold passwords), fsync, rename over the target, fsync
 * the directory. On failure the temporary file is removed and the old file is left untouched.
 */
export async function saveCamerasFile(path: string, cameras: readonly Camera[]): Promise<void> {
  const doc = new Document({ cameras: cameras.filter((c) => c.origin === 'file').map(cameraToFileForm) });
  doc.commentBefore =
    ' Camstack cameras. Written by Camstack when cameras are changed in its UI or API;\n' +
    ' hand edits are fine while the add-on is stopped. Camera ids must stay stable.';
  const text = doc.toString({ lineWidth: 0 });

  const dir = dirname(path);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  let renamed = false;
  try {
    const fh = await open(tmp, 'wx', 0o600);
    try {
      await fh.writeFile(text, 'utf8');
      await fh.chmod(0o600);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
    renamed = true;
    await syncDir(dir);
  } finally {
    if (!renamed) await unlink(tmp).catch(() => undefined);
  }
}
