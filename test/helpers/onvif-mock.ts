/**
 * The ONVIF device mock (test/onvif-mock: our runner of the crates.io oxvif mock server, built by
 * `npm run setup`) on a free 127.0.0.1 port, and a recording proxy in front of it that counts every
 * SOAP request (by operation) and rewrites the mock's own address in its answers, so that calls
 * to the subscription's address go through the proxy too. While the mock is down the proxy drops
 * connections, as an unreachable camera does.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { onvifMockPaths } from '../../scripts/onvif-mock.mjs';
import { freePort } from './ports.js';

const root = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');

export function onvifMockBinary(): string {
  const { bin } = onvifMockPaths(root, process.env.CAMSTACK_CACHE_DIR ?? join(root, '.cache'));
  if (!existsSync(bin)) {
    throw new Error(
      "the ONVIF mock is not built for the current test/onvif-mock sources: run `npm run setup` (it needs Rust's cargo)",
    );
  }
  return bin;
}

export interface OnvifMockOptions {
  /** Enforce WS-Security PasswordDigest with this one user. */
  auth?: { user: string; password: string };
  /** Operations the mock acknowledges instead of refusing (it refuses Renew, Unsubscribe and SetSynchronizationPoint by default). */
  ack?: Array<'renew' | 'unsubscribe' | 'sync'>;
}

export interface RecordedRequest {
  /** The operation: the SOAP action's last path segment without `Request`. */
  operation: string;
  path: string;
  body: string;
  at: number;
}

export interface OnvifMock {
  /** The device service address through the proxy. */
  deviceUrl: string;
  /** The proxy's base URL (`http://127.0.0.1:port`); the mock's control endpoints work through it. */
  baseUrl: string;
  requests: RecordedRequest[];
  count: (operation: string) => number;
  /** POST to a control endpoint (`/mock/digital-input/DI_1/pulse`, `/admin/inject_fault?…`). */
  control: (pathAndQuery: string) => Promise<void>;
  /** Kill the mock (SIGKILL: the camera loses power). */
  kill: () => Promise<void>;
  /** Start it again on the same port (a rebooted camera: every subscription gone). */
  restart: () => Promise<void>;
  stop: () => Promise<void>;
}

async function startMock(bin: string, port: number, options: OnvifMockOptions): Promise<ChildProcess> {
  const args = [String(port)];
  if (options.auth) args.push('--auth', `${options.auth.user}:${options.auth.password}`);
  if (options.ack?.length) args.push('--ack', options.ack.join(','));
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the ONVIF mock did not start: ${out}`)), 10_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      if (out.includes('listening ')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the ONVIF mock exited with ${code}: ${out}`));
    });
  });
  child.removeAllListeners('exit');
  return child;
}

function operationOf(req: IncomingMessage): string {
  const m = /action="?([^";]+)"?/.exec(req.headers['content-type'] ?? '');
  const action = m?.[1] ?? '';
  return action.slice(action.lastIndexOf('/') + 1).replace(/Request$/, '');
}

export async function startOnvifMock(options: OnvifMockOptions = {}): Promise<OnvifMock> {
  const bin = onvifMockBinary();
  const [mockPort, proxyPort] = [await freePort(), await freePort()];
  let child: ChildProcess | undefined = await startMock(bin, mockPort, options);
  const requests: RecordedRequest[] = [];
  const proxy: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (!req.url?.startsWith('/mock/') && !req.url?.startsWith('/admin/')) {
        requests.push({
          operation: operationOf(req),
          path: req.url ?? '',
          body: body.toString('utf8'),
          at: Date.now(),
        });
      }
      const up = request(
        { host: '127.0.0.1', port: mockPort, method: req.method, path: req.url, headers: req.headers },
        (upRes) => {
          const parts: Buffer[] = [];
          upRes.on('data', (c: Buffer) => parts.push(c));
          upRes.on('end', () => {
            const text = Buffer.concat(parts)
              .toString('utf8')
              .replaceAll(`127.0.0.1:${mockPort}`, `127.0.0.1:${proxyPort}`);
            const headers = { ...upRes.headers };
            delete headers['content-length'];
            res.writeHead(upRes.statusCode ?? 502, headers);
            res.end(text);
          });
        },
      );
      // The mock is down: hang up, as an unreachable camera's network does.
      up.on('error', () => req.socket.destroy());
      up.end(body);
    });
  });
  await new Promise<void>((resolve) => proxy.listen(proxyPort, '127.0.0.1', resolve));
  const baseUrl = `http://127.0.0.1:${proxyPort}`;
  const exited = (c: ChildProcess) =>
    c.exitCode !== null || c.signalCode !== null
      ? Promise.resolve()
      : new Promise<void>((r) => c.once('exit', () => r()));
  const kill = async () => {
    if (!child) return;
    const c = child;
    child = undefined;
    c.kill('SIGKILL');
    await exited(c);
  };
  return {
    deviceUrl: `${baseUrl}/onvif/device_service`,
    baseUrl,
    requests,
    count: (operation) => requests.filter((r) => r.operation === operation).length,
    control: async (pathAndQuery) => {
      const res = await fetch(`${baseUrl}${pathAndQuery}`, { method: 'POST' });
      if (!res.ok) throw new Error(`mock control ${pathAndQuery}: HTTP ${res.status} ${await res.text()}`);
      await res.text();
    },
    kill,
    restart: async () => {
      await kill();
      child = await startMock(bin, mockPort, options);
    },
    stop: async () => {
      if (child) {
        const c = child;
        child = undefined;
        c.kill('SIGTERM');
        await exited(c);
      }
      proxy.closeAllConnections();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    },
  };
}
