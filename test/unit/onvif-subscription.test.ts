/**
 * The event subscription manager against scripted cameras on loopback, each answering with the
 * recorded vendor responses in test/fixtures/onvif/: the quirks the oxvif mock does not have.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import {
  type OnvifEvent,
  OnvifEventSubscription,
  type OnvifSubscriptionStatus,
  OnvifTransport,
} from '../../server/src/onvif/index.js';
import { digestAuthorization, parseDigestChallenge } from '../../server/src/onvif/security.js';
import { waitUntil } from '../helpers/processes.js';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/onvif/${name}`, import.meta.url), 'utf8');

interface Seen {
  operation: string;
  path: string;
  body: string;
  headers: IncomingMessage['headers'];
  at: number;
}
type Reply =
  | { status?: number; body?: string; headers?: Record<string, string>; delayMs?: number }
  | { hangupAfterMs: number };

const servers: Server[] = [];
after(() => {
  for (const s of servers) {
    s.closeAllConnections();
    s.close();
  }
});

/** A camera on loopback: `answer` gets each request (with the camera's base URL) and says what to reply. */
async function camera(answer: (req: Seen, base: string) => Reply): Promise<{ base: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  let base = '';
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const action = /action="([^"]+)"/.exec(req.headers['content-type'] ?? '')?.[1] ?? '';
      const s: Seen = {
        operation: action.slice(action.lastIndexOf('/') + 1).replace(/Request$/, ''),
        path: req.url ?? '',
        body: Buffer.concat(chunks).toString('utf8'),
        headers: req.headers,
        at: Date.now(),
      };
      seen.push(s);
      const reply = answer(s, base);
      if ('hangupAfterMs' in reply) {
        setTimeout(() => req.socket.destroy(), reply.hangupAfterMs).unref();
        return;
      }
      const send = () => {
        if (res.destroyed) return;
        res.writeHead(reply.status ?? 200, { 'content-type': 'application/soap+xml', ...reply.headers });
        res.end(reply.body ?? '');
      };
      // unref: a held answer must not keep the test process alive after the tests.
      if (reply.delayMs) setTimeout(send, reply.delayMs).unref();
      else send();
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { base, seen };
}

/** The camera's clock, now, as the GetSystemDateAndTime fixture's shape. */
function timeNow(): string {
  const d = new Date();
  return fixture('system-date-time-skewed.xml')
    .replace('<tt:Hour>21</tt:Hour>', `<tt:Hour>${d.getUTCHours()}</tt:Hour>`)
    .replace('<tt:Minute>17</tt:Minute>', `<tt:Minute>${d.getUTCMinutes()}</tt:Minute>`)
    .replace('<tt:Second>5</tt:Second>', `<tt:Second>${d.getUTCSeconds()}</tt:Second>`)
    .replace(
      '<tt:Year>2026</tt:Year><tt:Month>12</tt:Month><tt:Day>4</tt:Day>',
      `<tt:Year>${d.getUTCFullYear()}</tt:Year><tt:Month>${d.getUTCMonth() + 1}</tt:Month><tt:Day>${d.getUTCDate()}</tt:Day>`,
    );
}

function run(
  base: string,
  options: Partial<ConstructorParameters<typeof OnvifEventSubscription>[0]> = {},
  transport = new OnvifTransport(),
) {
  const events: OnvifEvent[] = [];
  const statuses: OnvifSubscriptionStatus[] = [];
  const sub = new OnvifEventSubscription({
    transport,
    deviceUrl: `${base}/onvif/device_service`,
    eventsUrl: `${base}/onvif/Events`,
    minPullIntervalMs: 100,
    backoff: { initialMs: 200, maxMs: 1_000 },
    ...options,
    onEvent: (e) => events.push(e),
    onStatus: (s) => statuses.push(s),
  });
  sub.start();
  return { sub, events, statuses };
}

const empty = { body: fixture('pull-empty.xml') };

