/**
 * A real Mosquitto broker per test: Debian's `mosquitto` (installed by `npm run setup`) on a
 * free 127.0.0.1 port, with a generated config in a temp dir (no persistence, anonymous or
 * password-file logins). `stop()` ends it cleanly; `restart()` starts it again on the same port
 * (to test reconnects).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect as netConnect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { connectAsync, type IClientOptions, type MqttClient } from 'mqtt';
import { freePort } from './ports.js';
import { waitUntil } from './processes.js';

export interface Mosquitto {
  port: number;
  url: string;
  /** Logins when started with users (else anonymous). */
  users: { username: string; password: string }[];
  output: () => string;
  stop: () => Promise<void>;
  /** Start again on the same port (after stop()). */
  restart: () => Promise<void>;
  cleanup: () => Promise<void>;
}

export function mosquittoBinary(): string {
  for (const candidate of [process.env.CAMSTACK_MOSQUITTO_BIN, '/usr/sbin/mosquitto', '/usr/bin/mosquitto']) {
    if (candidate && existsSync(candidate)) return candidate;
  }
  const which = spawnSync('sh', ['-c', 'command -v mosquitto'], { encoding: 'utf8' });
  if (which.status === 0 && which.stdout.trim()) return which.stdout.trim();
  throw new Error('mosquitto is not installed: run `npm run setup` (it installs the Debian package mosquitto)');
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = netConnect({ host: '127.0.0.1', port }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

export async function startMosquitto(
  opts: { users?: { username: string; password: string }[] } = {},
): Promise<Mosquitto> {
  const bin = mosquittoBinary();
  const dir = await mkdtemp(join(tmpdir(), 'camstack-mosquitto-'));
  const port = await freePort();
  const users = opts.users ?? [];
  const lines = [
    `listener ${port} 127.0.0.1`,
    'persistence false',
    'log_dest stdout',
    'log_type error',
    'log_type warning',
    'log_type notice',
    'log_type information',
    'connection_messages true',
    'max_packet_size 10000000',
    // As root, Mosquitto switches to the `mosquitto` user, which cannot read our 0700 temp dir.
    `user ${userInfo().username}`,
  ];
  if (users.length > 0) {
    const passwd = join(dir, 'passwd');
    await writeFile(passwd, '', { mode: 0o600 });
    const tool = bin.replace(/mosquitto$/, 'mosquitto_passwd');
    const passwdBin = existsSync(tool) ? tool : '/usr/bin/mosquitto_passwd';
    for (const u of users) {
      const r = spawnSync(passwdBin, ['-b', passwd, u.username, u.password], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`mosquitto_passwd failed: ${r.stderr}`);
    }
    lines.push('allow_anonymous false', `password_file ${passwd}`);
  } else {
    lines.push('allow_anonymous true');
  }
  const conf = join(dir, 'mosquitto.conf');
  await writeFile(conf, `${lines.join('\n')}\n`);

  let out = '';
  let proc: ChildProcess | null = null;
  const launch = async () => {
    const p = spawn(bin, ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
    proc = p;
    p.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    p.stderr?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    await waitUntil(
      async () => {
        if (p.exitCode !== null) throw new Error(`mosquitto exited with ${p.exitCode}:\n${out}`);
        return portOpen(port);
      },
      10_000,
      `mosquitto to listen on 127.0.0.1:${port}`,
    );
  };
  const stop = async () => {
    const p = proc;
    proc = null;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise<void>((r) => p.once('exit', () => r()));
    p.kill('SIGTERM');
    const timer = setTimeout(() => p.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };
  await launch();
  return {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    users,
    output: () => out,
    stop,
    restart: launch,
    cleanup: async () => {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface ReceivedMessage {
  topic: string;
  payload: Buffer;
  retain: boolean;
  at: number;
}

/** A test MQTT client that records every message on the topics it subscribed to. */
export interface Recorder {
  client: MqttClient;
  messages: ReceivedMessage[];
  /** Latest payload per topic among retained+live messages received so far. */
  latest: (topic: string) => Buffer | undefined;
  waitFor: (predicate: (m: ReceivedMessage) => boolean, timeoutMs: number, what: string) => Promise<ReceivedMessage>;
  close: () => Promise<void>;
}

export async function recorder(url: string, topics: string[], options: IClientOptions = {}): Promise<Recorder> {
  const client = await connectAsync(url, { reconnectPeriod: 0, connectTimeout: 5000, ...options });
  const messages: ReceivedMessage[] = [];
  client.on('message', (topic, payload, packet) => {
    messages.push({ topic, payload, retain: packet.retain, at: Date.now() });
  });
  await client.subscribeAsync(topics, { qos: 1 });
  const latest = (topic: string) => {
    for (let i = messages.length - 1; i >= 0; i--) {
      const m = messages[i];
      if (m?.topic === topic) return m.payload;
    }
    return undefined;
  };
  const waitFor = async (predicate: (m: ReceivedMessage) => boolean, timeoutMs: number, what: string) => {
    let found: ReceivedMessage | undefined;
    let seen = 0;
    await waitUntil(
      () => {
        for (; seen < messages.length; seen++) {
          const m = messages[seen];
          if (m && predicate(m)) {
            found = m;
            return true;
          }
        }
        return false;
      },
      timeoutMs,
      what,
    );
    return found as ReceivedMessage;
  };
  return { client, messages, latest, waitFor, close: () => client.endAsync(true).then(() => undefined) };
}

/** Every retained message under `pattern` right now (a fresh subscription, collected for `settleMs`). */
export async function retained(url: string, pattern: string, settleMs = 500): Promise<Map<string, Buffer>> {
  const r = await recorder(url, [pattern]);
  await new Promise((res) => setTimeout(res, settleMs));
  await r.close();
  const out = new Map<string, Buffer>();
  for (const m of r.messages) if (m.retain) out.set(m.topic, m.payload);
  return out;
}
