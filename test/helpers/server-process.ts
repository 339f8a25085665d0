import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EnginePorts } from '../../server/src/engines/ports.js';
import { freeEnginePorts, freePort } from './ports.js';
import { processesMatching, waitUntil } from './processes.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

export interface ServerProcess {
  proc: ChildProcess;
  port: number;
  baseUrl: string;
  /** Unique temp dir holding options, data and media: every engine's argv mentions it. */
  dir: string;
  enginePorts: EnginePorts;
  output: () => string;
  /** Resolves with the exit code/signal once the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  json: <T>(path: string) => Promise<T>;
  cleanup: () => Promise<void>;
}

export interface StartOptions {
  options?: Record<string, unknown>;
  env?: Record<string, string>;
  /** Wait for /api/health to answer (default true). */
  waitHealthy?: boolean;
  /** Fixed ports (e.g. to restart "the same" server); default: free ones. */
  port?: number;
  enginePorts?: EnginePorts;
  /**
   * `src` (default) runs server/src/main.ts through tsx; `dist` runs the compiled server/dist/main.js
   * (`npm run build`) as the add-on does, without the TypeScript loader in its memory and CPU figures.
   */
  entry?: 'src' | 'dist';
}

/**
 * Runs the real server (server/src/main.ts) as its own process on Node 22, exactly as the add-on
 * would, with its own temp data/media dirs and free loopback ports.
 */
export async function startServerProcess(opts: StartOptions = {}): Promise<ServerProcess> {
  const dir = await mkdtemp(join(tmpdir(), 'camstack-it-'));
  const port = opts.port ?? (await freePort());
  const enginePorts = opts.enginePorts ?? (await freeEnginePorts());
  const options = {
    log_level: 'debug',
    data_dir: join(dir, 'data'),
    media_dir: join(dir, 'media'),
    cameras_file: join(dir, 'cameras.yaml'),
    webrtc_candidates: ['127.0.0.1'],
    ...opts.options,
  };
  await writeFile(join(dir, 'options.json'), JSON.stringify(options));
  await writeFile(join(dir, 'cameras.yaml'), 'cameras: []\n');
  const argv =
    opts.entry === 'dist' ? [join(root, 'server/dist/main.js')] : ['--import', 'tsx', join(root, 'server/src/main.ts')];
  const proc = spawn(process.execPath, argv, {
    cwd: root,
    env: {
      ...process.env,
      CAMSTACK_OPTIONS: join(dir, 'options.json'),
      CAMSTACK_HOST: '127.0.0.1',
      CAMSTACK_PORT: String(port),
      CAMSTACK_ENGINE_PORTS: JSON.stringify(enginePorts),
      CAMSTACK_WEBRTC_BIND: '127.0.0.1',
      CAMSTACK_HEALTH_INTERVAL_MS: '500',
      CAMSTACK_UNHEALTHY_AFTER_MS: '5000',
      CAMSTACK_BACKOFF_BASE_MS: '200',
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  proc.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const baseUrl = `http://127.0.0.1:${port}`;
  const json = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${baseUrl}${path}`, { signal: AbortSignal.timeout(3000) });
    return (await res.json()) as T;
  };
  const sp: ServerProcess = {
    proc,
    port,
    baseUrl,
    dir,
    enginePorts,
    output: () => out,
    exited,
    json,
    cleanup: async () => {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGINT');
        const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      // A server killed by the test (kill -9) leaves its engines behind by design (the next start
      // reaps them): end whatever still names this test's folder, so no run leaks processes.
      for (const p of processesMatching(dir)) {
        try {
          process.kill(p.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
  if (opts.waitHealthy ?? true) {
    try {
      await waitUntil(
        async () => {
          if (proc.exitCode !== null) throw new Error(`server exited with ${proc.exitCode}:\n${out}`);
          return fetch(`${baseUrl}/api/health`, { signal: AbortSignal.timeout(1000) }).then(
            (r) => r.ok,
            () => false,
          );
        },
        30_000,
        'the server to answer /api/health',
      );
    } catch (err) {
      await sp.cleanup();
      throw err;
    }
  }
  return sp;
}
