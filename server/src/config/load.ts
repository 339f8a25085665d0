/**
 * Loading the configuration: `/data/options.json` (Home Assistant add-on options) plus the
 * cameras YAML file, validated all at once into one normalised, camelCase {@link Config}, with
 * the environment's overrides. Every problem found is reported together in a {@link ConfigError}.
 *
 * The parts: types.ts (Config, Camera, problems), read.ts (the two files), messages.ts (Ajv
 * errors → messages, with the line in the YAML file), checks.ts (checks beyond the schemas,
 * normalisation), writer.ts (the cameras file, atomically). This module assembles them and
 * re-exports what callers use.
 */
import { resolve } from 'node:path';
import type { Document } from 'yaml';
import { checkCameras, checkPorts, mergeCredentials, nonEmpty, type RawCameraList, toCamera } from './checks.js';
import { parseEnv } from './env.js';
import { integrationConfig } from './integration-options.js';
import { ajvProblems, groupBySource, yamlLineOf } from './messages.js';
import { camerasFileRef, readCamerasFile, readOptions } from './read.js';
import { type CameraConfig, OPTION_DEFAULTS, type Options } from './schema.js';
import {
  type Camera,
  type Config,
  ConfigError,
  type ConfigProblem,
  isPlainObject,
  type LoadConfigOptions,
  makeProblem,
  OPTIONS_LABEL,
} from './types.js';
import { validateOptions } from './validators.js';

export { type ValidateCameraOptions, validateCameraConfig } from './checks.js';
export { type AjvProblemsOptions, ajvProblems, yamlLineOf } from './messages.js';
export {
  type Camera,
  type Config,
  ConfigError,
  type ConfigProblem,
  DEFAULT_OPTIONS_PATH,
  formatProblem,
  type LoadConfigOptions,
  type RecordingSettings,
} from './types.js';
export { cameraToFileForm, saveCamerasFile } from './writer.js';

/**
 * Load and validate the whole configuration. Throws {@link ConfigError} listing every problem.
 *
 * - the environment: every `CAMSTACK_*` variable, parsed by env.ts; a bad value is a problem
 *   like a bad option. The parsed values are returned as `env` for main.ts to hand out.
 * - options: `optionsPath`, else `CAMSTACK_OPTIONS` (default `/data/options.json`); missing =
 *   defaults.
 * - cameras file: `CAMSTACK_CAMERAS_FILE`, else `cameras_file`. Missing at the default path = no
 *   cameras; missing at any other (explicitly configured) path = error.
 * - overrides (development): `CAMSTACK_MEDIA_DIR`, `CAMSTACK_DATA_DIR` (resolved against the
 *   working directory), `CAMSTACK_LOG_LEVEL`, `CAMSTACK_ALLOW_TEST_SOURCES`.
 * - `CAMSTACK_API_PORT` (the add-on image sets 8098): the direct API port used when `api_token`
 *   is set and `api_port` is not, so add-on users only give a token (the host port is mapped in
 *   the add-on's Network settings).
 */
export function loadConfig(opts: LoadConfigOptions = {}): Config {
  const env = opts.env ?? process.env;
  const problems: ConfigProblem[] = [];
  const { values: envValues, problems: envProblems } = parseEnv(env);
  const optionsPath = opts.optionsPath ?? envValues.CAMSTACK_OPTIONS;

  const rawOptions = readOptions(optionsPath, problems);
  const optionsValid = rawOptions !== undefined && validateOptions(rawOptions);
  if (rawOptions !== undefined && !optionsValid) {
    problems.push(...ajvProblems(validateOptions.errors ?? [], OPTIONS_LABEL));
  }
  const rawRecord = isPlainObject(rawOptions) ? rawOptions : {};

  // Environment overrides (after the options' problems, as they are listed).
  problems.push(...envProblems);
  const allowTestSources = envValues.CAMSTACK_ALLOW_TEST_SOURCES;
  const envMediaDir = envValues.CAMSTACK_MEDIA_DIR;
  const envDataDir = envValues.CAMSTACK_DATA_DIR;

  // The cameras file.
  const camerasRef = camerasFileRef(envValues.CAMSTACK_CAMERAS_FILE ?? undefined, rawRecord.cameras_file);
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
    logLevel: envValues.CAMSTACK_LOG_LEVEL ?? options.log_level ?? OPTION_DEFAULTS.log_level,
    camerasFile: camerasRef?.path ?? OPTION_DEFAULTS.cameras_file,
    mediaDir: envMediaDir !== null ? resolve(envMediaDir) : (options.media_dir ?? OPTION_DEFAULTS.media_dir),
    dataDir: envDataDir !== null ? resolve(envDataDir) : (options.data_dir ?? OPTION_DEFAULTS.data_dir),
    maxCameras: options.max_cameras ?? OPTION_DEFAULTS.max_cameras,
    onDemandGraceSeconds: options.on_demand_grace_seconds ?? OPTION_DEFAULTS.on_demand_grace_seconds,
    webrtcPort: options.webrtc_port ?? OPTION_DEFAULTS.webrtc_port,
    webrtcCandidates: [...(options.webrtc_candidates ?? OPTION_DEFAULTS.webrtc_candidates)],
    rtspPort: options.rtsp_port ?? OPTION_DEFAULTS.rtsp_port,
    apiPort: options.api_port ?? (nonEmpty(options.api_token) !== undefined ? envValues.CAMSTACK_API_PORT : null),
    apiToken: nonEmpty(options.api_token) ?? null,
    ingressPort: options.ingress_port ?? OPTION_DEFAULTS.ingress_port,
    storageMaxBytes: Math.round((options.storage_max_gb ?? OPTION_DEFAULTS.storage_max_gb) * 1e9),
    storageMinFreePercent: options.storage_min_free_percent ?? OPTION_DEFAULTS.storage_min_free_percent,
    allowTestSources,
    cameras,
    integrations: integrationConfig(options),
    env: envValues,
  };
}
