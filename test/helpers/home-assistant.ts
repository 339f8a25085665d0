/**
 * A real Home Assistant Core (PyPI `homeassistant`, installed by `npm run setup` into
 * .cache/ha-venv) for the acceptance tests: started in a temp config dir on a free 127.0.0.1
 * port with a minimal configuration (no default_config), onboarded through its own HTTP API,
 * and given an MQTT config entry through the config-flow API.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Connection, createConnection } from 'home-assistant-js-websocket';
import { createHaSocket } from '../../server/src/hass/websocket.js';
import { freePort } from './ports.js';
import { waitUntil } from './processes.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
export const HA_VENV = join(process.env.CAMSTACK_CACHE_DIR ?? join(root, '.cache'), 'ha-venv');

export interface HomeAssistant {
  url: string;
  port: number;
  configDir: string;
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

export function hassBinary(): string {
  const bin = join(HA_VENV, 'bin', 'hass');
  if (!existsSync(bin)) {
    throw new Error(`Home Assistant is not installed (${bin} missing): run \`npm run setup\``);
  }
  return bin;
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
`;

export async function startHomeAssistant(opts: { configDir?: string } = {}): Promise<HomeAssistant> {
  const bin = hassBinary();
  const configDir = opts.configDir ?? (await mkdtemp(join(tmpdir(), 'camstack-ha-')));
  const port = await freePort();
  await writeFile(join(configDir, 'configuration.yaml'), CONFIGURATION(port));
  let out = '';
  const proc = spawn(bin, ['-c', configDir, '--skip-pip', '--log-no-color'], {
    cwd: configDir,
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
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
    url,
    port,
    configDir,
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
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
    },
    cleanup: async () => {
      await ha.stop();
      if (!opts.configDir) await rm(configDir, { recursive: true, force: true });
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
  errors?: Record<string, string> | null;
  result?: { entry_id: string };
  reason?: string;
}

/** The MQTT integration, set up through the config-flow API, pointed at a broker. */
export async function configureMqtt(ha: HomeAssistant, port: number): Promise<string> {
  let r = await ha.rest<FlowResult>('POST', '/api/config/config_entries/flow', {
    handler: 'mqtt',
    show_advanced_options: false,
  });
  for (let i = 0; i < 5 && r.body.type === 'form'; i++) {
    const data = r.body.step_id === 'broker' ? { broker: '127.0.0.1', port } : {};
    r = await ha.rest<FlowResult>('POST', `/api/config/config_entries/flow/${r.body.flow_id}`, data);
    if (r.body.errors && Object.keys(r.body.errors).length > 0) {
      throw new Error(`MQTT config flow: ${JSON.stringify(r.body.errors)}`);
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
