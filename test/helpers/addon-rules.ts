/**
 * Our own checks of an add-on's config.yaml, written from the Home Assistant Supervisor's documented
 * rules (the add-on configuration docs: required keys, each key's type and range, the `map` and
 * `services` grammars) and the add-on linter's documented extra rules (no key set to its default,
 * no `watchdog`, no `webui` with ingress…). Pure: config in, problems out (empty = fine).
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Obj = Record<string, Json>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isStr = (v: unknown): v is string => typeof v === 'string';
const isBool = (v: unknown): v is boolean => typeof v === 'boolean';
const isInt = (v: unknown, min: number, max: number) =>
  Number.isInteger(v) && (v as number) >= min && (v as number) <= max;
const oneOf =
  (...values: string[]) =>
  (v: unknown) =>
    isStr(v) && values.includes(v) ? null : `must be one of ${values.join(', ')}`;
const bool = (v: unknown) => (isBool(v) ? null : 'must be true or false');
const str = (v: unknown) => (isStr(v) && v.length > 0 ? null : 'must be a non-empty string');
const strList = (v: unknown) => (Array.isArray(v) && v.every(isStr) ? null : 'must be a list of strings');

const ARCHS = ['aarch64', 'amd64', 'armhf', 'armv7', 'i386'];
const DEPRECATED_ARCHS = ['armhf', 'armv7', 'i386'];
// Legacy names first: older Supervisors and the linter know only those.
const MAP_TYPES = [
  'homeassistant_config',
  'addon_config',
  'all_addon_configs',
  'ssl',
  'share',
  'media',
  'backup',
  'addons',
  'config',
];
const PORT_KEY = /^\d+(\/(tcp|udp))?$/;
const SERVICE = /^(mqtt|mysql):(provide|want|need)$/;
const HA_VERSION = /^\d{4}\.\d{1,2}(\.\d+)?$/;

function ports(v: unknown): string | null {
  if (!isObj(v)) return 'must be a map of "<port>/<tcp|udp>" to a host port or null';
  for (const [k, p] of Object.entries(v)) {
    if (!PORT_KEY.test(k)) return `key "${k}" is not "<port>/<tcp|udp>"`;
    if (p !== null && !isInt(p, 1, 65535)) return `${k}: host port must be 1–65535 or null`;
  }
  return null;
}

function map(v: unknown): string | null {
  if (!Array.isArray(v)) return 'must be a list';
  const dicts = v.filter(isObj);
  if (dicts.length !== 0 && dicts.length !== v.length) return 'mixes strings and dicts (use one form)';
  for (const m of v) {
    const type = isObj(m) ? m.type : isStr(m) ? m.split(':')[0] : undefined;
    if (!isStr(type) || !MAP_TYPES.includes(type)) return `unknown map type ${JSON.stringify(type)}`;
    if (isObj(m)) {
      for (const k of Object.keys(m)) if (!['type', 'read_only', 'path'].includes(k)) return `unknown map key ${k}`;
      if ('read_only' in m && !isBool(m.read_only)) return 'read_only must be true or false';
    } else if (isStr(m) && !/^[a-z_]+(:(rw|ro))?$/.test(m)) return `"${m}" is not "type[:rw|:ro]"`;
  }
  return null;
}

/** Each key the Supervisor reads, with its check; any other key is a problem (dropped silently there). */
const KEYS: Record<string, (v: unknown) => string | null> = {
  name: str,
  version: str,
  slug: (v) => (isStr(v) && /^[-_.A-Za-z0-9]+$/.test(v) ? null : 'must match [-_.A-Za-z0-9]+'),
  description: str,
  arch: (v) =>
    Array.isArray(v) && v.length > 0 && v.every((a) => isStr(a) && ARCHS.includes(a))
      ? null
      : `must list some of ${ARCHS.join(', ')}`,
  machine: strList,
  url: (v) => (isStr(v) && /^https?:\/\/[^\s/]+/.test(v) ? null : 'must be an http(s) URL'),
  startup: oneOf('initialize', 'system', 'services', 'application', 'once'),
  boot: oneOf('auto', 'manual', 'manual_only'),
  init: bool,
  stage: oneOf('stable', 'experimental', 'deprecated'),
  ports,
  ports_description: (v) => (isObj(v) && Object.keys(v).every((k) => PORT_KEY.test(k)) ? null : 'keys must be ports'),
  webui: str,
  ingress: bool,
  ingress_port: (v) => (isInt(v, 0, 65535) ? null : 'must be 0–65535'),
  ingress_entry: str,
  ingress_stream: bool,
  panel_icon: (v) => (isStr(v) && /^mdi:[a-z0-9-]+$/.test(v) ? null : 'must be mdi:<icon>'),
  panel_title: str,
  panel_admin: bool,
  homeassistant: (v) => (isStr(v) && HA_VERSION.test(v) ? null : 'must be a Home Assistant version, e.g. 2025.1.0'),
  host_network: bool,
  homeassistant_api: bool,
  hassio_api: bool,
  hassio_role: oneOf('default', 'homeassistant', 'backup', 'manager', 'admin'),
  auth_api: bool,
  services: (v) =>
    Array.isArray(v) && v.every((s) => isStr(s) && SERVICE.test(s))
      ? null
      : 'entries must be (mqtt|mysql):(provide|want|need)',
  discovery: strList,
  environment: (v) => (isObj(v) && Object.values(v).every(isStr) ? null : 'must map names to strings'),
  privileged: strList,
  devices: strList,
  video: bool,
  audio: bool,
  usb: bool,
  uart: bool,
  gpio: bool,
  udev: bool,
  tmpfs: bool,
  journald: bool,
  realtime: bool,
  apparmor: bool,
  full_access: bool,
  image: (v) =>
    isStr(v) && /^[a-z0-9.\-/{}_:]+$/.test(v) && !v.includes(':latest') ? null : 'must be an image name without tag',
  map,
  backup: oneOf('hot', 'cold'),
  backup_exclude: strList,
  backup_pre: str,
  backup_post: str,
  options: (v) => (isObj(v) ? null : 'must be a map'),
  schema: (v) => (isObj(v) || v === false ? null : 'must be a map or false'),
  timeout: (v) => (isInt(v, 10, 300) ? null : 'must be an integer 10–300'),
  breaking_versions: strList,
  ulimits: (v) => (isObj(v) ? null : 'must be a map'),
  watchdog: str,
  codenotary: str,
  translations: (v) => (isObj(v) ? null : 'must be a map'),
};

