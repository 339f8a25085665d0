/**
 * Malformed and oversized MQTT commands on every command topic (server/src/mqtt/topics.ts:
 * recording/set, clip/save, snapshot/save), against the real server and a real Mosquitto: binary
 * junk, 1 MB payloads, JSON of the wrong type, empty payloads, near-misses of the real words, and
 * hostile camera ids in the topic. Each must be ignored with a clear log line naming the reason;
 * nothing may change (cameras, recordings, the engines' config, no snapshot or clip written); the
 * server must stay up and still obey a valid command afterwards.
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connectAsync, type MqttClient } from 'mqtt';
import { SyntheticCameraServer } from '../../scripts/synthetic-cameras.js';
import { type Mosquitto, startMosquitto } from '../helpers/mosquitto.js';
import { freePorts } from '../helpers/ports.js';
import { waitUntil } from '../helpers/processes.js';
import { type ServerProcess, startServerProcess } from '../helpers/server-process.js';
import { call, type StateSnapshot, stateSnapshot } from './support.js';

const CAMERA = 'front';

/** A QoS 1 publish that fails instead of hanging when the broker drops the connection. */
async function publish(client: MqttClient, topic: string, payload: string | Buffer, retain = false): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    client.publishAsync(topic, payload, { qos: 1, retain }),
    new Promise((_r, reject) => {
      timer = setTimeout(() => reject(new Error(`no PUBACK for ${topic.slice(0, 80)} within 15 s`)), 15_000);
    }),
  ]).finally(() => clearTimeout(timer));
}

async function filesUnder(dir: string): Promise<string[]> {
  try {
    const out: string[] = [];
    for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) out.push(e.name);
    return out;
  } catch {
    return [];
  }
}

