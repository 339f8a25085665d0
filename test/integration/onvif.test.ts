/**
 * The ONVIF client against a real ONVIF device: the crates.io oxvif mock (test/onvif-mock, built by
 * `npm run setup`), behind a recording proxy that counts every request (test/helpers/onvif-mock.ts).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, describe, it } from 'node:test';
import {
  OnvifClient,
  type OnvifEvent,
  type OnvifEventSubscription,
  type OnvifSubscriptionStatus,
} from '../../server/src/onvif/index.js';
import { type OnvifMock, startOnvifMock } from '../helpers/onvif-mock.js';
import { waitUntil } from '../helpers/processes.js';

const USER = 'camstack';
const PASSWORD = 'S3cret-Pa55word';

interface Recorder {
  events: OnvifEvent[];
  statuses: OnvifSubscriptionStatus[];
  sub: OnvifEventSubscription;
}

function subscribe(
  client: OnvifClient,
  options: Partial<ConstructorParameters<typeof OnvifEventSubscription>[0]> = {},
): Recorder {
  const events: OnvifEvent[] = [];
  const statuses: OnvifSubscriptionStatus[] = [];
  const sub = client.eventSubscription({
    minPullIntervalMs: 200,
    backoff: { initialMs: 400, maxMs: 3_000 },
    ...options,
    onEvent: (e) => events.push(e),
    onStatus: (s) => statuses.push(s),
  });
  sub.start();
  return { events, statuses, sub };
}

const mocks: OnvifMock[] = [];
async function mock(options: Parameters<typeof startOnvifMock>[0] = {}): Promise<OnvifMock> {
  const m = await startOnvifMock(options);
  mocks.push(m);
  return m;
}
after(async () => {
  for (const m of mocks) await m.stop();
});

describe('ONVIF client against the oxvif mock', { timeout: 120_000 }, () => {
  it('reads the device time, the profiles and their stream URIs', async () => {
    const m = await mock();
    const client = new OnvifClient({ host: '127.0.0.1', deviceUrl: m.deviceUrl });
    const { clockOffsetMs, services } = await client.connect();
    assert.equal(clockOffsetMs, 0, 'the mock runs on the real clock');
    assert.ok(services.events, 'an events address');
    const info = await client.deviceInformation();
    assert.equal(info.manufacturer, 'oxvif-mock');
    const profiles = await client.profiles();
    assert.deepEqual(
      profiles.map((p) => p.token),
      ['Profile_1', 'Profile_2', 'Profile_3', 'Profile_4'],
    );
    const streams = await client.findStreams();
    // 1920×1080 H.264 is the source; of the two 704×480 profiles the H.264 one is the substream (not the JPEG).
    assert.equal(streams.source?.profile.token, 'Profile_1');
    assert.equal(streams.substream?.profile.token, 'Profile_2');
    assert.ok((streams.source?.profile.width ?? 0) > (streams.substream?.profile.width ?? 0));
    // Read through Media2, which the mock has (its Media2 stream is /mock/h265).
    assert.equal(streams.source?.profile.media2, true);
    assert.equal(streams.source?.uri, 'rtsp://127.0.0.1:554/mock/h265');
    assert.equal(m.count('GetSystemDateAndTime'), 1);

    // A camera whose Media2 faults: Media1 instead.
    await m.control('/admin/inject_fault?action=ver20/media/wsdl/GetProfiles&code=s:Receiver');
    const fallback = new OnvifClient({ host: '127.0.0.1', deviceUrl: m.deviceUrl });
    const viaMedia1 = await fallback.findStreams();
    assert.equal(viaMedia1.source?.profile.token, 'Profile_1');
    assert.equal(viaMedia1.source?.profile.media2, undefined);
    assert.equal(viaMedia1.source?.uri, 'rtsp://127.0.0.1:554/mock/stream');
  });

  it('subscribes and pulls motion and field (ObjectsInside → intrusion) events; a digital-input pulse gives start then end', async () => {
    const m = await mock();
    const r = subscribe(new OnvifClient({ host: '127.0.0.1', deviceUrl: m.deviceUrl }));
    try {
      await waitUntil(
        () =>
          r.events.some((e) => e.type === 'motion' && e.state === 'start') &&
          r.events.some((e) => e.type === 'intrusion'),
        15_000,
        'motion and intrusion events',
      );
      const motion = r.events.find((e) => e.type === 'motion');
      assert.equal(motion?.topic, 'VideoSource/MotionAlarm');
      assert.equal(motion?.source, 'VS_1');
      assert.ok(Math.abs((motion?.at ?? 0) - Date.now()) < 10_000);
      const inside = r.events.find((e) => e.type === 'intrusion');
      assert.equal(inside?.topic, 'RuleEngine/FieldDetector/ObjectsInside');
      assert.equal(inside?.source, 'MyFieldDetectorRule');

      await m.control('/mock/digital-input/DigitalInput_1/pulse');
      await waitUntil(
        () => r.events.filter((e) => e.type === 'digital_input').length >= 2,
        10_000,
        'the digital input start and end',
      );
      const di = r.events.filter((e) => e.type === 'digital_input');
      assert.deepEqual(
        di.map((e) => [e.state, e.source, e.topic]),
        [
          ['start', 'DigitalInput_1', 'Device/Trigger/DigitalInput'],
          ['end', 'DigitalInput_1', 'Device/Trigger/DigitalInput'],
        ],
      );
      assert.equal(m.count('CreatePullPointSubscription'), 1);
      assert.equal(r.sub.status.state, 'subscribed');
    } finally {
      await r.sub.stop();
    }
    assert.equal(m.count('Unsubscribe'), 1, 'stop() unsubscribes');
  });

  it('authenticates with a WS-Security digest when the camera enforces it, and says why when refused', async () => {
    const m = await mock({ auth: { user: USER, password: PASSWORD } });
    const good = subscribe(
      new OnvifClient({ host: '127.0.0.1', deviceUrl: m.deviceUrl, user: USER, password: PASSWORD }),
    );
    try {
      await waitUntil(() => good.events.length >= 2, 15_000, 'events with the right password');
    } finally {
      await good.sub.stop();
    }
    const pulls = m.requests.filter((q) => q.operation === 'PullMessages');
    assert.ok(pulls.every((q) => q.body.includes('#PasswordDigest')));
    assert.ok(!m.requests.some((q) => q.body.includes(PASSWORD)), 'the password never travels');

    const wrong = 'Wr0ng-Password!';
    const before = m.requests.length;
    const bad = subscribe(new OnvifClient({ host: '127.0.0.1', deviceUrl: m.deviceUrl, user: USER, password: wrong }), {
      backoff: { initialMs: 500, maxMs: 2_000 },
    });
    try {
      await waitUntil(() => bad.statuses.filter((s) => s.state === 'retrying').length >= 2, 10_000, 'two refusals');
      const refusal = bad.statuses.find((s) => s.state === 'retrying');
      assert.match(refusal?.error ?? '', / at 127\.0\.0\.1:\d+: SOAP fault .*FailedAuthentication/);
      for (const s of bad.statuses) {
        assert.ok(!(s.error ?? '').includes(wrong) && !(s.error ?? '').includes(USER), 'no credential in a status');
      }
      await new Promise((r) => setTimeout(r, 2_000));
      // 500 ms → 1 s → 2 s (halved at most by jitter): a handful of attempts in ~3 s, not hundreds.
      // Each attempt starts by asking the camera's time (unauthenticated), then is refused.
      const attempts = m.requests.slice(before).filter((q) => q.operation === 'GetSystemDateAndTime').length;
      assert.ok(attempts >= 2 && attempts <= 8, `attempts: ${attempts}`);
    } finally {
      await bad.sub.stop();
    }
  });

  it('stamps WS-Security in the camera clock when our clock is an hour off', async () => {
    const m = await mock({ auth: { user: USER, password: PASSWORD } });
    const skew = -3_600_000; // our clock is an hour behind the camera's
    const client = new OnvifClient(
      { host: '127.0.0.1', deviceUrl: m.deviceUrl, user: USER, password: PASSWORD },
      { now: () => Date.now() + skew },
    );
    const r = subscribe(client);
    try {
      await waitUntil(() => r.events.length >= 2, 15_000, 'events with a skewed clock');
    } finally {
      await r.sub.stop();
    }
    assert.ok(Math.abs(client.transport.clockOffsetMs + skew) < 2_000, `offset ${client.transport.clockOffsetMs}`);
    const created = m.requests
      .map((q) => /<wsu:Created>([^<]+)<\/wsu:Created>/.exec(q.body))
      .filter((x): x is RegExpExecArray => x !== null)
      .map((x) => ({ created: Date.parse(x[1] as string) }));
    const stamped = m.requests.filter((q) => q.body.includes('<wsu:Created>'));
    assert.ok(stamped.length >= 3);
    for (const [i, q] of stamped.entries()) {
      const c = created[i]?.created ?? 0;
      assert.ok(
        Math.abs(c - q.at) < 3_000,
        `Created ${new Date(c).toISOString()} vs the camera's ${new Date(q.at).toISOString()}`,
      );
    }
    // Event times are in our (skewed) clock.
    const ev = r.events[0] as OnvifEvent;
    assert.ok(Math.abs(ev.at - (Date.now() + skew)) < 15_000);
  });

  it('recovers from injected PullMessages faults with backoff, recreating the subscription', async () => {
    const m = await mock();
    const r = subscribe(new OnvifClient({ host: '127.0.0.1', deviceUrl: m.deviceUrl }), {
      backoff: { initialMs: 400, maxMs: 3_000 },
    });
    try {
      await waitUntil(() => r.events.length >= 1, 10_000, 'a first event');
      for (let i = 0; i < 3; i++)
        await m.control('/admin/inject_fault?action=PullMessagesRequest&code=s:Receiver&reason=Injected');
      const faultedAt = Date.now();
      await waitUntil(
        () => r.statuses.some((s) => s.state === 'retrying' && s.failures === 3),
        15_000,
        'three faults in a row',
      );
      const eventsBefore = r.events.length;
      await waitUntil(() => r.events.length > eventsBefore && r.sub.status.state === 'subscribed', 15_000, 'recovery');
      const recovered = r.statuses.at(-1);
      assert.equal(recovered?.failures, 0);
      const retries = r.statuses.filter((s) => s.state === 'retrying');
      assert.match(retries[0]?.error ?? '', /PullMessages at 127\.0\.0\.1:\d+: SOAP fault/);
      assert.deepEqual(
        retries.slice(-3).map((s) => s.failures),
        [1, 2, 3],
      );
      // Backoff 400 → 800 → 1600 ms (each at least halved by jitter): at least ~1.4 s in all.
      const creates = m.requests.filter((q) => q.operation === 'CreatePullPointSubscription' && q.at >= faultedAt);
      assert.equal(creates.length, 3, 'a new subscription after each fault');
      const pullsDuring = m.requests.filter(
        (q) => q.operation === 'PullMessages' && q.at >= faultedAt && q.at <= (creates[2]?.at ?? 0),
      );
      assert.ok(pullsDuring.length <= 4, `pulls while faulting: ${pullsDuring.length}`);
      assert.ok((creates[2]?.at ?? 0) - faultedAt >= 1_300, 'the retries waited');
    } finally {
      await r.sub.stop();
    }
  });

  it('recreates the subscription when Renew is refused, and renews when it is accepted', async () => {
    const refusing = await mock();
    const r = subscribe(new OnvifClient({ host: '127.0.0.1', deviceUrl: refusing.deviceUrl }), {
      terminationSeconds: 3,
    });
    try {
      await waitUntil(() => refusing.count('CreatePullPointSubscription') >= 2, 15_000, 'a recreate after Renew');
      assert.ok(refusing.count('Renew') >= 1);
      assert.equal(r.sub.status.state === 'subscribed' || r.sub.status.state === 'connecting', true);
      assert.ok(!r.statuses.some((s) => s.state === 'retrying'), 'a refused Renew is not a failure');
    } finally {
      await r.sub.stop();
    }
    const accepting = await mock({ ack: ['renew', 'unsubscribe', 'sync'] });
    const a = subscribe(new OnvifClient({ host: '127.0.0.1', deviceUrl: accepting.deviceUrl }), {
      terminationSeconds: 3,
    });
    try {
      await waitUntil(() => accepting.count('Renew') >= 2, 15_000, 'two renewals');
      assert.equal(accepting.count('CreatePullPointSubscription'), 1);
      // Renewed at 80 % of the 3 s asked (the mock reports an end equal to its current time, which is not believed).
      const times = accepting.requests
        .filter((q) => q.operation === 'CreatePullPointSubscription' || q.operation === 'Renew')
        .map((q) => q.at);
      for (let i = 1; i < 3; i++) {
        const gap = (times[i] ?? 0) - (times[i - 1] ?? 0);
        assert.ok(gap >= 2_200 && gap <= 3_200, `renewal gap ${gap} ms`);
      }
      assert.equal(accepting.count('SetSynchronizationPoint'), 1);
    } finally {
      await a.sub.stop();
    }
  });

  it('backs off while the camera is down and recovers when it is back', async () => {
    const m = await mock();
    const r = subscribe(new OnvifClient({ host: '127.0.0.1', deviceUrl: m.deviceUrl }, { timeoutMs: 2_000 }), {
      backoff: { initialMs: 300, maxMs: 1_200 },
    });
    try {
      await waitUntil(() => r.events.length >= 1, 10_000, 'a first event');
      await m.kill();
      const downAt = Date.now();
      await new Promise((res) => setTimeout(res, 4_000));
      const during = m.requests.filter((q) => q.at >= downAt).length;
      // 300, 600, 1200, 1200… ms: about 5 attempts in 4 s (each one or two requests), never a busy loop.
      assert.ok(during <= 16, `requests while down: ${during}`);
      assert.ok(
        r.statuses.some(
          (s) =>
            s.state === 'retrying' && /^PullMessages at 127\.0\.0\.1:\d+: unreachable: connection/.test(s.error ?? ''),
        ),
      );
      await m.restart();
      const eventsBefore = r.events.length;
      await waitUntil(() => r.events.length > eventsBefore, 15_000, 'events after the restart');
      assert.equal(r.sub.status.state, 'subscribed');
    } finally {
      await r.sub.stop();
    }
  });

  it('stop() leaves nothing behind: a process that subscribed and stopped exits by itself', async () => {
    const m = await mock({ ack: ['unsubscribe'] });
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/onvif-stop-child.ts', m.deviceUrl], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        resolve(null);
      }, 20_000);
      child.once('exit', (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    assert.equal(code, 0, `the process exited by itself: ${out}`);
    const report = JSON.parse(out.trim().split('\n').pop() ?? '{}') as {
      stopped?: boolean;
      stopMs?: number;
      status?: string;
    };
    assert.equal(report.stopped, true);
    assert.equal(report.status, 'stopped');
    assert.ok((report.stopMs ?? 99_999) < 3_000, `stop took ${report.stopMs} ms`);
    assert.equal(m.count('Unsubscribe'), 1);
  });
});
