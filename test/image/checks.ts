/** What test/image/*.test.ts check on a running add-on container: HTTP, clips, ffprobe, MQTT. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { waitUntil } from '../helpers/processes.js';
import { docker } from './docker.js';
import { CAMERA_ID, type Stack } from './harness.js';

export interface Res {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  text: string;
}

/**
 * One HTTP request. Streams (MJPEG, SSE, MP4) end once `streamBytes` arrived (default: headers
 * only); everything else is read whole.
 */
export function call(
  url: string,
  opts: {
    method?: string;
    headers?: Record<string, string>;
    body?: unknown;
    streamBytes?: number;
    timeoutMs?: number;
  } = {},
): Promise<Res> {
  return new Promise((resolve, reject) => {
    const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const req = httpRequest(
      url,
      {
        method: opts.method ?? 'GET',
        headers: { ...(payload === undefined ? {} : { 'content-type': 'application/json' }), ...opts.headers },
        timeout: opts.timeoutMs ?? 20_000,
      },
      (res) => {
        const streaming = /event-stream|multipart|video\/mp4/.test(String(res.headers['content-type'] ?? ''));
        const chunks: Buffer[] = [];
        let size = 0;
        const done = () => {
          const body = Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text: body.toString('utf8') });
        };
        res.on('data', (d: Buffer) => {
          chunks.push(d);
          size += d.length;
          if (streaming && size >= (opts.streamBytes ?? 0)) {
            res.destroy();
            done();
          }
        });
        if (streaming && !opts.streamBytes) {
          res.destroy();
          done();
          return;
        }
        res.on('end', done);
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timed out: ${url}`)));
    req.on('error', reject);
    req.end(payload);
  });
}

export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

/** `docker inspect` State.Health.Status of a container ('' without a health check). */
export function health(container: string): string {
  return docker(['inspect', '-f', '{{if .State.Health}}{{.State.Health.Status}}{{end}}', container]).stdout.trim();
}

/** Waits until the container's HEALTHCHECK says healthy; fails at once if it stops. */
export async function waitHealthy(stack: Stack, timeoutMs: number): Promise<void> {
  await waitUntil(
    () => {
      const state = docker(['inspect', '-f', '{{.State.Status}}', stack.addon]).stdout.trim();
      if (state !== 'running') throw new Error(`the add-on container is ${state}:\n${stack.logs().slice(-4000)}`);
      const h = health(stack.addon);
      if (h === 'unhealthy') throw new Error(`the add-on is unhealthy:\n${stack.logs().slice(-4000)}`);
      return h === 'healthy';
    },
    timeoutMs,
    'Docker to report the add-on healthy',
  );
}

/** Waits until the server answers /api/health/ready (both engines running) on the direct port. */
export async function waitReady(stack: Stack, timeoutMs: number): Promise<void> {
  await waitUntil(
    async () => {
      const res = await call(`${stack.direct}/api/health/ready`, { headers: bearer(stack.apiToken) }).catch(() => null);
      return res?.status === 200;
    },
    timeoutMs,
    'the add-on to be ready (engines running)',
  );
}

/** Waits until the camera passed verification (idle or streaming). */
export async function waitCameraOnline(stack: Stack, timeoutMs: number): Promise<void> {
  let state = '';
  await waitUntil(
    async () => {
      const res = await call(`${stack.direct}/api/cameras/${CAMERA_ID}/status`, { headers: bearer(stack.apiToken) });
      state = (JSON.parse(res.text) as { state?: string }).state ?? '';
      return state === 'idle' || state === 'streaming';
    },
    timeoutMs,
    'the camera to be verified (idle or streaming)',
  ).catch((err: unknown) => assert.fail(`${String(err)} (last state "${state}")`));
}

export interface Probe {
  ok: boolean;
  durationS: number;
  video: number;
  errors: string;
}

/** ffprobe (this machine's) of a file: clean means exit 0 and nothing on stderr at -v error. */
export function ffprobe(file: string): Probe {
  const res = spawnSync(
    'ffprobe',
    ['-v', 'error', '-show_entries', 'format=duration:stream=codec_type', '-of', 'json', file],
    { encoding: 'utf8' },
  );
  let durationS = 0;
  let video = 0;
  try {
    const info = JSON.parse(res.stdout) as { format?: { duration?: string }; streams?: { codec_type: string }[] };
    durationS = Number(info.format?.duration ?? 0);
    video = (info.streams ?? []).filter((s) => s.codec_type === 'video').length;
  } catch {
    // not JSON: reported through ok/errors
  }
  return { ok: res.status === 0 && res.stderr.trim() === '', durationS, video, errors: res.stderr.trim() };
}

/** Every finished clip of the camera on the /media volume. */
export function clipFiles(stack: Stack): string[] {
  const dir = join(stack.media, 'camstack', CAMERA_ID, 'clips');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => n.endsWith('.mp4') && !n.startsWith('.'))
    .map((n) => join(dir, n));
}

/** Every MP4 under the /media volume (clips and segments), for the after-stop check. */
export function mediaFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return mediaFiles(p);
    return e.name.endsWith('.mp4') && !e.name.startsWith('.') ? [p] : [];
  });
}

/** Records a clip through the direct port and returns its file once written and probed clean. */
export async function recordClip(
  stack: Stack,
  durationS: number,
  timeoutMs: number,
): Promise<{ file: string; probe: Probe }> {
  const before = new Set(clipFiles(stack));
  const res = await call(`${stack.direct}/api/cameras/${CAMERA_ID}/clips`, {
    method: 'POST',
    headers: bearer(stack.apiToken),
    body: { preRoll: 0, duration: durationS },
  });
  assert.equal(res.status, 201, `starting a clip: ${res.status} ${res.text}`);
  let file = '';
  await waitUntil(
    () => {
      file = clipFiles(stack).find((f) => !before.has(f)) ?? '';
      return file !== '';
    },
    timeoutMs,
    'the clip file on the /media volume',
  ).catch((err: unknown) => assert.fail(`${String(err)}\n${stack.logs().slice(-3000)}`));
  const probe = ffprobe(file);
  assert.ok(probe.ok, `${file} is not ffprobe-clean: ${probe.errors}`);
  assert.equal(probe.video, 1, 'one video stream');
  assert.ok(probe.durationS >= durationS * 0.5, `the clip lasts ${probe.durationS} s (asked ${durationS} s)`);
  return { file, probe };
}

/** Collects the retained MQTT discovery configs (topic → payload) at the broker. */
export async function discoveryAtBroker(
  stack: Stack,
  prefix: string,
  until: (configs: Map<string, Record<string, unknown>>) => boolean,
  timeoutMs: number,
): Promise<Map<string, Record<string, unknown>>> {
  const client = await mqtt.connectAsync(stack.mqtt.url, {
    username: stack.mqtt.username,
    password: stack.mqtt.password,
    reconnectPeriod: 0,
    connectTimeout: 10_000,
  });
  const configs = new Map<string, Record<string, unknown>>();
  try {
    client.on('message', (topic, payload) => {
      if (!topic.endsWith('/config') || payload.length === 0) return;
      try {
        configs.set(topic, JSON.parse(payload.toString('utf8')) as Record<string, unknown>);
      } catch {
        configs.set(topic, { unparsable: payload.toString('utf8') });
      }
    });
    await client.subscribeAsync(`${prefix}/#`);
    await waitUntil(() => until(configs), timeoutMs, 'the discovery messages at the broker').catch((err: unknown) =>
      assert.fail(`${String(err)}; seen: ${[...configs.keys()].join(', ') || 'nothing'}`),
    );
    return configs;
  } finally {
    await client.endAsync();
  }
}
