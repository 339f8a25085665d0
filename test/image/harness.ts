/**
 * The add-on image run the way the Home Assistant Supervisor runs it, for test/image/*.test.ts:
 *
 * - a Docker network like the Supervisor's `hassio` network (172.30.32.0/23, gateway .1), made
 *   and removed by the test; HA Core talks to add-ons from the gateway address (.1), the
 *   Supervisor's ingress proxy from .2;
 * - the Supervisor API stand-in (test/helpers/supervisor-standin.ts) on the gateway, port 80: the
 *   add-on resolves `supervisor` to it (`--add-host`), as `http://supervisor` in the add-on (the
 *   real Supervisor answers at .2, which here is the ingress proxy: what the add-on sees of the
 *   API is the same);
 * - the ingress proxy (test/image/ingress-proxy.mjs) in a container at .2, run by the image's Node;
 * - Mosquitto (camstack-test/mosquitto:bookworm, Debian's) at .10 with a user and password, which
 *   the stand-in hands out as the `mqtt` service, like the Mosquitto add-on;
 * - a synthetic RTSP camera (scripts/synthetic-cameras.ts, with credentials) on the gateway;
 * - the add-on container at .30: /data/options.json from config.yaml's `options` plus a camera and
 *   an api_token, /data, /config and /media as bind mounts, SUPERVISOR_TOKEN, TZ, no --init
 *   (config.yaml: `init: false`, the image's tini is PID 1), --stop-timeout from `timeout:`.
 *
 * Every container, the network and the temp folders are removed by `close()`; images are not
 * (test/image/docker.ts builds and removes them).
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { SyntheticCameraServer } from '../../scripts/synthetic-cameras.js';
import { freePorts } from '../helpers/ports.js';
import { type SupervisorStandin, startSupervisorStandin } from '../helpers/supervisor-standin.js';
import { docker, dockerOk, log } from './docker.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

export const SUBNET = '172.30.32.0/23';
export const GATEWAY = '172.30.32.1';
export const PROXY_IP = '172.30.32.2';
export const MQTT_IP = '172.30.32.10';
export const ADDON_IP = '172.30.32.30';
export const OTHER_IP = '172.30.32.40';
export const INGRESS_PORT = 8099;
export const API_PORT = 8098;
export const PROXY_PORT = 8080;

export interface StackOptions {
  /** The add-on image to run (and to run the ingress proxy's Node from). */
  image: string;
  /** Docker platform of the image (linux/amd64, linux/arm64). */
  platform: string;
  /** A name part for every object (container, network), unique per run. */
  name: string;
  camera?: { width: number; height: number; fps: number };
}

export interface Stack {
  dir: string;
  media: string;
  data: string;
  config: string;
  token: string;
  apiToken: string;
  mqtt: { url: string; username: string; password: string };
  supervisor: SupervisorStandin;
  addon: string;
  network: string;
  /** Container name → kept for `close()`. */
  containers: string[];
  ingress: string;
  direct: string;
  /** `docker run` of the add-on container; returns when it was created. */
  startAddon: () => { startedAt: number };
  logs: () => string;
  close: () => Promise<void>;
}

export const CAMERA_ID = 'front';

/** config.yaml's `options` (what the add-on UI saves before the user changes anything). */
export async function uiDefaults(): Promise<Record<string, unknown>> {
  const config = parse(await readFile(join(root, 'addon/config.yaml'), 'utf8')) as {
    options: Record<string, unknown>;
  };
  return structuredClone(config.options);
}

async function stopTimeout(): Promise<number> {
  const config = parse(await readFile(join(root, 'addon/config.yaml'), 'utf8')) as { timeout?: number };
  return config.timeout ?? 10;
}

/** Removes what an earlier, killed run of this test may have left (our names only). */
export function removeLeftovers(): void {
  const containers = docker(['ps', '-aq', '--filter', 'name=^camstack-test-'])
    .stdout.trim()
    .split('\n')
    .filter(Boolean);
  if (containers.length > 0) docker(['rm', '-f', ...containers]);
  const networks = docker(['network', 'ls', '-q', '--filter', 'name=^camstack-test-'])
    .stdout.trim()
    .split('\n')
    .filter(Boolean);
  if (networks.length > 0) docker(['network', 'rm', ...networks]);
}

