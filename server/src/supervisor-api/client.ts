/**
 * The Home Assistant Supervisor API, as seen from inside the add-on container: the MQTT service
 * credentials (`services: [mqtt:want]`), the host's network addresses (WebRTC candidates) and
 * the URLs of HA Core's REST and WebSocket APIs through the Supervisor proxy
 * (`homeassistant_api: true`). Every call sends `Authorization: Bearer $SUPERVISOR_TOKEN`.
 *
 * The Supervisor answers `{"result": "ok", "data": {…}}` or `{"result": "error", "message": "…"}`
 * (a disabled service: "Service not enabled", HTTP 400). Errors here carry that message.
 */

export interface MqttServiceInfo {
  host: string;
  port: number;
  ssl: boolean;
  username: string | null;
  password: string | null;
  /** MQTT protocol version as the Supervisor says it: "3.1" or "3.1.1" (default). */
  protocol: string;
}

export interface NetworkInterfaceInfo {
  name: string;
  primary: boolean;
  /** IPv4 addresses without the prefix length, e.g. `192.168.1.10`. */
  ipv4: string[];
}

export interface NetworkInfo {
  interfaces: NetworkInterfaceInfo[];
  /** Every IPv4 address of enabled, connected interfaces; the primary interface's first. */
  ipv4: string[];
}

export class SupervisorError extends Error {
  /** HTTP status, or null when the Supervisor could not be reached. */
  readonly status: number | null;

  constructor(message: string, status: number | null) {
    super(message);
    this.name = 'SupervisorError';
    this.status = status;
  }
}

export interface SupervisorClientOptions {
  /** `http://supervisor` in the add-on (SUPERVISOR_URL overrides it in tests). */
  baseUrl: string;
  token: string;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

/** `1883` or `"1883"` → 1883; anything else → null. */
export function parsePort(value: unknown): number | null {
  const n = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value.trim()) : value;
  return typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 65535 ? n : null;
}

function parseBool(value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') return ['true', '1', 'yes'].includes(value.trim().toLowerCase());
  return false;
}

/** Pure: the `data` of `GET /services/mqtt` → connection settings (throws on a missing host/port). */
export function parseMqttService(data: unknown): MqttServiceInfo {
  if (!isRecord(data)) throw new SupervisorError('the Supervisor returned no MQTT service data', null);
  const host = str(data.host);
  const port = parsePort(data.port);
  if (host === null) throw new SupervisorError('the Supervisor MQTT service has no host', null);
  if (port === null) {
    throw new SupervisorError(`the Supervisor MQTT service has an invalid port ${JSON.stringify(data.port)}`, null);
  }
  return {
    host,
    port,
    ssl: parseBool(data.ssl),
    username: str(data.username),
    password: str(data.password),
    protocol: str(data.protocol) ?? '3.1.1',
  };
}

/** Pure: the `data` of `GET /network/info` → IPv4 addresses per interface. */
export function parseNetworkInfo(data: unknown): NetworkInfo {
  const interfaces: NetworkInterfaceInfo[] = [];
  const list = isRecord(data) && Array.isArray(data.interfaces) ? data.interfaces : [];
  for (const item of list) {
    if (!isRecord(item)) continue;
    if (item.enabled === false || item.connected === false) continue;
    const v4 = isRecord(item.ipv4) && Array.isArray(item.ipv4.address) ? item.ipv4.address : [];
    const ipv4 = v4
      .filter((a): a is string => typeof a === 'string')
      .map((a) => a.split('/')[0] ?? '')
      .filter((a) => /^\d{1,3}(?:\.\d{1,3}){3}$/.test(a));
    interfaces.push({ name: str(item.interface) ?? '?', primary: item.primary === true, ipv4 });
  }
  const ordered = [...interfaces.filter((i) => i.primary), ...interfaces.filter((i) => !i.primary)];
  return { interfaces, ipv4: [...new Set(ordered.flatMap((i) => i.ipv4))] };
}

export class SupervisorClient {
  readonly baseUrl: string;
  readonly #token: string;
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch;

  constructor(options: SupervisorClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.#token = options.token;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#fetch = options.fetch ?? fetch;
  }

  /** The token (HA Core accepts it on the proxied REST and WebSocket APIs). */
  get token(): string {
    return this.#token;
  }

  /** HA Core's REST API through the Supervisor proxy: `http://supervisor/core/api`. */
  get coreApiUrl(): string {
    return `${this.baseUrl}/core/api`;
  }

  /** HA Core's WebSocket API through the Supervisor proxy: `ws://supervisor/core/websocket`. */
  get coreWebsocketUrl(): string {
    return `${this.baseUrl.replace(/^http/, 'ws')}/core/websocket`;
  }

  /** MQTT broker settings provided by the Mosquitto add-on (or another `mqtt:provide` add-on). */
  async mqttService(): Promise<MqttServiceInfo> {
    return parseMqttService(await this.#get('/services/mqtt'));
  }

  /** This add-on's slug (`local_camstack`, `<repository hash>_camstack`): its panel is `/hassio/ingress/<slug>`. */
  async selfSlug(): Promise<string | null> {
    const data = await this.#get('/addons/self/info');
    const slug = typeof data === 'object' && data !== null ? (data as { slug?: unknown }).slug : null;
    return typeof slug === 'string' && /^[a-z0-9_]{1,64}$/.test(slug) ? slug : null;
  }

  /** The host's IPv4 addresses (for WebRTC ICE candidates). */
  async networkInfo(): Promise<NetworkInfo> {
    return parseNetworkInfo(await this.#get('/network/info'));
  }

  async #get(path: string): Promise<unknown> {
    let res: Response;
    try {
      res = await this.#fetch(`${this.baseUrl}${path}`, {
        headers: { authorization: `Bearer ${this.#token}`, accept: 'application/json' },
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      throw new SupervisorError(`the Supervisor (${this.baseUrl}) is not reachable: ${why}`, null);
    }
    const text = await res.text();
    let body: unknown = null;
    try {
      body = text === '' ? null : JSON.parse(text);
    } catch {
      // not JSON: reported below
    }
    if (!res.ok || !isRecord(body) || body.result !== 'ok') {
      const message = isRecord(body) && typeof body.message === 'string' ? body.message : text.slice(0, 200);
      throw new SupervisorError(`GET ${path}: ${message || `HTTP ${res.status}`}`, res.status);
    }
    return body.data;
  }
}

/** The Supervisor client when running as an add-on (SUPERVISOR_TOKEN set), else null. */
export function supervisorFromEnv(env: Readonly<Record<string, string | undefined>>): SupervisorClient | null {
  const token = env.SUPERVISOR_TOKEN?.trim() || env.HASSIO_TOKEN?.trim();
  if (!token) return null;
  return new SupervisorClient({ baseUrl: env.SUPERVISOR_URL?.trim() || 'http://supervisor', token });
}
