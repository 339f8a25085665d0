import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { backoffDelay } from '../../server/src/onvif/backoff.js';
import { buildProbe, parseProbeMatches } from '../../server/src/onvif/discovery.js';
import * as events from '../../server/src/onvif/events.js';
import { buildEnvelope, parseSoapResponse } from '../../server/src/onvif/soap.js';
import { mapNotification, normaliseTopic, type OnvifEvent } from '../../server/src/onvif/topics.js';
import type { XmlNode } from '../../server/src/onvif/xml.js';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/onvif/${name}`, import.meta.url), 'utf8');
function body(name: string): XmlNode {
  const res = parseSoapResponse(fixture(name));
  assert.ok(res.ok, `${name} is not a fault`);
  return res.body;
}
const noRef: events.SubscriptionRef = { address: 'http://cam/sub', headerBlocks: [] };

describe('ONVIF event requests', () => {
  it('asks durations in seconds (PT600S), pulls for 60 s with a limit of 100', () => {
    assert.match(
      events.createPullPointSubscription(600).body,
      /<tev:InitialTerminationTime>PT600S<\/tev:InitialTerminationTime>/,
    );
    const pull = events.pullMessages(noRef, 60, 100);
    assert.match(pull.body, /<tev:Timeout>PT60S<\/tev:Timeout><tev:MessageLimit>100<\/tev:MessageLimit>/);
    assert.equal(pull.action, 'http://www.onvif.org/ver10/events/wsdl/PullPointSubscription/PullMessagesRequest');
    assert.equal(pull.headerBlocks, undefined, 'nothing to echo without reference parameters');
    assert.match(events.renew(noRef, 600).body, /<wsnt:TerminationTime>PT600S<\/wsnt:TerminationTime>/);
    assert.equal(
      events.renew(noRef, 600).action,
      'http://docs.oasis-open.org/wsn/bw-2/SubscriptionManager/RenewRequest',
    );
    assert.equal(events.unsubscribe(noRef).body, '<wsnt:Unsubscribe/>');
    assert.equal(events.isoSeconds(0.2), 'PT1S');
  });

  it('uses the per-subscription address (Hikvision) and the camera times', () => {
    const created = events.parseCreatePullPointSubscription(
      body('create-hikvision.xml'),
      fixture('create-hikvision.xml'),
    );
    assert.equal(created.ref.address, 'http://192.168.1.64/onvif/Events/PullSubManager_2026-12-04T20:40:11Z_3');
    assert.deepEqual(created.ref.headerBlocks, []);
    assert.equal((created.terminationTime ?? 0) - (created.currentTime ?? 0), 600_000);
  });

  it('echoes Axis reference parameters, with the namespace declared on the envelope copied onto them', () => {
    const raw = fixture('create-axis.xml');
    const created = events.parseCreatePullPointSubscription(body('create-axis.xml'), raw);
    assert.equal(created.ref.address, 'http://10.0.0.30/onvif/services');
    assert.deepEqual(created.ref.headerBlocks, [
      '<dom0:SubscriptionId xmlns:dom0="http://www.axis.com/2009/event" wsa:IsReferenceParameter="true">17</dom0:SubscriptionId>',
    ]);
    const pull = events.pullMessages(created.ref, 60, 100);
    const envelope = buildEnvelope(pull);
    assert.match(envelope, /<wsa:To>http:\/\/10.0.0.30\/onvif\/services<\/wsa:To><dom0:SubscriptionId/);
    assert.match(
      envelope,
      /<wsa:Action>http:\/\/www.onvif.org\/ver10\/events\/wsdl\/PullPointSubscription\/PullMessagesRequest/,
    );
    // It is still well-formed XML with the block in the header.
    const echoed = parseSoapResponse(envelope.replace('<s:Body>', '<s:Body><ok/>'));
    assert.ok(echoed.ok);
  });

  it('keeps several reference parameters apart, with their own declarations', () => {
    const raw =
      '<e xmlns:a="urn:a"><R:ReferenceParameters xmlns:R="urn:wsa"><a:Id>1</a:Id><b:Key xmlns:b="urn:b" b:x="1"><b:In/></b:Key></R:ReferenceParameters></e>';
    assert.deepEqual(events.referenceParameterBlocks(raw), [
      '<a:Id xmlns:a="urn:a" wsa:IsReferenceParameter="true">1</a:Id>',
      '<b:Key wsa:IsReferenceParameter="true" xmlns:b="urn:b" b:x="1"><b:In/></b:Key>',
    ]);
    assert.deepEqual(events.referenceParameterBlocks('<x><ReferenceParameters/></x>'), []);
  });

  it('reads Renew and treats Hikvision zero timestamps as none', () => {
    const times = events.parseRenew(body('renew.xml'));
    assert.equal((times.terminationTime ?? 0) - (times.currentTime ?? 0), 600_000);
    assert.equal(events.parseTime('0000-00-00T00:00:00Z'), undefined);
    assert.equal(events.parseTime('2026-12-04T20:40:58.250Z'), Date.UTC(2026, 11, 4, 20, 40, 58, 250));
    assert.equal(events.parseTime('2026-12-04T20:40:58'), Date.UTC(2026, 11, 4, 20, 40, 58), 'no zone: UTC');
    assert.equal(events.parseTime('garbage'), undefined);
  });

  it('reads an empty pull (Tapo closing early) as no messages', () => {
    assert.deepEqual(events.parsePullMessages(body('pull-empty.xml')).messages, []);
  });
});

describe('ONVIF topics', () => {
  it('normalises topics: prefixes of every segment and trailing / or . dropped', () => {
    assert.equal(normaliseTopic('tns1:VideoSource/tns1:MotionAlarm/'), 'VideoSource/MotionAlarm');
    assert.equal(
      normaliseTopic(' tns1:RuleEngine/CellMotionDetector/Motion. '),
      'RuleEngine/CellMotionDetector/Motion',
    );
    assert.equal(normaliseTopic('tns1:Device/tnsaxis:IO/Port'), 'Device/IO/Port');
  });

  it('Hikvision: IsMotion, and a zero timestamp replaced by the receive time', () => {
    const [msg] = events.parsePullMessages(body('pull-hikvision-zero-time.xml')).messages;
    assert.ok(msg);
    assert.equal(msg.utcTime, undefined);
    const receivedAt = Date.UTC(2026, 11, 4, 20, 41, 0, 123);
    assert.deepEqual(mapNotification(msg, receivedAt, 5_000), [
      {
        type: 'motion',
        state: 'start',
        topic: 'RuleEngine/CellMotionDetector/Motion',
        source: 'VideoSourceToken/VideoAnalyticsToken/MyMotionDetectorRule',
        at: receivedAt,
      },
    ]);
  });

  it('State on VideoSource/MotionAlarm: start then end, times corrected by the clock offset', () => {
    const msgs = events.parsePullMessages(body('pull-state.xml')).messages;
    const receivedAt = Date.UTC(2026, 11, 4, 20, 41, 0);
    const offset = 2_000; // the camera is 2 s ahead
    const out = msgs.flatMap((m) => mapNotification(m, receivedAt, offset));
    assert.deepEqual(
      out.map((e) => [e.type, e.state, e.topic, e.source, e.at]),
      [
        ['motion', 'start', 'VideoSource/MotionAlarm', 'VideoSource_1', Date.UTC(2026, 11, 4, 20, 40, 56, 250)],
        ['motion', 'end', 'VideoSource/MotionAlarm', 'VideoSource_1', Date.UTC(2026, 11, 4, 20, 40, 57, 750)],
      ],
    );
  });

  it('a timestamp far from the receive time (a camera clock we could not measure) is not trusted', () => {
    const [msg] = events.parsePullMessages(body('pull-state.xml')).messages;
    assert.ok(msg);
    const receivedAt = Date.UTC(2027, 0, 1);
    assert.equal(mapNotification(msg, receivedAt, 0)[0]?.at, receivedAt);
  });

  it('maps people, vehicles, line crossings, tamper, inputs and fields (intrusion); ignores the rest', () => {
    const msgs = events.parsePullMessages(body('pull-detectors.xml')).messages;
    assert.equal(msgs.length, 9);
    const out: OnvifEvent[] = msgs.flatMap((m) => mapNotification(m, Date.UTC(2026, 11, 4, 20, 41), 0));
    assert.deepEqual(
      out.map((e) => [e.type, e.state, e.source, e.initial ?? false, e.momentary ?? false]),
      [
        ['person', 'end', '000', true, false],
        ['person', 'start', '000', false, false],
        ['vehicle', 'start', '000', false, false],
        ['line_crossing', 'start', 'VSC_1/Gate', false, true],
        ['line_crossing', 'end', 'VSC_1/Gate', false, true],
        ['tamper', 'start', 'VSC_1', false, false],
        ['digital_input', 'start', 'DI_1', false, false],
        ['digital_input', 'end', '1', false, false],
        ['intrusion', 'start', 'VSC_1/Lawn', false, false],
      ],
    );
  });

  it('TP-Link: people, the smart event typed by its item (vehicle, pet), line crossing, intrusion', () => {
    const msgs = events.parsePullMessages(body('pull-tapo.xml')).messages;
    const out = msgs.flatMap((m) => mapNotification(m, Date.UTC(2026, 11, 4, 20, 41), 0));
    assert.deepEqual(
      out.map((e) => [e.type, e.state, e.topic]),
      [
        ['person', 'start', 'RuleEngine/PeopleDetector/People'],
        ['vehicle', 'start', 'RuleEngine/TPSmartEventDetector/TPSmartEvent'],
        ['animal', 'start', 'RuleEngine/TPSmartEventDetector/TPSmartEvent'],
        ['line_crossing', 'start', 'RuleEngine/LineCrossDetector/LineCross'],
        ['intrusion', 'end', 'RuleEngine/IntrusionDetector/Intrusion'],
      ],
    );
    assert.equal(out[0]?.source, 'vsconf/MyPeopleDetectorRule');
  });

  it('reads a state from an item named otherwise only when it is a real boolean', () => {
    const base = { topic: 'tns1:VideoSource/MotionAlarm', source: [], operation: 'Changed' };
    const t = Date.UTC(2026, 0, 1);
    assert.equal(mapNotification({ ...base, data: [{ name: 'IsMotion', value: 'true' }] }, t)[0]?.state, 'start');
    assert.equal(mapNotification({ ...base, data: [{ name: 'Active', value: 'false' }] }, t)[0]?.state, 'end');
    // A counter is not a state: the event is momentary.
    const counted = mapNotification({ ...base, data: [{ name: 'Seq', value: '1' }] }, t);
    assert.deepEqual(
      counted.map((e) => e.state),
      ['start', 'end'],
    );
    assert.deepEqual(mapNotification({ ...base, operation: 'Deleted', data: [] }, t), []);
  });
});

describe('ONVIF backoff', () => {
  it('doubles from 2 s to a 60 s cap, with jitter between half and all of it', () => {
    const lo = () => 0;
    const hi = () => 1;
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 7, 50].map((n) => backoffDelay(n, undefined, hi)),
      [2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000],
    );
    assert.equal(backoffDelay(1, undefined, lo), 1_000);
    assert.equal(backoffDelay(9, undefined, lo), 30_000);
    assert.equal(backoffDelay(0, { initialMs: 100, maxMs: 400 }, hi), 100);
  });
});

describe('WS-Discovery', () => {
  it('probes for NetworkVideoTransmitter with our message id', () => {
    const xml = buildProbe('urn:uuid:1');
    assert.match(
      xml,
      /<a:Action s:mustUnderstand="1">http:\/\/schemas.xmlsoap.org\/ws\/2005\/04\/discovery\/Probe<\/a:Action>/,
    );
    assert.match(xml, /<a:MessageID>urn:uuid:1<\/a:MessageID>/);
    assert.match(xml, /<d:Types>dn:NetworkVideoTransmitter<\/d:Types>/);
  });

  it('parses ProbeMatches: endpoint, HTTP XAddrs, scopes with name and hardware', () => {
    const parsed = parseProbeMatches(fixture('probe-matches.xml'));
    assert.equal(parsed.relatesTo, 'urn:uuid:0b8f4c33-6a0e-4a5e-9b55-2f7b3f0c1d2e');
    assert.deepEqual(parsed.matches, [
      {
        endpoint: 'urn:uuid:4419c6a8-1dd2-11b2-8000-a1b2c3d4e5f6',
        xaddrs: ['http://192.168.1.64/onvif/device_service', 'http://[fe80::1]/onvif/device_service'],
        types: ['dn:NetworkVideoTransmitter', 'tds:Device'],
        scopes: [
          'onvif://www.onvif.org/type/video_encoder',
          'onvif://www.onvif.org/Profile/Streaming',
          'onvif://www.onvif.org/name/Front%20Door',
          'onvif://www.onvif.org/hardware/DS-2CD2143G2-I',
          'onvif://www.onvif.org/location/city/hangzhou',
        ],
        name: 'Front Door',
        hardware: 'DS-2CD2143G2-I',
        location: 'city/hangzhou',
      },
    ]);
    assert.deepEqual(parseProbeMatches(buildProbe('urn:uuid:2')).matches, [], 'a Probe is not a match');
  });
});
