import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import * as device from '../../server/src/onvif/device.js';
import * as media from '../../server/src/onvif/media.js';
import {
  digestAuthorization,
  parseDigestChallenge,
  passwordDigest,
  usernameTokenHeader,
  wsTimestamp,
} from '../../server/src/onvif/security.js';
import {
  buildEnvelope,
  contentType,
  isNotAuthorized,
  isSubscriptionGone,
  parseSoapResponse,
  type SoapResponse,
} from '../../server/src/onvif/soap.js';
import type { XmlNode } from '../../server/src/onvif/xml.js';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/onvif/${name}`, import.meta.url), 'utf8');
function body(name: string): XmlNode {
  const res = parseSoapResponse(fixture(name));
  assert.ok(res.ok, `${name} is not a fault`);
  return res.body;
}
function fault(res: SoapResponse) {
  assert.ok(!res.ok);
  return res.fault;
}

describe('ONVIF SOAP envelope', () => {
  it('puts the body in a SOAP 1.2 envelope and the action in the content type', () => {
    const req = device.getSystemDateAndTime();
    const xml = buildEnvelope(req);
    assert.match(
      xml,
      /^<\?xml version="1.0" encoding="UTF-8"\?><s:Envelope xmlns:s="http:\/\/www.w3.org\/2003\/05\/soap-envelope"/,
    );
    assert.match(xml, /<s:Body><tds:GetSystemDateAndTime\/><\/s:Body><\/s:Envelope>$/);
    assert.ok(!xml.includes('<s:Header>'), 'no header without security or addressing');
    assert.equal(
      contentType(req.action),
      'application/soap+xml; charset=utf-8; action="http://www.onvif.org/ver10/device/wsdl/GetSystemDateAndTime"',
    );
  });

  it('echoes reference parameters as header blocks with wsa:Action and wsa:To', () => {
    const xml = buildEnvelope(
      {
        operation: 'PullMessages',
        action: 'urn:a',
        body: '<x/>',
        headerBlocks: [
          '<dom0:SubscriptionId xmlns:dom0="urn:axis" wsa:IsReferenceParameter="true">17</dom0:SubscriptionId>',
        ],
        to: 'http://10.0.0.30/onvif/services?a=1&b=2',
      },
      '<sec/>',
    );
    assert.match(
      xml,
      /<s:Header><sec\/><wsa:Action>urn:a<\/wsa:Action><wsa:To>http:\/\/10.0.0.30\/onvif\/services\?a=1&amp;b=2<\/wsa:To><dom0:SubscriptionId/,
    );
  });

  it('reads SOAP 1.2 faults down to the innermost subcode', () => {
    const f = fault(parseSoapResponse(fixture('fault-resource-unknown.xml')));
    assert.equal(f.code, 'ResourceUnknownFault');
    assert.deepEqual(f.codes, ['env:Receiver', 'wsrf-rw:ResourceUnknownFault', 'ResourceUnknownFault']);
    assert.equal(f.reason, 'The subscription is not known');
    assert.ok(isSubscriptionGone(f));
    assert.ok(!isNotAuthorized(f));
  });

  it('tells a refused credential from a lost subscription', () => {
    const f = fault(parseSoapResponse(fixture('fault-not-authorized.xml')));
    assert.equal(f.code, 'ter:NotAuthorized');
    assert.ok(isNotAuthorized(f));
    assert.ok(!isSubscriptionGone(f));
  });

  it('reads SOAP 1.1 faults', () => {
    const f = fault(parseSoapResponse(fixture('fault-soap11.xml')));
    assert.equal(f.code, 'SOAP-ENV:Client');
    assert.equal(f.reason, 'Method not implemented');
    assert.ok(!isSubscriptionGone(f));
  });

  it('throws on what is not a SOAP envelope', () => {
    assert.throws(() => parseSoapResponse('<html><body>login</body></html>'), /not a SOAP envelope/);
    assert.throws(() => parseSoapResponse('<<<'));
    const bomb =
      '<?xml version="1.0"?><!DOCTYPE s [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>' +
      '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>&b;</s:Body></s:Envelope>';
    assert.throws(() => parseSoapResponse(bomb), /document type declaration is not allowed/);
  });
});

describe('ONVIF security', () => {
  it('computes the PasswordDigest as Base64(SHA-1(nonce + created + password))', () => {
    const nonce = Buffer.from('0123456789abcdef');
    const created = '2026-12-04T20:00:00Z';
    const expected = createHash('sha1')
      .update(Buffer.concat([nonce, Buffer.from(created), Buffer.from('pa<ss')]))
      .digest('base64');
    assert.equal(passwordDigest(nonce, created, 'pa<ss'), expected);
  });

  it('stamps Created in the camera clock, whole seconds, and escapes the user name', () => {
    const cameraNow = Date.UTC(2026, 11, 4, 21, 17, 5, 900);
    const header = usernameTokenHeader({ user: 'a&b', password: 'secret' }, Buffer.alloc(16, 1), cameraNow);
    assert.match(header, /<wsu:Created>2026-12-04T21:17:05Z<\/wsu:Created>/);
    assert.match(header, /<wsse:Username>a&amp;b<\/wsse:Username>/);
    assert.match(header, /Type="[^"]+#PasswordDigest"/);
    assert.match(header, /<wsse:Nonce EncodingType="[^"]+#Base64Binary">AQEBAQEBAQEBAQEBAQEBAQ==<\/wsse:Nonce>/);
    assert.ok(!header.includes('secret'), 'the password itself is never sent');
    assert.equal(wsTimestamp(0), '1970-01-01T00:00:00Z');
  });

  it('parses a Digest challenge and answers it (RFC 7616 MD5 example)', () => {
    const ch = parseDigestChallenge(
      'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=MD5, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"',
    );
    assert.ok(ch);
    assert.equal(ch.qop, 'auth');
    const header = digestAuthorization(
      ch,
      { user: 'Mufasa', password: 'Circle of Life' },
      'GET',
      '/dir/index.html',
      'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
      1,
    );
    assert.match(header, /response="8ca523f5e9506fed4657c9700eebdbec"/);
    assert.match(header, /nc=00000001, cnonce="f2\/wE4q74E6zIJEtWaHKaf5wv\/H5QzzpXusqGemxURZJ"/);
    assert.match(header, /opaque="FQhe/);
  });

  it('ignores what is not a Digest challenge', () => {
    assert.equal(parseDigestChallenge('Basic realm="cam"'), undefined);
    assert.equal(parseDigestChallenge(null), undefined);
    assert.equal(parseDigestChallenge('Digest realm="x", nonce="n", algorithm=SHA-512-256'), undefined);
  });
});

describe('ONVIF device service', () => {
  it('reads the UTC clock and measures the offset against ours', () => {
    const camera = device.parseSystemDateAndTime(body('system-date-time-skewed.xml'));
    assert.equal(camera, Date.UTC(2026, 11, 4, 21, 17, 5));
    const local = Date.UTC(2026, 11, 4, 20, 17, 5); // our clock is an hour behind
    assert.equal(device.clockOffset(camera as number, local - 100, local + 100), 3_600_000);
    assert.equal(device.clockOffset(Date.UTC(2026, 0, 1), Date.UTC(2026, 0, 1) - 400, Date.UTC(2026, 0, 1) + 400), 0);
  });

  it('reads the service addresses', () => {
    assert.deepEqual(device.parseServices(body('services.xml')), {
      device: 'http://192.168.1.20:8000/onvif/device_service',
      media: 'http://192.168.1.20:8000/onvif/Media',
      media2: 'http://192.168.1.20:8000/onvif/Media2',
      events: 'http://192.168.1.20:8000/onvif/Events',
    });
  });

  it('puts the host and port that answered us in the addresses a camera reports on another host', () => {
    const dev = 'http://cam.example:8080/onvif/device_service';
    assert.equal(device.alignHost('http://10.0.0.9/onvif/Events', dev), 'http://cam.example:8080/onvif/Events');
    assert.equal(
      device.alignHost('http://0.0.0.0:8000/onvif/Events/PullSubManager_1?x=1', dev),
      'http://cam.example:8080/onvif/Events/PullSubManager_1?x=1',
    );
    assert.equal(device.alignHost('http://cam.example:9/x', dev), 'http://cam.example:9/x');
    assert.equal(device.alignHost('not a url', dev), 'not a url');
    assert.equal(
      device.alignHost('http://192.168.1.20/onvif/media', 'http://[fd00::20]:80/onvif/device_service'),
      'http://[fd00::20]/onvif/media',
      'port 80 is the default',
    );
    assert.deepEqual(device.alignServices(device.parseServices(body('services.xml')), 'http://127.0.0.1:9000/x'), {
      device: 'http://127.0.0.1:9000/onvif/device_service',
      media: 'http://127.0.0.1:9000/onvif/Media',
      media2: 'http://127.0.0.1:9000/onvif/Media2',
      events: 'http://127.0.0.1:9000/onvif/Events',
    });
  });

  it('reads capabilities of a camera that denies PullPoint (its events address is still used)', () => {
    assert.deepEqual(device.parseCapabilities(body('capabilities-no-pullpoint.xml')), {
      device: 'http://10.0.0.7/onvif/device_service',
      media: 'http://10.0.0.7/onvif/media_service',
      events: 'http://10.0.0.7/onvif/event_service',
      pullPointSupport: false,
    });
  });
});

describe('ONVIF media service', () => {
  it('reads profiles with codec and resolution (a profile without video kept, with none)', () => {
    const profiles = media.parseProfiles(body('profiles.xml'));
    assert.deepEqual(
      profiles.map((p) => [p.token, p.encoding, p.width, p.height]),
      [
        ['Profile_JPEG', 'JPEG', 1280, 720],
        ['Profile_Sub', 'H264', 640, 360],
        ['Profile_Main', 'H264', 2560, 1440],
        ['Profile_Audio', '', 0, 0],
      ],
    );
    assert.equal(profiles[2]?.fps, 25);
    assert.equal(profiles[2]?.bitrateKbps, 4096);
  });

  it('picks the best main profile as source and the smallest as substream', () => {
    const picked = media.pickStreams(media.parseProfiles(body('profiles.xml')));
    assert.equal(picked.source?.token, 'Profile_Main');
    assert.equal(picked.substream?.token, 'Profile_Sub');
    const one = media.pickStreams([{ token: 'a', name: 'a', encoding: 'H265', width: 1920, height: 1080 }]);
    assert.equal(one.source?.token, 'a');
    assert.equal(one.substream, undefined);
    assert.deepEqual(media.pickStreams([]), {});
  });

  it('reads Media2 profiles (Configurations/VideoEncoder, H.265) and their stream URI', () => {
    const xml =
      '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:tr2="http://www.onvif.org/ver20/media/wsdl" xmlns:tt="http://www.onvif.org/ver10/schema"><s:Body>' +
      '<tr2:GetProfilesResponse><tr2:Profiles token="P0" fixed="true"><tr2:Name>main</tr2:Name><tr2:Configurations>' +
      '<tr2:VideoEncoder token="VE0" GovLength="50" Profile="Main"><tt:Name>VE0</tt:Name><tt:UseCount>1</tt:UseCount>' +
      '<tt:Encoding>H.265</tt:Encoding><tt:Resolution><tt:Width>3840</tt:Width><tt:Height>2160</tt:Height></tt:Resolution>' +
      '<tt:RateControl ConstantBitRate="false"><tt:FrameRateLimit>20</tt:FrameRateLimit><tt:BitrateLimit>8192</tt:BitrateLimit></tt:RateControl>' +
      '</tr2:VideoEncoder></tr2:Configurations></tr2:Profiles></tr2:GetProfilesResponse></s:Body></s:Envelope>';
    const res = parseSoapResponse(xml);
    assert.ok(res.ok);
    assert.deepEqual(media.parseProfiles(res.body), [
      { token: 'P0', name: 'main', encoding: 'H265', width: 3840, height: 2160, fps: 20, bitrateKbps: 8192 },
    ]);
    assert.match(media.getProfiles2().body, /<tr2:GetProfiles xmlns:tr2="[^"]+"><tr2:Type>VideoEncoder<\/tr2:Type>/);
    assert.match(media.getStreamUri2('P0').body, /<tr2:Protocol>RTSP<\/tr2:Protocol><tr2:ProfileToken>P0</);
    const uri = parseSoapResponse(
      '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><GetStreamUriResponse><Uri>rtsp://cam/h265</Uri></GetStreamUriResponse></s:Body></s:Envelope>',
    );
    assert.ok(uri.ok);
    assert.equal(media.parseStreamUri(uri.body), 'rtsp://cam/h265');
  });

  it('asks for an RTSP unicast URI for a profile and reads it', () => {
    assert.match(media.getStreamUri('P<1').body, /<trt:ProfileToken>P&lt;1<\/trt:ProfileToken>/);
    assert.equal(
      media.parseStreamUri(body('stream-uri.xml')),
      'rtsp://192.168.1.20:554/Streaming/Channels/101?transportmode=unicast&profile=Profile_Main',
    );
  });
});
