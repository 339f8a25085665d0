import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  detectSourceType,
  redactCredentials,
  type SourceType,
  splitCredentials,
  validateSourceUrl,
  withCredentials,
} from '../../server/src/config/source.js';

describe('detectSourceType', () => {
  const cases: [string, SourceType][] = [
    ['rtsp://192.168.1.10:554/Streaming/Channels/101', 'rtsp'],
    ['RTSP://cam.local/live', 'rtsp'],
    ['rtsps://cam.local:322/live', 'rtsps'],
    ['rtmp://cam.local/live/stream', 'rtmp'],
    ['http://cam.local/video.cgi', 'http-mjpeg'],
    ['http://cam.local/axis-cgi/mjpg/video.cgi', 'http-mjpeg'],
    ['https://cam.local/stream', 'http-mjpeg'],
    ['http://cam.local/mjpeg/image.cgi', 'http-mjpeg'],
    ['http://cam.local/snap.jpg', 'http-jpeg'],
    ['http://cam.local/path/frame.JPEG', 'http-jpeg'],
    ['http://cam.local/cgi-bin/snapshot.cgi?chn=0', 'http-jpeg'],
    ['http://cam.local/snap.cgi', 'http-jpeg'],
    ['http://cam.local/axis-cgi/jpg/image.cgi', 'http-jpeg'],
    ['http://cam.local/cgi-bin/api.cgi?cmd=Snap&channel=0', 'http-jpeg'],
    ['http://cam.local/get?type=image', 'http-jpeg'],
    ['http://user:pass@cam.local/video', 'http-mjpeg'],
    // the host name does not count, only path and query
    ['http://image.local/video', 'http-mjpeg'],
    ['http://snapshot@cam.local/video', 'http-mjpeg'],
    ['ffmpeg:virtual?video=testsrc&size=720', 'ffmpeg-test'],
    ['camstack-test:bars', 'ffmpeg-test'],
  ];
  for (const [url, expected] of cases) {
    it(`${url} → ${expected}`, () => assert.equal(detectSourceType(url), expected));
  }

  it('throws for unsupported schemes', () => {
    assert.throws(() => detectSourceType('file:///etc/passwd'), TypeError);
    assert.throws(() => detectSourceType('cam.local/x'), TypeError);
  });
});