describe('ONVIF event subscription with vendor quirks', { timeout: 60_000 }, () => {
  it('Tapo: a camera that ends 60 s pulls after a few seconds gets shorter pulls; a nonsense TerminationTime is not believed', async () => {
    const cam = await camera((req, base) => {
      if (req.operation === 'GetSystemDateAndTime') return { body: timeNow() };
      if (req.operation === 'CreatePullPointSubscription')
        return { body: fixture('create-now.xml').replace('http://10.0.0.8:2020', base) };
      if (req.operation === 'PullMessages') return { ...empty, delayMs: 2_600 };
      return { status: 500, body: fixture('fault-soap11.xml') };
    });
    const r = run(cam.base);
    try {
      await waitUntil(() => cam.seen.filter((s) => s.operation === 'PullMessages').length >= 3, 15_000, 'three pulls');
    } finally {
      await r.sub.stop();
    }
    const timeouts = cam.seen
      .filter((s) => s.operation === 'PullMessages')
      .map((s) => /<tev:Timeout>(PT\d+S)<\/tev:Timeout>/.exec(s.body)?.[1]);
    assert.deepEqual(timeouts.slice(0, 3), ['PT60S', 'PT5S', 'PT5S']);
    assert.equal(r.sub.pullTimeoutSeconds, 5);
    assert.ok(cam.seen.every((s) => s.path !== '/onvif/Events' || s.operation === 'CreatePullPointSubscription'));
    assert.ok(cam.seen.filter((s) => s.operation === 'PullMessages').every((s) => s.path === '/event-0_2020'));
    assert.equal(
      cam.seen.filter((s) => s.operation === 'Renew').length,
      0,
      'an end at its current time: we use our 600 s',
    );
    assert.equal(cam.seen.filter((s) => s.operation === 'CreatePullPointSubscription').length, 1);
  });

  it('a camera that hangs up on long pulls gets shorter ones, without counting it as a failure at first', async () => {
    let pulls = 0;
    const cam = await camera((req, base) => {
      if (req.operation === 'GetSystemDateAndTime') return { body: timeNow() };
      if (req.operation === 'CreatePullPointSubscription')
        return { body: fixture('create-hikvision.xml').replace('http://192.168.1.64', base) };
      if (req.operation === 'PullMessages')
        return pulls++ === 0 ? { hangupAfterMs: 2_600 } : { ...empty, delayMs: 200 };
      return { status: 500, body: fixture('fault-soap11.xml') };
    });
    const r = run(cam.base);
    try {
      await waitUntil(() => pulls >= 3, 10_000, 'pulls after the hang-up');
    } finally {
      await r.sub.stop();
    }
    assert.equal(r.sub.pullTimeoutSeconds, 5);
    assert.ok(!r.statuses.some((s) => s.state === 'retrying'), 'no backoff for it');
    assert.equal(cam.seen.filter((s) => s.operation === 'CreatePullPointSubscription').length, 1);
  });

  it('a camera that wants a login for its time (against the spec) still gets subscribed', async () => {
    let pulls = 0;
    const cam = await camera((req, base) => {
      if (req.operation === 'GetSystemDateAndTime') return { status: 400, body: fixture('fault-not-authorized.xml') };
      if (req.operation === 'CreatePullPointSubscription')
        return { body: fixture('create-hikvision.xml').replace('http://192.168.1.64', base) };
      if (req.operation === 'PullMessages')
        return pulls++ === 0 ? { body: fixture('pull-detectors.xml') } : { ...empty, delayMs: 200 };
      return { status: 500, body: fixture('fault-soap11.xml') };
    });
    const r = run(cam.base);
    try {
      await waitUntil(() => r.events.length >= 7, 10_000, 'the detector events');
    } finally {
      await r.sub.stop();
    }
    // The Initialized "person: false" is no change from nothing; the rest are.
    assert.deepEqual(
      r.events.map((e) => `${e.type}:${e.state}`),
      [
        'person:start',
        'vehicle:start',
        'line_crossing:start',
        'line_crossing:end',
        'tamper:start',
        'digital_input:start',
        'intrusion:start',
      ],
    );
  });

  it('one state per event type: two motion topics overlap into one motion; a line crossed while a crossing is on is inside it', async () => {
    const note = (topic: string, item: string, value: string, source = 'VS_1') =>
      `<wsnt:NotificationMessage><wsnt:Topic Dialect="http://www.onvif.org/ver10/tev/topicExpression/ConcreteSet">${topic}</wsnt:Topic>` +
      `<wsnt:Message><tt:Message UtcTime="0000-00-00T00:00:00Z" PropertyOperation="Changed"><tt:Source><tt:SimpleItem Name="Source" Value="${source}"/></tt:Source>` +
      `<tt:Data><tt:SimpleItem Name="${item}" Value="${value}"/></tt:Data></tt:Message></wsnt:Message></wsnt:NotificationMessage>`;
    const answer = (...notes: string[]) =>
      fixture('pull-empty.xml')
        .replace(
          '<tev:PullMessagesResponse>',
          '<tev:PullMessagesResponse xmlns:wsnt="http://docs.oasis-open.org/wsn/b-2" xmlns:tt="http://www.onvif.org/ver10/schema" xmlns:tns1="http://www.onvif.org/ver10/topics">',
        )
        .replace('</tev:PullMessagesResponse>', `${notes.join('')}</tev:PullMessagesResponse>`);
    const script = [
      answer(note('tns1:RuleEngine/CellMotionDetector/Motion', 'IsMotion', 'true')),
      answer(
        note('tns1:VideoSource/MotionAlarm', 'State', 'true'),
        note('tns1:RuleEngine/CellMotionDetector/Motion', 'IsMotion', 'true'),
      ),
      answer(
        note('tns1:RuleEngine/LineCrossDetector/LineCross', 'IsLineCross', 'true', 'Gate'),
        note('tns1:RuleEngine/LineDetector/Crossed', 'ObjectId', '3', 'Gate'),
        note('tns1:RuleEngine/MyRuleDetector/VehicleDetect', 'State', 'true'),
      ),
      answer(
        note('tns1:RuleEngine/CellMotionDetector/Motion', 'IsMotion', 'false'),
        note('tns1:RuleEngine/LineCrossDetector/LineCross', 'IsLineCross', 'false', 'Gate'),
      ),
      answer(
        note('tns1:VideoSource/MotionAlarm', 'State', 'false'),
        note('tns1:VideoSource/MotionAlarm', 'State', 'false'),
      ),
      answer(note('tns1:RuleEngine/LineDetector/Crossed', 'ObjectId', '4', 'Gate')),
    ];
    let pulls = 0;
    const cam = await camera((req, base) => {
      if (req.operation === 'GetSystemDateAndTime') return { body: timeNow() };
      if (req.operation === 'CreatePullPointSubscription')
        return { body: fixture('create-hikvision.xml').replace('http://192.168.1.64', base) };
      if (req.operation === 'PullMessages') {
        const body = script[pulls++];
        return body ? { body } : { ...empty, delayMs: 300 };
      }
      return { status: 500, body: fixture('fault-soap11.xml') };
    });
    const r = run(cam.base);
    try {
      await waitUntil(() => pulls > script.length, 10_000, 'the whole script');
    } finally {
      await r.sub.stop();
    }
    assert.deepEqual(
      r.events.map((e) => `${e.type}:${e.state}${e.momentary ? ' (momentary)' : ''}`),
      [
        'motion:start',
        'line_crossing:start',
        'vehicle:start',
        'line_crossing:end',
        'motion:end',
        'line_crossing:start (momentary)',
        'line_crossing:end (momentary)',
      ],
    );
    assert.equal(r.events.find((e) => e.type === 'motion' && e.state === 'end')?.topic, 'VideoSource/MotionAlarm');
  });

  it('Axis: reference parameters are echoed on every call to the subscription, and on Unsubscribe', async () => {
    let pulls = 0;
    const cam = await camera((req, base) => {
      if (req.operation === 'GetSystemDateAndTime') return { body: timeNow() };
      if (req.operation === 'CreatePullPointSubscription')
        return { body: fixture('create-axis.xml').replace('http://10.0.0.30', base) };
      if (req.operation === 'PullMessages')
        return pulls++ === 0 ? { body: fixture('pull-state.xml') } : { ...empty, delayMs: 300 };
      if (req.operation === 'Unsubscribe')
        return {
          body: '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><UnsubscribeResponse/></s:Body></s:Envelope>',
        };
      return { status: 500, body: fixture('fault-soap11.xml') };
    });
    const r = run(cam.base);
    try {
      await waitUntil(() => r.events.length >= 2, 10_000, 'the motion start and end');
    } finally {
      await r.sub.stop();
    }
    const scoped = cam.seen.filter((s) =>
      ['PullMessages', 'SetSynchronizationPoint', 'Unsubscribe'].includes(s.operation),
    );
    assert.ok(scoped.some((s) => s.operation === 'Unsubscribe'));
    for (const s of scoped) {
      assert.equal(s.path, '/onvif/services');
      assert.ok(
        s.body.includes(
          '<dom0:SubscriptionId xmlns:dom0="http://www.axis.com/2009/event" wsa:IsReferenceParameter="true">17</dom0:SubscriptionId>',
        ),
        `${s.operation} echoes the reference parameter`,
      );
      assert.ok(s.body.includes(`<wsa:To>${cam.base}/onvif/services</wsa:To>`));
    }
    assert.deepEqual(
      r.events.map((e) => [e.type, e.state]),
      [
        ['motion', 'start'],
        ['motion', 'end'],
      ],
    );
  });

  it('Hikvision: the per-subscription address (on the host that answered us), zero timestamps replaced by the receive time', async () => {
    let pulls = 0;
    const cam = await camera((req) => {
      if (req.operation === 'GetSystemDateAndTime') return { body: timeNow() };
      // As recorded: the camera names its own LAN address, which is not where we reached it.
      if (req.operation === 'CreatePullPointSubscription') return { body: fixture('create-hikvision.xml') };
      if (req.operation === 'PullMessages')
        return pulls++ === 0 ? { body: fixture('pull-hikvision-zero-time.xml') } : { ...empty, delayMs: 300 };
      return { status: 500, body: fixture('fault-soap11.xml') };
    });
    const r = run(cam.base);
    try {
      await waitUntil(() => r.events.length >= 1, 10_000, 'the motion start');
    } finally {
      await r.sub.stop();
    }
    const pull = cam.seen.find((s) => s.operation === 'PullMessages') as Seen;
    assert.equal(pull.path, '/onvif/Events/PullSubManager_2026-12-04T20:40:11Z_3');
    const ev = r.events[0] as OnvifEvent;
    assert.equal(ev.type, 'motion');
    assert.equal(ev.state, 'start');
    assert.ok(Math.abs(ev.at - pull.at) < 2_000, 'the receive time');
  });

  it('a ResourceUnknown fault on a pull: what was on ends, the subscription is recreated after a backoff, with no Unsubscribe', async () => {
    let created = 0;
    let pulls = 0;
    const cam = await camera((req, base) => {
      if (req.operation === 'GetSystemDateAndTime') return { body: timeNow() };
      if (req.operation === 'CreatePullPointSubscription') {
        created++;
        return {
          body: fixture('create-hikvision.xml').replace('http://192.168.1.64', base).replace('_3<', `_${created}<`),
        };
      }
      if (req.operation === 'PullMessages' && created === 1 && ++pulls === 1)
        return { body: fixture('pull-hikvision-zero-time.xml') };
      if (req.operation === 'PullMessages' && created === 1)
        return { status: 400, body: fixture('fault-resource-unknown.xml') };
      if (req.operation === 'PullMessages') return { ...empty, delayMs: 300 };
      return { status: 500, body: fixture('fault-soap11.xml') };
    });
    const r = run(cam.base, { random: () => 1 });
    try {
      await waitUntil(() => created >= 2 && r.sub.status.state === 'subscribed', 10_000, 'a new subscription');
      await waitUntil(
        () => r.statuses.at(-1)?.failures === 0 && cam.seen.filter((s) => s.path.endsWith('_2')).length >= 1,
        10_000,
        'pulls on it',
      );
    } finally {
      await r.sub.stop();
    }
    const faulted = cam.seen.filter((s) => s.path.endsWith('_1') && s.operation === 'PullMessages')[1] as Seen;
    const second = cam.seen.filter((s) => s.operation === 'CreatePullPointSubscription')[1] as Seen;
    assert.ok(second.at - faulted.at >= 190, 'waited the backoff');
    assert.equal(cam.seen.filter((s) => s.operation === 'Unsubscribe' && s.path.endsWith('_1')).length, 0);
    // The motion that was on when the subscription was lost ends then: its state is unknown since.
    assert.deepEqual(
      r.events.map((e) => `${e.type}:${e.state}`),
      ['motion:start', 'motion:end'],
    );
    assert.ok(Math.abs((r.events[1]?.at ?? 0) - faulted.at) < 1_000);
    assert.match(
      r.statuses.find((s) => s.state === 'retrying')?.error ?? '',
      /PullMessages at 127\.0\.0\.1:\d+: SOAP fault ResourceUnknownFault/,
    );
  });

  it('Renew refused with ResourceUnknown at 80 % of the lifetime: a new subscription at once, no Unsubscribe of the gone one', async () => {
    let created = 0;
    const cam = await camera((req, base) => {
      if (req.operation === 'GetSystemDateAndTime') return { body: timeNow() };
      if (req.operation === 'CreatePullPointSubscription') {
        created++;
        // A 3 s lifetime in the camera's words (it is what we asked).
        return {
          body: fixture('create-hikvision.xml')
            .replace('http://192.168.1.64', base)
            .replace('_3<', `_${created}<`)
            .replace('2026-12-04T20:50:11Z', '2026-12-04T20:40:14Z'),
        };
      }
      if (req.operation === 'Renew') return { status: 400, body: fixture('fault-resource-unknown.xml') };
      if (req.operation === 'PullMessages') return { ...empty, delayMs: 200 };
      return { status: 500, body: fixture('fault-soap11.xml') };
    });
    const r = run(cam.base, { terminationSeconds: 3 });
    try {
      await waitUntil(() => created >= 2, 10_000, 'a new subscription after the refused Renew');
    } finally {
      await r.sub.stop();
    }
    const first = cam.seen.find((s) => s.operation === 'CreatePullPointSubscription') as Seen;
    const renew = cam.seen.find((s) => s.operation === 'Renew') as Seen;
    assert.ok(renew.path.endsWith('_1'), 'renewed at the subscription address');
    const gap = renew.at - first.at;
    assert.ok(gap >= 2_200 && gap <= 3_000, `renewed after ${gap} ms (80 % of 3 s)`);
    const second = cam.seen.filter((s) => s.operation === 'CreatePullPointSubscription')[1] as Seen;
    assert.ok(second.at - renew.at < 1_000, 'recreated at once');
    assert.ok(!cam.seen.some((s) => s.operation === 'Unsubscribe' && s.path.endsWith('_1')));
    assert.ok(!r.statuses.some((s) => s.state === 'retrying'), 'a refused Renew is not a failure');
  });

  it('HTTP Digest when the camera answers 401, and credentials masked in what a camera says back', async () => {
    const creds = { user: 'admin', password: 'hunter22-secret' };
    const challenge = 'Digest realm="IP Camera", qop="auth", nonce="abc123", opaque="xyz", algorithm=MD5';
    const authorised = (req: Seen): boolean => {
      const h = req.headers.authorization ?? '';
      const p = Object.fromEntries([...h.matchAll(/(\w+)="?([^",]*)"?/g)].map((m) => [m[1], m[2]]));
      const ch = parseDigestChallenge(challenge);
      if (!ch || !p.cnonce || !p.nc || !p.uri) return false;
      const expected = digestAuthorization(ch, creds, 'POST', p.uri, p.cnonce, Number.parseInt(p.nc, 16));
      return expected.includes(`response="${p.response}"`);
    };
    const cam = await camera((req, base) => {
      if (!authorised(req)) return { status: 401, headers: { 'www-authenticate': challenge }, body: 'unauthorised' };
      if (req.operation === 'GetSystemDateAndTime') return { body: timeNow() };
      if (req.operation === 'CreatePullPointSubscription')
        return { body: fixture('create-hikvision.xml').replace('http://192.168.1.64', base) };
      if (req.operation === 'PullMessages')
        return {
          status: 500,
          body: fixture('fault-soap11.xml').replace(
            'Method not implemented',
            `bad login ${creds.user}:${creds.password} at http://${creds.user}:${creds.password}@cam/`,
          ),
        };
      return { status: 500, body: fixture('fault-soap11.xml') };
    });
    const r = run(cam.base, {}, new OnvifTransport({ credentials: creds }));
    try {
      await waitUntil(() => r.statuses.some((s) => s.state === 'retrying'), 10_000, 'the pull fault');
    } finally {
      await r.sub.stop();
    }
    assert.ok(
      cam.seen.some((s) => s.operation === 'CreatePullPointSubscription' && authorised(s)),
      'Digest accepted',
    );
    const error = r.statuses.find((s) => s.state === 'retrying')?.error ?? '';
    assert.match(error, /^PullMessages at 127\.0\.0\.1:\d+: SOAP fault SOAP-ENV:Client: bad login/);
    assert.ok(!error.includes(creds.password) && !error.includes('admin'), error);
  });
});

describe('ONVIF event subscription stop', { timeout: 30_000 }, () => {
  it('stop() during a long pull ends it at once and gives Unsubscribe at most its short timeout', async () => {
    const cam = await camera((req, base) => {
      if (req.operation === 'GetSystemDateAndTime') return { body: timeNow() };
      if (req.operation === 'CreatePullPointSubscription')
        return { body: fixture('create-hikvision.xml').replace('http://192.168.1.64', base) };
      if (req.operation === 'PullMessages' || req.operation === 'Unsubscribe') return { ...empty, delayMs: 20_000 };
      return { status: 500, body: fixture('fault-soap11.xml') };
    });
    const r = run(cam.base, { unsubscribeTimeoutMs: 1_000 });
    await waitUntil(() => cam.seen.some((s) => s.operation === 'PullMessages'), 10_000, 'a pull in flight');
    const t0 = Date.now();
    await r.sub.stop();
    const took = Date.now() - t0;
    assert.ok(took >= 900 && took < 2_500, `stop took ${took} ms`);
    assert.equal(r.sub.status.state, 'stopped');
    assert.equal(cam.seen.filter((s) => s.operation === 'Unsubscribe').length, 1);
    assert.ok(!r.statuses.some((s) => s.state === 'retrying'), 'the aborted pull is no failure');
    // Stopped means stopped: no request after it.
    const count = cam.seen.length;
    await new Promise((res) => setTimeout(res, 1_000));
    assert.equal(cam.seen.length, count);
  });
});

describe('ONVIF transport errors', { timeout: 30_000 }, () => {
  it('names the operation and host only: timeouts, HTTP errors, oversized answers, no URL user info', async () => {
    const cam = await camera((req) => {
      if (req.path === '/slow') return { ...empty, delayMs: 1_500 };
      if (req.path === '/html') return { status: 404, body: '<html><body>not here</body></html>' };
      if (req.path === '/huge') return { body: `<s:Envelope>${'x'.repeat(5 * 1024 * 1024)}</s:Envelope>` };
      return { body: timeNow() };
    });
    const t = new OnvifTransport({ credentials: { user: 'admin', password: 'p4ssw0rd!' }, timeoutMs: 500 });
    const authed = cam.base.replace('http://', 'http://admin:p4ssw0rd!@');
    const req = { operation: 'GetProfiles', action: 'http://www.onvif.org/ver10/media/wsdl/GetProfiles', body: '<x/>' };
    const host = cam.base.slice('http://'.length);
    await assert.rejects(t.call(`${authed}/slow`, req), (e: Error & { kind?: string }) => {
      assert.equal(e.kind, 'timeout');
      assert.equal(e.message, `GetProfiles at ${host}: no answer within 1 s`);
      return true;
    });
    await assert.rejects(t.call(`${authed}/html`, req), { kind: 'http', message: `GetProfiles at ${host}: HTTP 404` });
    await assert.rejects(t.call(`${authed}/huge`, req, { timeoutMs: 10_000 }), {
      kind: 'bad_response',
      message: `GetProfiles at ${host}: answer larger than 4 MiB`,
    });
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    await assert.rejects(t.call(`http://127.0.0.1:${closedPort}/onvif`, req), (e: Error & { kind?: string }) => {
      assert.equal(e.kind, 'unreachable');
      assert.equal(e.message, `GetProfiles at 127.0.0.1:${closedPort}: unreachable: connection refused (ECONNREFUSED)`);
      return true;
    });
    const sent = cam.seen.filter((s) => s.path === '/slow');
    assert.equal(sent[0]?.headers.authorization, undefined, 'user info in the URL is not sent as Basic');
    assert.equal(await t.syncClock(`${authed}/time`), 0);
  });
});
