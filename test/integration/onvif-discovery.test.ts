/**
 * WS-Discovery. Multicast is tested inside a network namespace the test creates (`unshare -rn`:
 * a private loopback with multicast on, so nothing reaches or comes from the machine's network),
 * against the oxvif mock made discoverable. The unicast path and the filtering of stray answers
 * are tested with a responder on loopback that the test runs itself.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type DiscoveredCamera, probe } from '../../server/src/onvif/discovery.js';
import { onvifMockBinary } from '../helpers/onvif-mock.js';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/onvif/${name}`, import.meta.url), 'utf8');
const child = fileURLToPath(new URL('../helpers/onvif-discovery-child.ts', import.meta.url));
// Inside the namespace: loopback up, multicast on, the multicast range routed to it; then the probe.
const NETNS_SETUP = 'ip link set lo up && ip link set lo multicast on && ip route add 224.0.0.0/4 dev lo && exec "$@"';

function netnsAvailable(): string | undefined {
  const res = spawnSync('unshare', ['-rn', 'sh', '-c', 'ip link set lo up'], { encoding: 'utf8' });
  if (res.error) return `unshare is missing (${res.error.message})`;
  if (res.status !== 0) return `no unprivileged network namespace here: ${res.stderr.trim()}`;
  return undefined;
}

describe('WS-Discovery', { timeout: 60_000 }, () => {
  it('finds the mock camera by multicast and by unicast probe, in a network namespace of its own', async (t) => {
    const why = netnsAvailable();
    if (why) {
      t.skip(why);
      return;
    }
    const proc = spawn(
      'unshare',
      [
        '-rn',
        'sh',
        '-c',
        NETNS_SETUP,
        'sh',
        process.execPath,
        '--import',
        'tsx',
        child,
        onvifMockBinary(),
        'Front Door',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    proc.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    proc.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const code = await new Promise<number | null>((resolve) => proc.once('exit', resolve));
    assert.equal(code, 0, err);
    const found = JSON.parse(out.trim().split('\n').pop() ?? '{}') as {
      multicast: DiscoveredCamera[];
      multicastDefault: DiscoveredCamera[];
      unicast: DiscoveredCamera[];
    };
    for (const list of [found.multicast, found.multicastDefault, found.unicast]) {
      assert.equal(list.length, 1);
      const cam = list[0] as DiscoveredCamera;
      assert.equal(cam.name, 'Front Door');
      assert.equal(cam.hardware, 'MockCam-1080p');
      assert.deepEqual(cam.xaddrs, ['http://127.0.0.1:18080/onvif/device']);
      assert.ok(cam.types.includes('dn:NetworkVideoTransmitter'));
      assert.match(cam.endpoint, /^urn:uuid:/);
    }
    assert.equal(found.multicast[0]?.endpoint, found.unicast[0]?.endpoint);
  });

  it('a unicast probe keeps the answers to its own message and ignores stray datagrams', async () => {
    const responder = createSocket('udp4');
    await new Promise<void>((r) => responder.bind(0, '127.0.0.1', r));
    const port = (responder.address() as AddressInfo).port;
    const probes: string[] = [];
    responder.on('message', (msg, from) => {
      const text = msg.toString('utf8');
      probes.push(text);
      const id = /<a:MessageID>([^<]+)<\/a:MessageID>/.exec(text)?.[1] ?? '';
      const match = fixture('probe-matches.xml');
      const reply = (s: string) => responder.send(s, from.port, from.address);
      reply('not xml at all');
      reply(
        match
          .replace('urn:uuid:0b8f4c33-6a0e-4a5e-9b55-2f7b3f0c1d2e', 'urn:uuid:someone-else')
          .replace('Front%20Door', 'Other'),
      );
      reply(match.replace('urn:uuid:0b8f4c33-6a0e-4a5e-9b55-2f7b3f0c1d2e', id));
      reply(match.replace('urn:uuid:0b8f4c33-6a0e-4a5e-9b55-2f7b3f0c1d2e', id)); // a camera answering twice
    });
    try {
      const found = await probe({ address: '127.0.0.1', port, timeoutMs: 800 });
      assert.equal(probes.length, 1);
      assert.deepEqual(
        found.map((c) => [c.name, c.hardware, c.xaddrs[0]]),
        [['Front Door', 'DS-2CD2143G2-I', 'http://192.168.1.64/onvif/device_service']],
      );
    } finally {
      responder.close();
    }
  });

  it('refuses what is not an IPv4 address, and stops when aborted', async () => {
    await assert.rejects(probe({ address: 'camera.local' }), /IPv4/);
    const ac = new AbortController();
    const started = Date.now();
    const pending = probe({ address: '127.0.0.1', port: 9, timeoutMs: 10_000, signal: ac.signal });
    setTimeout(() => ac.abort(), 100);
    assert.deepEqual(await pending, []);
    assert.ok(Date.now() - started < 2_000);
  });
});