const REQUIRED = ['name', 'version', 'slug', 'description', 'arch'];

/** Values the Supervisor assumes when a key is absent: the linter rejects setting them. */
export const SUPERVISOR_DEFAULTS: Readonly<Obj> = {
  startup: 'application',
  boot: 'auto',
  init: true,
  stage: 'stable',
  ingress: false,
  ingress_port: 8099,
  ingress_entry: '/',
  ingress_stream: false,
  panel_icon: 'mdi:puzzle',
  panel_admin: true,
  host_network: false,
  homeassistant_api: false,
  hassio_api: false,
  hassio_role: 'default',
  auth_api: false,
  full_access: false,
  backup: 'hot',
  timeout: 10,
  options: {},
  video: false,
  audio: false,
  usb: false,
  uart: false,
  gpio: false,
  udev: false,
  tmpfs: false,
  journald: false,
  realtime: false,
  apparmor: true,
};

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** Every problem of one config.yaml (parsed), as "key: problem" lines. Warnings prefixed "warning:". */
export function checkAddonConfig(config: unknown): string[] {
  if (!isObj(config)) return ['config.yaml must be a map'];
  const problems: string[] = [];
  for (const key of REQUIRED) if (!(key in config)) problems.push(`${key}: required`);
  for (const [key, value] of Object.entries(config)) {
    const check = KEYS[key];
    if (!check) {
      problems.push(`${key}: not an add-on key (the Supervisor drops it)`);
      continue;
    }
    const problem = check(value);
    if (problem) problems.push(`${key}: ${problem}`);
    if (key in SUPERVISOR_DEFAULTS && same(value, SUPERVISOR_DEFAULTS[key])) {
      problems.push(`${key}: ${JSON.stringify(value)} is the default: omit it`);
    }
  }
  if ('watchdog' in config) problems.push('watchdog: obsolete, use a Docker HEALTHCHECK');
  if ('codenotary' in config) problems.push('codenotary: no longer supported');
  if ('webui' in config && config.ingress === true) problems.push('webui: not together with ingress');
  if (config.ingress_port === 0 && config.host_network !== true) problems.push('ingress_port: 0 needs host_network');
  if (config.full_access === true && 'devices' in config) problems.push('full_access: not together with devices');
  if (config.backup === 'cold' && ('backup_pre' in config || 'backup_post' in config)) {
    problems.push('backup_pre/backup_post: not with backup: cold');
  }
  for (const a of Array.isArray(config.arch) ? config.arch : []) {
    if (isStr(a) && DEPRECATED_ARCHS.includes(a)) problems.push(`warning: arch ${a} is deprecated`);
  }
  return problems;
}
