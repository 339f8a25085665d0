import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { integrationConfig } from '../../server/src/config/integration-options.js';
import { resolveBroker } from '../../server/src/mqtt/broker.js';
import {
  parseMqttService,
  parseNetworkInfo,
  parsePort,
  SupervisorClient,
  SupervisorError,
  supervisorFromEnv,
} from '../../server/src/supervisor-api/client.js';

describe('Supervisor API parsing', () => {
  it('accepts the MQTT port as a number or a string', () => {
    assert.equal(parsePort(1883), 1883);
    assert.equal(parsePort('1883'), 1883);
    assert.equal(parsePort(' 8883 '), 8883);
    assert.equal(parsePort('x'), null);
    assert.equal(parsePort(0), null);
    assert.equal(parsePort(70000), null);
  });

  it('reads the MQTT service data', () => {
    assert.deepEqual(
      parseMqttService({
        addon: 'core_mosquitto',
        host: 'core-mosquitto',
        port: '1883',
        ssl: false,
        username: 'addons',
        password: 'secret',
        protocol: '3.1.1',
      }),
      { host: 'core-mosquitto', port: 1883, ssl: false, username: 'addons', password: 'secret', protocol: '3.1.1' },
    );
    assert.throws(() => parseMqttService({ port: 1883 }), /no host/);
    assert.throws(() => parseMqttService({ host: 'h', port: 'abc' }), /invalid port/);
  });

  it('lists IPv4 addresses of connected interfaces, the primary first, without prefix lengths', () => {
    const info = parseNetworkInfo({
      interfaces: [
        { interface: 'wlan0', primary: false, enabled: true, connected: true, ipv4: { address: ['10.0.0.7/24'] } },
        {
          interface: 'eth0',
          primary: true,
          enabled: true,
          connected: true,
          ipv4: { address: ['192.168.1.10/24', '192.168.1.11/24'] },
          ipv6: { address: ['fd00::1/64'] },
        },
        { interface: 'eth1', primary: false, enabled: true, connected: false, ipv4: { address: ['172.16.0.1/16'] } },
      ],
    });
    assert.deepEqual(info.ipv4, ['192.168.1.10', '192.168.1.11', '10.0.0.7']);
    assert.equal(info.interfaces.length, 2);
  });

  it('exists only with a SUPERVISOR_TOKEN; SUPERVISOR_URL overrides the host', () => {
    assert.equal(supervisorFromEnv({}), null);
    const s = supervisorFromEnv({ SUPERVISOR_TOKEN: 't0k', SUPERVISOR_URL: 'http://127.0.0.1:9/' });
    assert.ok(s);
    assert.equal(s.coreApiUrl, 'http://127.0.0.1:9/core/api');
    assert.equal(s.coreWebsocketUrl, 'ws://127.0.0.1:9/core/websocket');
    assert.equal(supervisorFromEnv({ SUPERVISOR_TOKEN: 'x' })?.coreWebsocketUrl, 'ws://supervisor/core/websocket');
  });
});

describe('SupervisorClient against an HTTP stand-in', () => {
  let server: Server;
  let base: string;
  const seen: IncomingMessage[] = [];
  let mqttAnswer: { status: number; body: unknown } = { status: 200, body: {} };

  before(async () => {
    server = createServer((req, res) => {
      seen.push(req);
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (req.headers.authorization !== 'Bearer good-token') return send(401, { result: 'error', message: 'nope' });
      if (req.url === '/services/mqtt') return send(mqttAnswer.status, mqttAnswer.body);
      if (req.url === '/network/info') {
        return send(200, {
          result: 'ok',
          data: { interfaces: [{ interface: 'eth0', primary: true, ipv4: { address: ['192.168.5.2/24'] } }] },
        });
      }
      send(404, { result: 'error', message: 'not found' });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  it('gets the MQTT service with the bearer token', async () => {
    mqttAnswer = {
      status: 200,
      body: { result: 'ok', data: { host: '127.0.0.1', port: '1884', ssl: false, username: 'u', password: 'p' } },
    };
    const client = new SupervisorClient({ baseUrl: base, token: 'good-token' });
    assert.deepEqual(await client.mqttService(), {
      host: '127.0.0.1',
      port: 1884,
      ssl: false,
      username: 'u',
      password: 'p',
      protocol: '3.1.1',
    });
    assert.equal(seen.at(-1)?.headers.authorization, 'Bearer good-token');
    assert.deepEqual((await client.networkInfo()).ipv4, ['192.168.5.2']);
  });

  it('reports "Service not enabled" with the Supervisor’s own words, and MQTT then is an error to retry', async () => {
    mqttAnswer = { status: 400, body: { result: 'error', message: 'Service not enabled' } };
    const client = new SupervisorClient({ baseUrl: base, token: 'good-token' });
    await assert.rejects(client.mqttService(), (err: unknown) => {
      assert.ok(err instanceof SupervisorError);
      assert.equal(err.status, 400);
      assert.match(err.message, /Service not enabled/);
      return true;
    });
    const r = await resolveBroker(integrationConfig({}).mqtt, client);
    assert.equal(r.kind, 'error');
    assert.match((r as { reason: string }).reason, /Mosquitto broker add-on/);
  });

  it('fails clearly on a bad token or an unreachable Supervisor', async () => {
    await assert.rejects(new SupervisorClient({ baseUrl: base, token: 'bad' }).mqttService(), /nope/);
    await assert.rejects(
      new SupervisorClient({ baseUrl: 'http://127.0.0.1:9', token: 'x', timeoutMs: 2000 }).mqttService(),
      /not reachable/,
    );
  });

  it('options win over the Supervisor; without either MQTT is off, not an error', async () => {
    const fromOptions = await resolveBroker(
      integrationConfig({ mqtt_host: 'broker.lan', mqtt_port: 1999, mqtt_username: 'cam' }).mqtt,
      new SupervisorClient({ baseUrl: base, token: 'good-token' }),
    );
    assert.equal(fromOptions.kind, 'broker');
    assert.equal((fromOptions as { settings: { url: string } }).settings.url, 'mqtt://broker.lan:1999');
    assert.equal((await resolveBroker(integrationConfig({}).mqtt, null)).kind, 'disabled');
    assert.equal(
      (await resolveBroker(integrationConfig({ mqtt_enabled: false, mqtt_host: 'x' }).mqtt, null)).kind,
      'disabled',
    );
  });
});