describe('malformed MQTT commands', () => {
  let broker: Mosquitto;
  let sim: SyntheticCameraServer;
  let sp: ServerProcess;
  let baseline: StateSnapshot;

  before(async () => {
    broker = await startMosquitto();
    const [rtspPort, apiPort] = (await freePorts(2)) as [number, number];
    sim = new SyntheticCameraServer({ rtspPort, apiPort });
    await sim.start();
    await sim.addCamera({ name: CAMERA, width: 320, height: 240, fps: 10, audio: false });
    sp = await startServerProcess({
      options: { mqtt_host: '127.0.0.1', mqtt_port: broker.port },
      env: { CAMSTACK_MQTT_BIRTH_DELAY_MS: '300', CAMSTACK_MQTT_RECONNECT_MS: '200', CAMSTACK_STATUS_POLL_MS: '500' },
    });
    const created = await call(sp.baseUrl, '/api/cameras', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: CAMERA, name: 'Front', source: sim.url(CAMERA) }),
    });
    assert.equal(created.status, 201, created.body);
    await waitUntil(
      async () => {
        const h = JSON.parse((await call(sp.baseUrl, '/api/health')).body) as { mqtt?: { state: string } };
        return h.mqtt?.state === 'connected';
      },
      20_000,
      'MQTT connected',
    );
    await new Promise((r) => setTimeout(r, 1500));
    baseline = await stateSnapshot(sp.baseUrl, sp.enginePorts);
  });

  after(async () => {
    await sp?.cleanup();
    await sim?.stop();
    await broker?.cleanup();
  });

  it('junk on every command topic is ignored with a clear log line, and changes nothing', async () => {
    const topics = ['recording/set', 'clip/save', 'snapshot/save'].map((t) => `camstack/camera/${CAMERA}/${t}`);
    const payloads: [string, string | Buffer][] = [
      ['empty', ''],
      ['binary junk', Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0xff, 0xfe, 0x80])],
      ['1 MB', Buffer.alloc(1024 * 1024, 0x41)],
      ['1 MB that starts with the right word', Buffer.concat([Buffer.from('PRESS'), Buffer.alloc(1024 * 1024, 0x20)])],
      ['JSON object', '{"state":"ON","press":true}'],
      ['JSON number', '1'],
      ['JSON true', 'true'],
      ['JSON array', '["ON","PRESS"]'],
      ['JSON null', 'null'],
      ['JSON string', '"ON"'],
      ['lower case', 'on'],
      ['trailing newline', 'PRESS\n'],
      ['a NUL after the word', Buffer.from('ON\u0000')],
      ['__proto__', '{"__proto__":{"polluted":true}}'],
      ['not UTF-8', Buffer.from([0xc0, 0xae, 0xc0, 0xae])],
    ];
    const badTopics = [
      'camstack/camera/..%2f..%2fetc/recording/set',
      'camstack/camera/../recording/set',
      `camstack/camera/${'a'.repeat(300)}/snapshot/save`,
      'camstack/camera/FRONT/clip/save',
      'camstack/camera/front door/snapshot/save',
      'camstack/camera/nope/recording/set',
    ];
    const client = await connectAsync(broker.url, { reconnectPeriod: 0 });
    const before = (sp.output().match(/ignoring a (retained )?command/g) ?? []).length;
    let sent = 0;
    try {
      for (const topic of topics) {
        for (const [, payload] of payloads) {
          await publish(client, topic, payload);
          sent++;
        }
      }
      for (const topic of badTopics) {
        // Subscriptions are `camstack/camera/+/…`: a topic with more levels never reaches the server.
        await publish(client, topic, topic.endsWith('recording/set') ? 'ON' : 'PRESS');
      }
    } finally {
      await client.endAsync();
    }
    const reached = sent + badTopics.filter((t) => t.split('/').length === 5).length;
    await waitUntil(
      () => (sp.output().match(/ignoring a (retained )?command/g) ?? []).length - before >= reached,
      20_000,
      `${reached} commands logged as ignored`,
    ).catch(() =>
      assert.fail(
        `${(sp.output().match(/ignoring a (retained )?command/g) ?? []).length - before} of ${reached} logged:\n${sp
          .output()
          .split('\n')
          .filter((l) => l.includes('MQTT'))
          .slice(-30)
          .join('\n')}`,
      ),
    );
    const out = sp.output();
    assert.match(out, /ignoring a command: payload too long \(1048576 bytes\)/);
    assert.match(out, /ignoring a command: payload too long \(1048581 bytes\)/);
    assert.match(out, /ignoring a command: expected ON or OFF, got \(empty\)/);
    assert.match(out, /ignoring a command: expected PRESS, got \\"PRESS\?\\"/);
    assert.match(out, /ignoring a command: expected ON or OFF, got \\"on\\"/);
    assert.match(out, /unknown camera \\"nope\\"/);
    assert.match(out, /invalid camera id \\"FRONT\\"/);
    // A log line never carries a megabyte: every line stays short.
    const longest = Math.max(...out.split('\n').map((l) => l.length));
    assert.ok(longest < 20_000, `the longest log line has ${longest} characters`);

    assert.equal(sp.proc.exitCode, null, 'the server is alive');
    assert.deepEqual(await stateSnapshot(sp.baseUrl, sp.enginePorts), baseline, 'nothing changed');
    assert.deepEqual(await filesUnder(join(sp.dir, 'media')), [], 'no snapshot or clip was written');
    assert.doesNotMatch(await readFile(join(sp.dir, 'cameras.yaml'), 'utf8'), /continuous: true/);
  });

  it('still obeys a valid command afterwards', async () => {
    const client = await connectAsync(broker.url, { reconnectPeriod: 0 });
    try {
      await publish(client, `camstack/camera/${CAMERA}/recording/set`, 'ON');
      await waitUntil(
        async () =>
          (
            JSON.parse((await call(sp.baseUrl, `/api/cameras/${CAMERA}`)).body) as {
              recording: { continuous: boolean };
            }
          ).recording.continuous,
        10_000,
        'continuous recording on',
      );
      await publish(client, `camstack/camera/${CAMERA}/recording/set`, 'OFF');
      await waitUntil(
        async () =>
          !(
            JSON.parse((await call(sp.baseUrl, `/api/cameras/${CAMERA}`)).body) as {
              recording: { continuous: boolean };
            }
          ).recording.continuous,
        10_000,
        'continuous recording off',
      );
    } finally {
      await client.endAsync();
    }
    const health = JSON.parse((await call(sp.baseUrl, '/api/health')).body) as { status: string };
    assert.equal(health.status, 'ok');
  });
});