describe('validateSourceUrl', () => {
  const valid = [
    'rtsp://192.168.1.10:554/Streaming/Channels/101',
    'rtsp://admin:secret@192.168.1.10/h264',
    'rtsp://admin:p@ss;w$rd@cam.local/h264', // metacharacters inside credentials are split out and encoded
    'rtsps://cam.local:322/live',
    'rtmp://cam.local/live/stream',
    'http://cam.local/cgi-bin/api.cgi?cmd=Snap&channel=0',
    'https://[fd00::10]:8443/video.mjpg',
    'http://cam.local/video%20stream',
  ];
  for (const url of valid) {
    it(`accepts ${url}`, () => assert.deepEqual(validateSourceUrl(url), []));
  }

  const invalid: [string, RegExp][] = [
    ['', /empty/],
    ['file:///etc/passwd', /unsupported scheme "file:"/],
    ['exec:/bin/sh -c id', /unsupported scheme "exec:"/],
    ['data:text/plain,hi', /unsupported scheme "data:"/],
    ['echo:/bin/cat /etc/passwd', /unsupported scheme "echo:"/],
    ['javascript:alert(1)', /unsupported scheme "javascript:"/],
    ['ftp://cam.local/x', /unsupported scheme "ftp:"/],
    ['cam.local/stream', /no scheme/],
    ['rtsp://cam.local/a b', /whitespace/],
    ['rtsp://cam.local/a\u00a0b', /whitespace/],
    ['rtsp://cam.local/a\tb', /control character \(U\+0009\)/],
    ['rtsp://cam.local/a\nb', /control character \(U\+000A\)/],
    ['rtsp://cam.local/a\u0000b', /control character \(U\+0000\)/],
    ['rtsp://cam.local/a%0ab', /percent-encoded control/],
    ['rtsp://cam.local/\ufffd', /not valid UTF-8/],
    ['rtsp://cam.local/x;reboot', /shell metacharacters \(";"\)/],
    ['rtsp://cam.local/x|nc', /shell metacharacters \("\|"\)/],
    ['rtsp://cam.local/$(id)', /shell metacharacters \("\$" "\(" "\)"\)/],
    ['rtsp://cam.local/`id`', /shell metacharacters/],
    ['rtsp://cam.local/a&b', /shell metacharacters \("&"\)/],
    ['rtsp://cam.local/<x>', /shell metacharacters/],
    ['rtsp://cam.local/{x}', /shell metacharacters/],
    ["rtsp://cam.local/'x'", /shell metacharacters/],
    ['rtsp://cam.local/"x"', /shell metacharacters/],
    ['rtsp://cam.local/a\\b', /shell metacharacters/],
    ['-i rtsp://cam.local/x', /must not start with "-"/],
    ['-rtsp://cam.local/x', /must not start with "-"/],
    ['rtsp:///path', /no host/],
    ['http:///path', /no host/],
    ['rtsp://', /no host/],
    ['rtsp:cam.local/x', /must start with rtsp:\/\//],
    ['rtsp://cam.local:99999/x', /not a valid URL/],
    ['http://exa mple.com/', /whitespace/],
    [`rtsp://cam.local/${'a'.repeat(2048)}`, /longer than 2048/],
    ['ffmpeg:virtual?video=testsrc', /only allowed in development/],
    ['camstack-test:bars', /only allowed in development/],
  ];
  for (const [url, pattern] of invalid) {
    it(`rejects ${JSON.stringify(url.length > 60 ? `${url.slice(0, 60)}…` : url)}`, () => {
      const problems = validateSourceUrl(url);
      assert.ok(problems.length > 0, 'expected problems');
      assert.ok(
        problems.some((p) => pattern.test(p)),
        `expected ${pattern} in ${JSON.stringify(problems)}`,
      );
    });
  }

  it('reports several problems at once', () => {
    const problems = validateSourceUrl('-i /etc/passwd;x');
    assert.ok(problems.length >= 3, JSON.stringify(problems));
  });

  describe('test sources (allowTestSources)', () => {
    const ok = [
      'ffmpeg:virtual?video=testsrc&size=1280x720',
      'ffmpeg:virtual?video&size=720',
      'ffmpeg:virtual?video=smptebars&rate=10#video=h264',
      'camstack-test:bars',
      'camstack-test:clock?size=640x360&fps=5',
    ];
    for (const url of ok) {
      it(`accepts ${url}`, () => assert.deepEqual(validateSourceUrl(url, { allowTestSources: true }), []));
    }
    const bad: [string, RegExp][] = [
      ['ffmpeg:/etc/passwd', /only ffmpeg:virtual/],
      ['ffmpeg:rtsp://cam.local/x#video=h264', /only ffmpeg:virtual/],
      ['ffmpeg:virtual?video=movie=secret.mp4', /parameter "video"/],
      ['ffmpeg:virtual?video=testsrc#raw=-f null', /whitespace|option "#raw/],
      ['ffmpeg:virtual?video=testsrc#raw=-y', /option "#raw=-y"/],
      ['ffmpeg:virtual?output=/tmp/x', /parameter "output"/],
      ['camstack-test:../../etc', /malformed camstack-test/],
    ];
    for (const [url, pattern] of bad) {
      it(`rejects ${url}`, () => {
        const problems = validateSourceUrl(url, { allowTestSources: true });
        assert.ok(
          problems.some((p) => pattern.test(p)),
          `expected ${pattern} in ${JSON.stringify(problems)}`,
        );
      });
    }
  });
});

describe('splitCredentials', () => {
  const cases: [string, { url: string; username?: string; password?: string }][] = [
    ['rtsp://cam.local/x', { url: 'rtsp://cam.local/x' }],
    ['rtsp://admin:secret@cam.local:554/x', { url: 'rtsp://cam.local:554/x', username: 'admin', password: 'secret' }],
    ['rtsp://admin@cam.local/x', { url: 'rtsp://cam.local/x', username: 'admin' }],
    ['rtsp://:secret@cam.local/x', { url: 'rtsp://cam.local/x', password: 'secret' }],
    ['rtsp://admin:p@ss@cam.local/x', { url: 'rtsp://cam.local/x', username: 'admin', password: 'p@ss' }],
    ['rtsp://adm%40in:p%3As%2Fs@cam.local/x', { url: 'rtsp://cam.local/x', username: 'adm@in', password: 'p:s/s' }],
    ['rtsp://admin:100%@cam.local/x', { url: 'rtsp://cam.local/x', username: 'admin', password: '100%' }],
    ['RTSP://cam.local/x', { url: 'rtsp://cam.local/x' }],
    ['http://cam.local/x?email=a@b.c', { url: 'http://cam.local/x?email=a@b.c' }],
    ['http://u:p@cam.local/x?email=a@b.c', { url: 'http://cam.local/x?email=a@b.c', username: 'u', password: 'p' }],
    ['ffmpeg:virtual?video', { url: 'ffmpeg:virtual?video' }],
  ];
  for (const [input, expected] of cases) {
    it(input, () => assert.deepEqual(splitCredentials(input), expected));
  }
});

describe('withCredentials', () => {
  it('adds percent-encoded credentials', () => {
    assert.equal(withCredentials('rtsp://cam.local/x', 'admin', 'secret'), 'rtsp://admin:secret@cam.local/x');
    assert.equal(
      withCredentials('rtsp://cam.local/x', 'ad@min', "p:w/d#?&;$'()!* "),
      'rtsp://ad%40min:p%3Aw%2Fd%23%3F%26%3B%24%27%28%29%21%2A%20@cam.local/x',
    );
  });
  it('handles missing parts', () => {
    assert.equal(withCredentials('rtsp://cam.local/x'), 'rtsp://cam.local/x');
    assert.equal(withCredentials('rtsp://cam.local/x', null, null), 'rtsp://cam.local/x');
    assert.equal(withCredentials('rtsp://cam.local/x', 'admin'), 'rtsp://admin@cam.local/x');
    assert.equal(withCredentials('rtsp://cam.local/x', '', 'pw'), 'rtsp://:pw@cam.local/x');
  });
  it('replaces userinfo already in the URL', () => {
    assert.equal(withCredentials('rtsp://old:old@cam.local/x', 'new', 'pw'), 'rtsp://new:pw@cam.local/x');
  });
  it('leaves URLs without an authority alone', () => {
    assert.equal(withCredentials('ffmpeg:virtual?video', 'a', 'b'), 'ffmpeg:virtual?video');
  });
  it('round-trips through splitCredentials and stays valid', () => {
    for (const [user, pass] of [
      ['admin', 'secret'],
      ['a@b', 'p@ss:w/rd#1'],
      ['üser', 'pässwörd €'],
      ["o'brien", '$(reboot);`id`|&'],
    ] as const) {
      const url = withCredentials('rtsp://cam.local:554/stream?x=1', user, pass);
      assert.deepEqual(validateSourceUrl(url), [], url);
      assert.deepEqual(splitCredentials(url), {
        url: 'rtsp://cam.local:554/stream?x=1',
        username: user,
        password: pass,
      });
      assert.equal(new URL(url).hostname, 'cam.local');
    }
  });
});

describe('redactCredentials', () => {
  it('hides userinfo', () => {
    assert.equal(redactCredentials('rtsp://admin:secret@cam.local/x'), 'rtsp://***@cam.local/x');
    assert.equal(redactCredentials('rtsp://cam.local/x'), 'rtsp://cam.local/x');
  });
});