export async function startStack(opts: StackOptions): Promise<Stack> {
  const dir = await mkdtemp(join(tmpdir(), 'camstack-image-'));
  const data = join(dir, 'data');
  const media = join(dir, 'media');
  const config = join(dir, 'config');
  const conf = join(dir, 'mosquitto');
  await Promise.all([mkdir(data), mkdir(media), mkdir(config), mkdir(conf)]);
  const containers: string[] = [];
  const network = `camstack-test-${opts.name}`;
  const token = randomBytes(24).toString('hex');
  const apiToken = randomBytes(16).toString('hex');
  const mqttUser = 'addons';
  const mqttPassword = randomBytes(12).toString('hex');
  const cameraAuth = { user: 'viewer', pass: randomBytes(8).toString('hex') };
  let supervisor: SupervisorStandin | null = null;
  let camera: SyntheticCameraServer | null = null;

  const close = async () => {
    for (const c of containers.reverse()) docker(['rm', '-f', c]);
    await camera?.stop().catch(() => undefined);
    await supervisor?.close().catch(() => undefined);
    docker(['network', 'rm', network]);
    await rm(dir, { recursive: true, force: true });
  };

  try {
    dockerOk(['network', 'create', '--driver', 'bridge', '--subnet', SUBNET, '--gateway', GATEWAY, network]);

    supervisor = await startSupervisorStandin({
      host: GATEWAY,
      port: 80,
      token,
      mqtt: { host: 'core-mosquitto', port: 1883, username: mqttUser, password: mqttPassword },
      interfaces: [{ interface: 'eth0', primary: true, ipv4: [`${GATEWAY}/23`] }],
    });

    // Mosquitto, as the Mosquitto add-on: a user, no anonymous access.
    await writeFile(
      join(conf, 'mosquitto.conf'),
      'listener 1883 0.0.0.0\nallow_anonymous false\npassword_file /mosquitto/passwd\npersistence false\n',
    );
    await chmod(conf, 0o755);
    const mqttName = `camstack-test-mqtt-${opts.name}`;
    dockerOk([
      'run',
      '-d',
      '--name',
      mqttName,
      '--network',
      network,
      '--ip',
      MQTT_IP,
      '--network-alias',
      'core-mosquitto',
      '-v',
      `${conf}:/conf:ro`,
      '-e',
      `MQTT_USER=${mqttUser}`,
      '-e',
      `MQTT_PASSWORD=${mqttPassword}`,
      'camstack-test/mosquitto:bookworm',
      'sh',
      '-c',
      'mkdir -p /mosquitto && mosquitto_passwd -b -c /mosquitto/passwd "$MQTT_USER" "$MQTT_PASSWORD" && chown mosquitto /mosquitto/passwd && exec mosquitto -c /conf/mosquitto.conf',
    ]);
    containers.push(mqttName);

    // The camera: RTSP with credentials, on the gateway address (reachable from the containers).
    const [rtspPort = 0, cameraApiPort = 0] = await freePorts(2);
    camera = new SyntheticCameraServer({
      rtspPort,
      apiPort: cameraApiPort,
      rtspHost: GATEWAY,
      auth: cameraAuth,
    });
    await camera.start();
    const cam = opts.camera ?? { width: 640, height: 360, fps: 10 };
    await camera.addCamera({ name: 'front', ...cam, audio: false });

    // /data/options.json: the UI's defaults, one camera, the direct port's token.
    const options = {
      ...(await uiDefaults()),
      cameras: [
        {
          id: CAMERA_ID,
          name: 'Front door',
          source: camera.url('front'),
          username: cameraAuth.user,
          password: cameraAuth.pass,
        },
      ],
      api_token: apiToken,
    };
    await writeFile(join(data, 'options.json'), JSON.stringify(options));

    const addon = `camstack-test-addon-${opts.name}`;
    const proxy = `camstack-test-proxy-${opts.name}`;
    dockerOk([
      'run',
      '-d',
      '--name',
      proxy,
      '--platform',
      opts.platform,
      '--network',
      network,
      '--ip',
      PROXY_IP,
      '-v',
      `${join(root, 'test/image/ingress-proxy.mjs')}:/proxy/ingress-proxy.mjs:ro`,
      '-e',
      `TARGET=http://${ADDON_IP}:${INGRESS_PORT}`,
      '-e',
      `PORT=${PROXY_PORT}`,
      '--entrypoint',
      'node',
      opts.image,
      '/proxy/ingress-proxy.mjs',
    ]);
    containers.push(proxy);

    const timeout = await stopTimeout();
    const startAddon = () => {
      const startedAt = Date.now();
      dockerOk([
        'run',
        '-d',
        '--name',
        addon,
        '--hostname',
        'local-camstack',
        '--platform',
        opts.platform,
        '--network',
        network,
        '--ip',
        ADDON_IP,
        '--add-host',
        `supervisor:${GATEWAY}`,
        '--stop-timeout',
        String(timeout),
        '-e',
        `SUPERVISOR_TOKEN=${token}`,
        '-e',
        'TZ=Europe/Amsterdam',
        '-v',
        `${data}:/data`,
        '-v',
        `${config}:/config`,
        '-v',
        `${media}:/media`,
        opts.image,
      ]);
      containers.push(addon);
      return { startedAt };
    };

    return {
      dir,
      media,
      data,
      config,
      token,
      apiToken,
      mqtt: { url: `mqtt://${MQTT_IP}:1883`, username: mqttUser, password: mqttPassword },
      supervisor,
      addon,
      network,
      containers,
      ingress: `http://${PROXY_IP}:${PROXY_PORT}`,
      direct: `http://${ADDON_IP}:${API_PORT}`,
      startAddon,
      logs: () => {
        const res = docker(['logs', addon]);
        return `${res.stdout}${res.stderr}`;
      },
      close,
    };
  } catch (err) {
    log(`setting up the stack failed: ${err instanceof Error ? err.message : String(err)}`);
    await close();
    throw err;
  }
}
