/**
 * A real Home Assistant Core for the acceptance tests, one of the versions in
 * scripts/ha-versions.json, installed by `npm run setup` (scripts/setup-ha.mjs) into a venv inside a
 * Debian chroot in the machine-level cache (CAMSTACK_HA_CACHE, default /var/cache/camstack/ha).
 *
 * It runs as `unshare --mount --pid --fork --kill-child --mount-proc chroot … hass`: a private
 * /proc, no host /dev, nothing mounted that outlives it. It shares the host's network, so it
 * answers on a free 127.0.0.1 port and reaches Mosquitto and Camstack there. Its config dir lives
 * inside the chroot's /tmp. The chroot holds a go2rtc binary and /.dockerenv, so HA starts its own
 * go2rtc as in the Home Assistant container (API 127.0.0.1:11984, RTSP 127.0.0.1:18554, WebRTC
 * :18555: one HA with go2rtc at a time per host).
 *
 * Minimal configuration (no default_config), onboarded through HA's own HTTP API, and given an
 * MQTT config entry through the config-flow API (built from the form HA returns).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Connection, createConnection } from 'home-assistant-js-websocket';
import { chrootCommand } from '../../scripts/setup-ha.mjs';
import { type FormField, fillForm } from '../../server/src/hass/flow-form.js';
import { createHaSocket } from '../../server/src/hass/websocket.js';
import { freePort } from './ports.js';
import { waitUntil } from './processes.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

export interface HaVersion {
  version: string;
  suite: string;
  role: string;
}

/** Every version of the matrix, or those CAMSTACK_HA_VERSIONS (comma-separated) names. */
export function haVersions(): HaVersion[] {
  const all = (JSON.parse(readFileSync(join(root, 'scripts/ha-versions.json'), 'utf8')) as { versions: HaVersion[] })
    .versions;
  const only = process.env.CAMSTACK_HA_VERSIONS?.split(',').filter(Boolean);
  if (!only) return all;
  const unknown = only.filter((v) => !all.some((x) => x.version === v));
  if (unknown.length)
    throw new Error(`CAMSTACK_HA_VERSIONS names versions not in scripts/ha-versions.json: ${unknown}`);
  return all.filter((v) => only.includes(v.version));
}

export function haCacheDir(): string {
  return process.env.CAMSTACK_HA_CACHE ?? '/var/cache/camstack/ha';
}

/** The chroot and the venv (as seen inside it) of an installed version; throws when missing. */
export function haInstall(v: HaVersion): { rootfs: string; venv: string } {
  const rootfs = join(haCacheDir(), v.suite);
  const venv = `/opt/ha/${v.version}`;
  if (!existsSync(join(rootfs, venv, 'bin', 'hass'))) {
    throw new Error(`Home Assistant ${v.version} is not installed (${join(rootfs, venv)}): run \`npm run setup\``);
  }
  return { rootfs, venv };
}

export interface HomeAssistant {
  version: string;
  url: string;
  port: number;
  configDir: string;
  /** The config dir as the host sees it (inside the chroot's tree). */
  hostConfigDir: string;
  proc: ChildProcess;
  output: () => string;
  /** Set by onboard(): an access token of the owner. */
  token: string;
  rest: <T>(method: string, path: string, body?: unknown) => Promise<{ status: number; body: T; raw: Response }>;
  /** A websocket connection (home-assistant-js-websocket) with the token. */
  connect: () => Promise<Connection>;
  stop: () => Promise<void>;
  cleanup: () => Promise<void>;
}

const CONFIGURATION = (port: number) => `
# Minimal on purpose (no default_config): only what the Camstack acceptance tests use.
homeassistant:
  name: Camstack acceptance
  latitude: 52.37
  longitude: 4.89
  elevation: 0
  unit_system: metric
  time_zone: UTC
  country: NL
  currency: EUR
http:
  server_host: 127.0.0.1
  server_port: ${port}
api:
websocket_api:
config:
onboarding:
camera:
stream:
# notify.persistent_notification: where Camstack's camera-event notifications go in the tests.
notify:
# Automations made through the config API (the Camstack blueprint).
automation: !include automations.yaml
# HA's own go2rtc (WebRTC for every camera with a stream source), as default_config would load it.
go2rtc:
# An entity for Camstack's \`triggers\` option to watch.
input_boolean:
  motion:
    name: Motion
logger:
  default: warning
  logs:
    homeassistant.components.mqtt: info
    homeassistant.components.generic: debug
    homeassistant.components.stream: info
    homeassistant.components.go2rtc: info
`;

