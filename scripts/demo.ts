/**
 * `npm run demo`: the engines, two synthetic cameras, a local MQTT broker and the Camstack server,
 * all on 127.0.0.1, with the panel built (rebuilt when its sources changed). The front door camera
 * records 24/7 with a pre-roll, and a first clip is saved a few seconds after start, so the
 * recording browser has something to show within a minute. Prints the URL to open; Ctrl-C stops
 * everything; a watchdog on a pipe ends every child process even when the demo is killed -9.
 *
 * Knobs (for tests and a second demo beside the first): CAMSTACK_PORT (8099), CAMSTACK_DEMO_DIR
 * (.cache/demo), CAMSTACK_DEMO_RTSP_PORT (28554), CAMSTACK_DEMO_CAMERA_API_PORT (29997),
 * CAMSTACK_DEMO_MQTT_PORT (18883), CAMSTACK_ENGINE_PORTS (JSON, as for the server).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startCamstack } from '../server/src/main.js';
import { SyntheticCameraServer } from './synthetic-cameras.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const demoDir = process.env.CAMSTACK_DEMO_DIR ?? join(root, '.cache', 'demo');
const port = Number(process.env.CAMSTACK_PORT ?? 8099);
const portEnv = (name: string, fallback: number) => Number(process.env[name] ?? fallback);

/** Newest modification time under a path (files only), 0 when it does not exist. */
function newest(path: string): number {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  return readdirSync(path).reduce((m, name) => Math.max(m, newest(join(path, name))), 0);
}

/** Builds the panel when server/public has none, or when a source is newer than the build. */
function ensurePanel(): void {
  const built = join(root, 'server', 'public', 'index.html');
  const sources = Math.max(newest(join(root, 'panel')), newest(join(root, 'server', 'src', 'contract')));
  if (existsSync(built) && statSync(built).mtimeMs >= sources) return;
  process.stdout.write(existsSync(built) ? 'the panel sources changed: rebuilding it…\n' : 'building the panel…\n');
  const res = spawnSync('npm', ['run', '--silent', 'build:panel'], { cwd: root, stdio: 'inherit' });
  if (res.status !== 0) throw new Error(`building the panel failed (npm run build:panel exited ${res.status})`);
}

ensurePanel();
await mkdir(join(demoDir, 'data'), { recursive: true });
await mkdir(join(demoDir, 'media'), { recursive: true });

// The watchdog outlives us: when our end of its pipe closes (also on kill -9), it ends the groups
// we name here and every engine/FFmpeg job named by a pid file.
const watchdog = spawn(
  process.execPath,
  [join(root, 'scripts', 'watchdog.mjs'), join(demoDir, 'data', 'engines', 'pids')],
  {
    stdio: ['pipe', 'ignore', 'inherit'],
    detached: true,
  },
);
watchdog.unref();
const guard = (pid: number | undefined) => {
  if (pid) watchdog.stdin?.write(`${pid}\n`);
};

const sim = new SyntheticCameraServer({
  rtspPort: portEnv('CAMSTACK_DEMO_RTSP_PORT', 28554),
  apiPort: portEnv('CAMSTACK_DEMO_CAMERA_API_PORT', 29997),
});
await sim.start();
for (const pid of sim.pids()) guard(pid);
const cameras = [
  // Recorded 24/7 with a pre-roll: the timeline, thumbnails and clips have something at once.
  {
    id: 'front_door',
    name: 'Front door',
    recording: '    recording:\n      continuous: true\n      pre_roll_seconds: 5\n',
  },
  // On demand: pulled only while someone watches.
  { id: 'garden', name: 'Garden', recording: '' },
];
for (const cam of cameras) {
  await sim.addCamera({ name: cam.id, label: cam.name });
  for (const pid of sim.pids()) guard(pid);
}

