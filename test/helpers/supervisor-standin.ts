/**
 * A stand-in for the Home Assistant Supervisor API, as an add-on sees it at `http://supervisor`:
 * a tiny HTTP server (on 127.0.0.1, or the `host`/`port` given: the image test listens on its
 * Docker network's gateway, port 80, which the add-on container resolves as `supervisor`) that
 * checks `Authorization: Bearer <SUPERVISOR_TOKEN>` and answers in the Supervisor's envelope
 * (`{"result":"ok","data":…}` / `{"result":"error",…}`). Point the server at it with
 * `SUPERVISOR_URL=<standin.url>` and `SUPERVISOR_TOKEN=<standin.token>`.
 *
 * Answers `GET /info`, `/services/mqtt`, `/network/info` and `/addons/self/info`; HA Core's REST
 * API through the proxy (`/core/api/…`) answers `GET /core/api/` ("API running.") and 404 for
 * anything else (no Home Assistant behind it); anything else is 404. HA Core's WebSocket API
 * through the proxy (`ws://supervisor/core/websocket`) answers the
 * auth handshake (`auth_required` → `auth` with the token → `auth_ok` / `auth_invalid`) and every
 * later command with an empty success. Every request is recorded (`requests`, the WebSocket as
 * `WS /core/websocket`, authorized when its auth message carried the token).
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { WebSocketServer } from 'ws';

export interface StandinMqtt {
  host: string;
  port: number | string;
  ssl?: boolean;
  username?: string;
  password?: string;
  protocol?: string;
}

export interface StandinInterface {
  interface: string;
  primary?: boolean;
  enabled?: boolean;
  connected?: boolean;
  /** IPv4 addresses with prefix length, e.g. `192.0.2.10/24`. */
  ipv4: string[];
}

export interface SupervisorStandinOptions {
  /** Token the stand-in accepts (default: random). */
  token?: string;
  /** MQTT service data, or null for "Service not enabled" (HTTP 400), as without Mosquitto. */
  mqtt?: StandinMqtt | null;
  interfaces?: StandinInterface[];
  /** `network` of /addons/self/info: container port → host port (null = not mapped). */
  portMap?: Record<string, number | null>;
  /** Address to listen on (default 127.0.0.1). */
  host?: string;
  /** Port to listen on (default: any free one). */
  port?: number;
}

export interface RecordedRequest {
  method: string;
  path: string;
  authorized: boolean;
}

export interface SupervisorStandin {
  url: string;
  token: string;
  requests: RecordedRequest[];
  /** Change an answer while running (e.g. MQTT appears later). */
  options: SupervisorStandinOptions;
  close: () => Promise<void>;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function answer(req: IncomingMessage, res: ServerResponse, options: SupervisorStandinOptions) {
  const path = (req.url ?? '/').split('?')[0] ?? '/';
  if (path.startsWith('/core/api/')) {
    if (path === '/core/api/' && req.method === 'GET') return send(res, 200, { message: 'API running.' });
    return send(res, 404, { message: `no ${path} in the stand-in (no Home Assistant behind it)` });
  }
  if (req.method !== 'GET') return send(res, 405, { result: 'error', message: 'Method not allowed' });
  switch (path) {
    case '/info':
      return send(res, 200, {
        result: 'ok',
        data: {
          supervisor: '2026.08.0',
          homeassistant: '2026.8.1',
          hassos: null,
          hostname: 'homeassistant',
          machine: 'qemux86-64',
          arch: 'amd64',
          supported_arch: ['amd64'],
          channel: 'stable',
          timezone: 'Europe/Amsterdam',
        },
      });
    case '/services/mqtt':
      if (!options.mqtt) return send(res, 400, { result: 'error', message: 'Service not enabled' });
      return send(res, 200, {
        result: 'ok',
        data: { addon: 'core_mosquitto', ssl: false, protocol: '3.1.1', ...options.mqtt },
      });
    case '/network/info':
      return send(res, 200, {
        result: 'ok',
        data: {
          interfaces: (options.interfaces ?? []).map((i) => ({
            interface: i.interface,
            type: 'ethernet',
            enabled: i.enabled ?? true,
            connected: i.connected ?? true,
            primary: i.primary ?? false,
            ipv4: { method: 'auto', address: i.ipv4, nameservers: [], gateway: null, ready: true },
            ipv6: { method: 'disabled', address: [], nameservers: [], gateway: null, ready: false },
            wifi: null,
            vlan: null,
          })),
          docker: { interface: 'hassio', address: '172.30.32.0/23', gateway: '172.30.32.1', dns: '172.30.32.3' },
          host_internet: false,
          supervisor_internet: false,
        },
      });
    case '/addons/self/info':
      return send(res, 200, {
        result: 'ok',
        data: { slug: 'local_camstack', state: 'started', network: options.portMap ?? {}, ingress: true },
      });
    default:
      return send(res, 404, { result: 'error', message: `no ${path} in the stand-in` });
  }
}

export async function startSupervisorStandin(opts: SupervisorStandinOptions = {}): Promise<SupervisorStandin> {
  const token = opts.token ?? randomBytes(16).toString('hex');
  const requests: RecordedRequest[] = [];
  const options = { ...opts };
  const server: Server = createServer((req, res) => {
    const authorized = req.headers.authorization === `Bearer ${token}`;
    requests.push({ method: req.method ?? '', path: (req.url ?? '').split('?')[0] ?? '', authorized });
    if (!authorized) return send(res, 401, { result: 'error', message: 'Unauthorized' });
    answer(req, res, options);
  });
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    if ((req.url ?? '').split('?')[0] !== '/core/websocket') {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const record: RecordedRequest = { method: 'WS', path: '/core/websocket', authorized: false };
      requests.push(record);
      ws.send(JSON.stringify({ type: 'auth_required', ha_version: '2026.8.1' }));
      ws.on('message', (data) => {
        let msg: { type?: string; id?: number; access_token?: string };
        try {
          msg = JSON.parse(String(data)) as typeof msg;
        } catch {
          return;
        }
        if (msg.type === 'auth') {
          record.authorized = msg.access_token === token;
          ws.send(
            JSON.stringify(
              record.authorized
                ? { type: 'auth_ok', ha_version: '2026.8.1' }
                : { type: 'auth_invalid', message: 'Invalid access token or password' },
            ),
          );
          if (!record.authorized) ws.close();
          return;
        }
        if (!record.authorized || typeof msg.id !== 'number') return;
        const results: Record<string, unknown> = { get_states: [], get_config: {}, get_services: {} };
        ws.send(JSON.stringify({ id: msg.id, type: 'result', success: true, result: results[msg.type ?? ''] ?? null }));
      });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const host = opts.host ?? '127.0.0.1';
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    token,
    requests,
    options,
    close: () =>
      new Promise<void>((resolve) => {
        for (const ws of wss.clients) ws.terminate();
        wss.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
