/**
 * The add-on as users get it, on amd64: addon/Dockerfile built on a local Debian bookworm base
 * (scripts/image/local-bases.sh), run the way the Supervisor runs it (test/image/harness.ts), and
 * checked from the outside: Docker's HEALTHCHECK, the ingress guard by real source addresses, the
 * token of the direct port, MQTT discovery at the broker, a clip on the /media volume, and
 * `docker stop` ending cleanly. Image size and start-to-healthy time are printed (bench figures).
 *
 * Run by `npm run test:image` (scripts/test-image.sh prepares Docker and the base images).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { waitUntil } from '../helpers/processes.js';
import {
  bearer,
  call,
  discoveryAtBroker,
  ffprobe,
  health,
  mediaFiles,
  recordClip,
  waitCameraOnline,
  waitHealthy,
  waitReady,
} from './checks.js';
import { addonVersion, buildImage, docker, dockerOk, imageSizeMb, log } from './docker.js';
import {
  ADDON_IP,
  CAMERA_ID,
  GATEWAY,
  INGRESS_PORT,
  OTHER_IP,
  PROXY_IP,
  removeLeftovers,
  type Stack,
  startStack,
} from './harness.js';

const ARCH = 'amd64';
const TAG = `camstack-test/addon:${ARCH}-${process.pid}`;
const KEEP = process.env.CAMSTACK_IMAGE_KEEP === '1';

describe(`the add-on image on ${ARCH}, run as the Supervisor runs it`, () => {
  let stack: Stack;
  let startedAt = 0;
  let readyS = 0;
  let healthyS = 0;

  before(async () => {
    removeLeftovers();
    log(`building addon/Dockerfile for linux/${ARCH} (log: /tmp/camstack-image-build-${ARCH}.log)…`);
    const buildS = await buildImage(ARCH, TAG, `/tmp/camstack-image-build-${ARCH}.log`);
    log(`built ${TAG} in ${buildS.toFixed(0)} s; image size ${imageSizeMb(TAG).toFixed(0)} MB`);
    stack = await startStack({ image: TAG, platform: `linux/${ARCH}`, name: `${ARCH}-${process.pid}` });
    ({ startedAt } = stack.startAddon());
    await waitReady(stack, 120_000);
    readyS = (Date.now() - startedAt) / 1000;
    log(`ready (engines running) ${readyS.toFixed(1)} s after docker run`);
  });

  after(async () => {
    if (stack) {
      // The container's log, for a failed run: /tmp/camstack-image-addon-<arch>.log.
      writeFileSync(`/tmp/camstack-image-addon-${ARCH}.log`, stack.logs());
      await stack.close();
    }
    if (!KEEP) docker(['image', 'rm', '-f', TAG]);
  });

  it('is the image config.yaml describes: tini as PID 1, HEALTHCHECK, HA labels, Node 22 for the arch', async () => {
    const inspect = JSON.parse(dockerOk(['image', 'inspect', TAG]))[0] as {
      Architecture: string;
      Config: {
        Entrypoint: string[];
        Cmd: string[] | null;
        Healthcheck?: { Test: string[] };
        Labels: Record<string, string>;
      };
    };
    assert.equal(inspect.Architecture, ARCH);
    assert.deepEqual(inspect.Config.Entrypoint.slice(0, 3), ['/usr/bin/tini', '--', 'node']);
    assert.match(inspect.Config.Healthcheck?.Test.join(' ') ?? '', /\/api\/health\/live/);
    assert.equal(inspect.Config.Labels['io.hass.arch'], 'amd64');
    assert.equal(inspect.Config.Labels['io.hass.type'], 'app');
    assert.equal(inspect.Config.Labels['io.hass.version'], await addonVersion());
    const top = dockerOk(['exec', stack.addon, 'cat', '/proc/1/cmdline']).replaceAll('\0', ' ');
    assert.match(top, /^\/usr\/bin\/tini -- node /, 'tini is PID 1');
    const node = dockerOk(['exec', stack.addon, 'node', '-p', 'process.version + " " + process.arch']);
    assert.match(node, /^v22\.\d+\.\d+ x64$/);
  });

  it('reports healthy through Docker’s HEALTHCHECK (start-to-healthy time printed)', async () => {
    await waitHealthy(stack, 180_000);
    healthyS = (Date.now() - startedAt) / 1000;
    log(`healthy (Docker HEALTHCHECK) ${healthyS.toFixed(1)} s after docker run; ready was ${readyS.toFixed(1)} s`);
    assert.equal(health(stack.addon), 'healthy');
  });

  it('asked the Supervisor stand-in at http://supervisor for MQTT and the network, with the token', () => {
    const asked = stack.supervisor.requests.filter((r) => r.method !== 'WS');
    assert.ok(
      asked.some((r) => r.path === '/services/mqtt' && r.authorized),
      JSON.stringify(asked),
    );
    assert.ok(
      asked.some((r) => r.path === '/network/info' && r.authorized),
      JSON.stringify(asked),
    );
    assert.ok(
      asked.every((r) => r.authorized),
      'every call carries SUPERVISOR_TOKEN',
    );
    const logs = stack.logs();
    for (const secret of [stack.token, stack.apiToken, stack.mqtt.password]) {
      assert.ok(!logs.includes(secret), 'no credential in the container log');
    }
  });

  it('ingress: the proxy at .2 gets the panel and the API, WebSocket included', async () => {
    const panel = await call(`${stack.ingress}/`);
    assert.equal(panel.status, 200, panel.text.slice(0, 300));
    assert.match(String(panel.headers['content-type']), /^text\/html/);
    const cameras = await call(`${stack.ingress}/api/cameras`);
    assert.equal(cameras.status, 200, cameras.text);
    assert.deepEqual(
      (JSON.parse(cameras.text) as { id: string }[]).map((c) => c.id),
      [CAMERA_ID],
    );
    const events = await call(`${stack.ingress}/api/events`);
    assert.equal(events.status, 200);
    assert.match(String(events.headers['content-type']), /event-stream/);
    // The live view's WebSocket (MSE), upgraded through the proxy.
    const opened = await new Promise<boolean>((resolve) => {
      const ws = new WebSocket(`${stack.ingress.replace(/^http/, 'ws')}/api/cameras/${CAMERA_ID}/ws`);
      ws.once('open', () => {
        ws.close();
        resolve(true);
      });
      ws.once('error', () => resolve(false));
      ws.once('unexpected-response', () => resolve(false));
    });
    assert.ok(opened, 'the WebSocket opened through the ingress proxy');
  });

  it('ingress: HA Core’s address (.1) and any other address get 403, the snapshot included', async () => {
    // From this machine: the network's gateway, 172.30.32.1, which is HA Core's address.
    for (const path of ['/', '/api/cameras', `/api/cameras/${CAMERA_ID}/snapshot.jpg`, '/api/health']) {
      const res = await call(`http://${ADDON_IP}:${INGRESS_PORT}${path}`);
      assert.equal(res.status, 403, `${path} from ${GATEWAY}: ${res.status}`);
    }
    // From another container on the network.
    const other = docker([
      'run',
      '--rm',
      '--network',
      stack.network,
      '--ip',
      OTHER_IP,
      '--entrypoint',
      'curl',
      TAG,
      '-s',
      '-o',
      '/dev/null',
      '-w',
      '%{http_code}',
      `http://${ADDON_IP}:${INGRESS_PORT}/api/cameras`,
    ]);
    assert.equal(other.stdout.trim(), '403', `from ${OTHER_IP}: ${other.stdout}${other.stderr}`);
    // …while the proxy's address still gets in (the same path, just now).
    assert.equal((await call(`${stack.ingress}/api/cameras`)).status, 200, `from ${PROXY_IP}`);
  });

  it('the direct port needs the api_token', async () => {
    assert.equal((await call(`${stack.direct}/api/cameras`)).status, 401);
    assert.equal(
      (await call(`${stack.direct}/api/cameras`, { headers: bearer('wrong-token-0123456789') })).status,
      401,
    );
    assert.equal((await call(`${stack.direct}/api/cameras`, { headers: bearer(stack.apiToken) })).status, 200);
  });

  it('the camera is verified, and its entities appear at the broker (MQTT discovery)', async () => {
    await waitCameraOnline(stack, 90_000);
    // Device-based discovery: one retained config per camera (and one for the hub), its entities
    // as components.
    const deviceTopic = `homeassistant/device/camstack_${CAMERA_ID}/config`;
    const components = (c: Map<string, Record<string, unknown>>) =>
      Object.values((c.get(deviceTopic)?.components ?? {}) as Record<string, { platform?: string }>);
    const configs = await discoveryAtBroker(
      stack,
      'homeassistant',
      (c) => components(c).some((e) => e.platform === 'camera') && c.has('homeassistant/device/camstack/config'),
      60_000,
    );
    const entities = components(configs);
    assert.ok(entities.length >= 5, `the camera's entities: ${entities.map((e) => e.platform).join(', ')}`);
    const snapshot = await call(`${stack.direct}/api/cameras/${CAMERA_ID}/snapshot.jpg`, {
      headers: bearer(stack.apiToken),
      timeoutMs: 30_000,
    });
    assert.equal(snapshot.status, 200);
    assert.equal(snapshot.body.subarray(0, 2).toString('hex'), 'ffd8', 'a JPEG');
  });

  it('records a clip to the /media volume, ffprobe-clean', async () => {
    const { file, probe } = await recordClip(stack, 4, 90_000);
    log(`clip ${file.slice(stack.media.length)}: ${probe.durationS.toFixed(1)} s, ffprobe-clean`);
  });

  it('docker stop: SIGTERM, a clean stop within timeout: 30, every child gone, every file valid', async () => {
    const t0 = Date.now();
    dockerOk(['stop', stack.addon], { timeoutMs: 60_000 });
    const stopS = (Date.now() - t0) / 1000;
    log(`docker stop took ${stopS.toFixed(1)} s`);
    const state = JSON.parse(dockerOk(['inspect', '-f', '{{json .State}}', stack.addon])) as {
      ExitCode: number;
      OOMKilled: boolean;
    };
    const logs = stack.logs();
    assert.ok(stopS < 30, `stopped before Docker's SIGKILL (${stopS} s)`);
    assert.match(logs, /every child process has exited/);
    assert.ok([0, 143].includes(state.ExitCode), `exit code ${state.ExitCode}`);
    assert.equal(state.OOMKilled, false);
    // Every recording is a valid MP4; every JSON file the server keeps in /data parses.
    const files = mediaFiles(stack.media);
    assert.ok(files.length >= 1);
    for (const f of files) {
      const p = ffprobe(f);
      assert.ok(p.ok, `${f}: ${p.errors}`);
    }
    const parts = readdirSync(join(stack.media, 'camstack', CAMERA_ID, 'clips')).filter((n) => n.endsWith('.part'));
    assert.deepEqual(parts, [], 'no clip left half-written');
    for (const f of readdirSync(stack.data).filter((n) => n.endsWith('.json'))) {
      assert.doesNotThrow(() => JSON.parse(readFileSync(join(stack.data, f), 'utf8')), f);
    }
    await waitUntil(() => health(stack.addon) !== 'starting', 1000, 'a final health state').catch(() => undefined);
  });
});