export async function startHomeAssistant(v: HaVersion): Promise<HomeAssistant> {
  const { rootfs, venv } = haInstall(v);
  const hostConfigDir = await mkdtemp(join(rootfs, 'tmp', 'camstack-ha-'));
  const configDir = `/tmp/${basename(hostConfigDir)}`;
  const port = await freePort();
  await writeFile(join(hostConfigDir, 'configuration.yaml'), CONFIGURATION(port));
  await writeFile(join(hostConfigDir, 'automations.yaml'), '[]\n');
  // HA's temp files (its go2rtc's working dir and socket) go with the config dir.
  await mkdir(join(hostConfigDir, 'tmp'));
  let out = '';
  const [program, args] = chrootCommand(rootfs, [`${venv}/bin/hass`, '-c', configDir, '--skip-pip', '--log-no-color']);
  const proc = spawn(program, args, {
    cwd: hostConfigDir,
    // A clean environment: nothing of the host's (paths, proxies, tokens) leaks into HA.
    env: {
      PATH: `${venv}/bin:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin`,
      HOME: '/root',
      LANG: 'C.UTF-8',
      TZ: 'UTC',
      PYTHONDONTWRITEBYTECODE: '1',
      TMPDIR: `${configDir}/tmp`,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  proc.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  const url = `http://127.0.0.1:${port}`;
  const ha: HomeAssistant = {
    version: v.version,
    url,
    port,
    configDir,
    hostConfigDir,
    proc,
    output: () => out,
    token: '',
    rest: async <T>(method: string, path: string, body?: unknown) => {
      const raw = await fetch(`${url}${path}`, {
        method,
        headers: {
          ...(ha.token ? { authorization: `Bearer ${ha.token}` } : {}),
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(60_000),
      });
      const type = raw.headers.get('content-type') ?? '';
      const parsed = type.includes('json') ? ((await raw.json()) as T) : (null as T);
      return { status: raw.status, body: parsed, raw };
    },
    connect: () =>
      createConnection({
        createSocket: () => createHaSocket(`ws://127.0.0.1:${port}/api/websocket`, ha.token),
        setupRetry: 0,
      }),
    stop: async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      // unshare ignores SIGTERM while it waits: stop hass itself (its child, PID 1 inside), which
      // stops its go2rtc; SIGKILL to unshare (--kill-child) takes everything down.
      const child = haChild(proc.pid);
      if (child) process.kill(child, 'SIGTERM');
      else proc.kill('SIGKILL');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
    },
    cleanup: async () => {
      await ha.stop();
      await rm(hostConfigDir, { recursive: true, force: true });
    },
  };
  try {
    await waitUntil(
      async () => {
        if (proc.exitCode !== null)
          throw new Error(`Home Assistant exited with ${proc.exitCode}:\n${out.slice(-4000)}`);
        return fetch(`${url}/api/onboarding`, { signal: AbortSignal.timeout(2000) }).then(
          (r) => r.ok,
          () => false,
        );
      },
      180_000,
      'Home Assistant to answer /api/onboarding',
    );
  } catch (err) {
    await ha.cleanup();
    throw err;
  }
  return ha;
}

/** The PID of unshare's child (hass, PID 1 in its namespace), read from /proc. */
function haChild(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
    return children.length ? Number(children[0]) : null;
  } catch {
    return null;
  }
}

/** Onboarding through HA's own API: owner user, token, analytics and integration steps. */
export async function onboard(ha: HomeAssistant): Promise<string> {
  const clientId = `${ha.url}/`;
  const user = await ha.rest<{ auth_code: string }>('POST', '/api/onboarding/users', {
    client_id: clientId,
    name: 'Camstack Tester',
    username: 'tester',
    password: 'tester-password-1234',
    language: 'en',
  });
  if (user.status !== 200) throw new Error(`onboarding/users answered ${user.status}`);
  const tokenRes = await fetch(`${ha.url}/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code: user.body.auth_code, client_id: clientId }),
  });
  if (!tokenRes.ok) throw new Error(`/auth/token answered ${tokenRes.status}: ${await tokenRes.text()}`);
  ha.token = ((await tokenRes.json()) as { access_token: string }).access_token;
  // No `core_config` step: in 2024.3 it starts the met, google_translate and radio_browser flows,
  // whose libraries this minimal install leaves out (HTTP 500). Core config comes from the YAML.
  for (const [step, body] of [
    ['analytics', {}],
    ['integration', { client_id: clientId, redirect_uri: `${ha.url}/?auth_callback=1` }],
  ] as const) {
    const r = await ha.rest('POST', `/api/onboarding/${step}`, body);
    if (r.status !== 200) throw new Error(`onboarding/${step} answered ${r.status}`);
  }
  // A long-lived token (what a user gives Camstack as ha_token in development).
  const conn = await ha.connect();
  try {
    ha.token = await conn.sendMessagePromise<string>({
      type: 'auth/long_lived_access_token',
      client_name: 'Camstack acceptance',
      lifespan: 1,
    });
  } finally {
    conn.close();
  }
  return ha.token;
}

interface FlowResult {
  type: string;
  flow_id: string;
  step_id?: string;
  data_schema?: FormField[];
  errors?: Record<string, string> | null;
  result?: { entry_id: string };
  reason?: string;
}

/**
 * The MQTT integration, set up through the config-flow API, pointed at a broker. Each form is
 * filled from the data_schema HA returns (2026.11 added a required `other_settings` section), so
 * a changed form fails with HA's own message rather than a guess.
 */
export async function configureMqtt(ha: HomeAssistant, port: number): Promise<string> {
  let r = await ha.rest<FlowResult>('POST', '/api/config/config_entries/flow', {
    handler: 'mqtt',
    show_advanced_options: false,
  });
  for (let i = 0; i < 5 && r.body.type === 'form'; i++) {
    const values = r.body.step_id === 'broker' ? { broker: '127.0.0.1', port } : {};
    const data = fillForm(r.body.data_schema ?? [], values);
    r = await ha.rest<FlowResult>('POST', `/api/config/config_entries/flow/${r.body.flow_id}`, data);
    if (r.status !== 200 || (r.body.errors && Object.keys(r.body.errors).length > 0)) {
      throw new Error(`MQTT config flow (HA ${ha.version}): ${JSON.stringify(r.body)}`);
    }
  }
  if (r.body.type !== 'create_entry' || !r.body.result) throw new Error(`MQTT config flow: ${JSON.stringify(r.body)}`);
  return r.body.result.entry_id;
}

export interface HaState {
  entity_id: string;
  state: string;
  attributes: Record<string, unknown>;
}

export async function states(ha: HomeAssistant): Promise<Map<string, HaState>> {
  const r = await ha.rest<HaState[]>('GET', '/api/states');
  return new Map(r.body.map((s) => [s.entity_id, s]));
}