// A local MQTT broker (Debian's mosquitto, installed by setup) so the MQTT discovery side runs too.
const mqttPort = portEnv('CAMSTACK_DEMO_MQTT_PORT', 18883);
const mosquittoBin = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto'].find((p) => existsSync(p));
let mosquitto: ReturnType<typeof spawn> | null = null;
if (mosquittoBin) {
  const conf = join(demoDir, 'mosquitto.conf');
  await writeFile(conf, `listener ${mqttPort} 127.0.0.1\nallow_anonymous true\npersistence false\nuser root\n`);
  mosquitto = spawn(mosquittoBin, ['-c', conf], { stdio: 'ignore', detached: true });
  guard(mosquitto.pid);
  await new Promise((r) => setTimeout(r, 300));
} else {
  process.stdout.write('mosquitto not found (run npm run setup): the demo runs without MQTT\n');
}
const camerasFile = join(demoDir, 'cameras.yaml');
await writeFile(
  camerasFile,
  `cameras:\n${cameras.map((c) => `  - id: ${c.id}\n    name: ${c.name}\n    source: ${sim.url(c.id)}\n${c.recording}`).join('')}`,
);
const optionsFile = join(demoDir, 'options.json');
await writeFile(
  optionsFile,
  JSON.stringify(
    {
      log_level: 'info',
      cameras_file: camerasFile,
      media_dir: join(demoDir, 'media'),
      data_dir: join(demoDir, 'data'),
      webrtc_candidates: ['127.0.0.1'],
      ...(mosquitto ? { mqtt_host: '127.0.0.1', mqtt_port: mqttPort } : {}),
    },
    null,
    2,
  ),
);

const camstack = await startCamstack({
  ...process.env,
  CAMSTACK_OPTIONS: optionsFile,
  CAMSTACK_HOST: '127.0.0.1',
  CAMSTACK_PORT: String(port),
  CAMSTACK_WEBRTC_BIND: '127.0.0.1',
});

process.stdout.write(
  `\nCamstack demo is running.\n` +
    `  Panel / API:        http://127.0.0.1:${camstack.port}/\n` +
    `  Health:             http://127.0.0.1:${camstack.port}/api/health\n` +
    `  Synthetic cameras:  ${cameras.map((c) => sim.url(c.id)).join('  ')}\n` +
    (mosquitto ? `  MQTT broker:        mqtt://127.0.0.1:${mqttPort} (topics camstack/#, homeassistant/#)\n` : '') +
    `  Front door records 24/7 (5 s pre-roll); a first clip is saved in a few seconds.\n` +
    `Press Ctrl-C to stop.\n\n`,
);

// A first clip once a few seconds are recorded (its pre-roll comes from the recording), unless an
// earlier run left one.
const demoClip = setTimeout(async () => {
  const base = `http://127.0.0.1:${camstack.port}`;
  try {
    const list = (await (await fetch(`${base}/api/recordings?camera=front_door&type=clip&limit=1`)).json()) as {
      items?: unknown[];
    };
    if ((list.items ?? []).length > 0) return;
    await fetch(`${base}/api/cameras/front_door/clips`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ duration: 5, trigger: 'demo' }),
    });
  } catch (err) {
    camstack.logger.warn({ err: String(err) }, 'demo: the first clip could not be started');
  }
}, 12_000);

// A first camera event (a person for three seconds, as a doorbell camera would say): the
// recording timeline shows it with its picture, and it records a clip by the camera's rules.
const demoEvent = setTimeout(async () => {
  const base = `http://127.0.0.1:${camstack.port}`;
  try {
    const list = (await (await fetch(`${base}/api/camera-events?camera=front_door&limit=1`)).json()) as {
      items?: unknown[];
    };
    if ((list.items ?? []).length > 0) return;
    await fetch(`${base}/api/cameras/front_door/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'person', state: 'pulse', seconds: 3, detail: 'demo' }),
    });
  } catch (err) {
    camstack.logger.warn({ err: String(err) }, 'demo: the first camera event could not be reported');
  }
}, 30_000);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    clearTimeout(demoClip);
    clearTimeout(demoEvent);
    void (async () => {
      await camstack.stop(signal);
      await sim.stop();
      mosquitto?.kill('SIGTERM');
      process.exit(0);
    })();
  });
}
