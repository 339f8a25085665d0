/**
 * `npm run demo`: the engines, two synthetic cameras and the Camstack server, all on 127.0.0.1.
 * Prints the URL to open; Ctrl-C stops everything (and every child process with it).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startCamstack } from '../server/src/main.js';
import { SyntheticCameraServer } from './synthetic-cameras.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const demoDir = join(root, '.cache', 'demo');
const port = Number(process.env.CAMSTACK_PORT ?? 8099);

const sim = new SyntheticCameraServer({ rtspPort: 28554, apiPort: 29997 });
await sim.start();
const cameras = [
  { id: 'front_door', name: 'Front door' },
  { id: 'garden', name: 'Garden' },
];
for (const cam of cameras) await sim.addCamera({ name: cam.id, label: cam.name });

await mkdir(join(demoDir, 'data'), { recursive: true });

// A local MQTT broker (Debian's mosquitto, installed by setup) so the MQTT discovery side runs too.
const mqttPort = Number(process.env.CAMSTACK_DEMO_MQTT_PORT ?? 18883);
const mosquittoBin = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto'].find((p) => existsSync(p));
let mosquitto: ReturnType<typeof spawn> | null = null;
if (mosquittoBin) {
  const conf = join(demoDir, 'mosquitto.conf');
  await writeFile(conf, `listener ${mqttPort} 127.0.0.1\nallow_anonymous true\npersistence false\nuser root\n`);
  mosquitto = spawn(mosquittoBin, ['-c', conf], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 300));
} else {
  process.stdout.write('mosquitto not found (run npm run setup): the demo runs without MQTT\n');
}
await mkdir(join(demoDir, 'media'), { recursive: true });
const camerasFile = join(demoDir, 'cameras.yaml');
await writeFile(
  camerasFile,
  `cameras:\n${cameras.map((c) => `  - id: ${c.id}\n    name: ${c.name}\n    source: ${sim.url(c.id)}\n`).join('')}`,
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
    `Press Ctrl-C to stop.\n\n`,
);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    void (async () => {
      await camstack.stop(signal);
      await sim.stop();
      mosquitto?.kill('SIGTERM');
      process.exit(0);
    })();
  });
}
