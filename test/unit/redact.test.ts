import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger, normalizeLogLevel } from '../../server/src/log/logger.js';
import { REDACTED, redactUrlCredentials, SecretRedactor } from '../../server/src/log/redact.js';

describe('redactUrlCredentials', () => {
  it('masks user:pass@ for common schemes', () => {
    for (const scheme of ['rtsp', 'rtsps', 'rtmp', 'http', 'https', 'srt', 'onvif', 'git+ssh']) {
      assert.equal(
        redactUrlCredentials(`open ${scheme}://admin:hunter2@10.0.0.5:554/stream1 ok`),
        `open ${scheme}://***@10.0.0.5:554/stream1 ok`,
      );
    }
  });

  it('masks user-only userinfo', () => {
    assert.equal(redactUrlCredentials('rtsp://admin@cam.local/live'), 'rtsp://***@cam.local/live');
  });

  it('masks every URL on a line', () => {
    const line = "Input #0 from 'rtsp://a:b1@h1/x' -> rtmp://c:d2@h2:1935/live,http://e:f3@h3 done";
    assert.equal(
      redactUrlCredentials(line),
      "Input #0 from 'rtsp://***@h1/x' -> rtmp://***@h2:1935/live,http://***@h3 done",
    );
  });

  it('masks a password containing an unencoded @', () => {
    assert.equal(redactUrlCredentials('rtsp://admin:p@ss@192.168.1.2/ch1'), 'rtsp://***@192.168.1.2/ch1');
  });

  it('does not span across JSON strings or touch URLs without credentials', () => {
    const json = '{"url":"rtsp://cam.local/stream","contact":"ops@example.com"}';
    assert.equal(redactUrlCredentials(json), json);
    assert.equal(redactUrlCredentials('{"url":"rtsp://u:p@cam/s"}'), '{"url":"rtsp://***@cam/s"}');
    assert.equal(redactUrlCredentials('mail me at ops@example.com'), 'mail me at ops@example.com');
  });

  it('masks credential query parameters', () => {
    assert.equal(
      redactUrlCredentials('http://cam/cgi-bin/snapshot.cgi?user=admin&password=s3cret&channel=1'),
      'http://cam/cgi-bin/snapshot.cgi?user=***&password=***&channel=1',
    );
    assert.equal(
      redactUrlCredentials('http://cam/snap?usr=admin&pwd=x9y8&pass=abc'),
      'http://cam/snap?usr=***&pwd=***&pass=***',
    );
    assert.equal(redactUrlCredentials('login user=admin pass=foo'), 'login user=*** pass=***');
    assert.equal(redactUrlCredentials('http://x/?PassWord=Abc#frag'), 'http://x/?PassWord=***#frag');
  });

  it('leaves look-alike parameters alone', () => {
    assert.equal(
      redactUrlCredentials('http://x/?superuser=1&bypass=2&users=3'),
      'http://x/?superuser=1&bypass=2&users=3',
    );
    assert.equal(redactUrlCredentials('password='), 'password=');
    assert.equal(redactUrlCredentials(''), '');
  });

  it('masks Basic and Bearer Authorization headers, as engines print them in debug output', () => {
    // MediaMTX's debug log of an RTSP request to a camera, as forwarded (JSON-escaped CR/LF).
    const line =
      '[RTSP source] [c->s] DESCRIBE rtsp://h/front RTSP/1.0\\r\\nAuthorization: Basic Y2FtOnNlY3JldA==\\r\\nCSeq: 3';
    assert.equal(
      redactUrlCredentials(line),
      '[RTSP source] [c->s] DESCRIBE rtsp://h/front RTSP/1.0\\r\\nAuthorization: Basic ***\\r\\nCSeq: 3',
    );
    assert.equal(redactUrlCredentials('authorization: bearer abc.def'), 'authorization: bearer ***');
    assert.equal(redactUrlCredentials('Proxy-Authorization: Basic eDp5'), 'Proxy-Authorization: Basic ***');
    assert.equal(redactUrlCredentials('no authorization header here'), 'no authorization header here');
  });

  it('is idempotent', () => {
    const once = redactUrlCredentials('rtsp://a:b@h/?password=c');
    assert.equal(redactUrlCredentials(once), once);
  });
});

describe('SecretRedactor', () => {
  it('masks registered secrets anywhere', () => {
    const r = new SecretRedactor();
    r.add('hunter2');
    r.add('tok_ABCDEF');
    assert.equal(
      r.redact('pw hunter2 and hunter2, token=tok_ABCDEFx'),
      `pw ${REDACTED} and ${REDACTED}, token=${REDACTED}x`,
    );
  });

  it('ignores secrets shorter than 3 characters', () => {
    const r = new SecretRedactor();
    r.add('1');
    r.add('ab');
    r.add('');
    assert.equal(r.size, 0);
    assert.equal(r.redact('1 ab 12'), '1 ab 12');
  });

  it('also applies URL credential redaction', () => {
    const r = new SecretRedactor();
    assert.equal(r.redact('rtsp://admin:unknown@h/s'), 'rtsp://***@h/s');
  });

  it('masks the longest overlapping secret as a whole', () => {
    const r = new SecretRedactor();
    r.add('abc');
    r.add('abcdef');
    assert.equal(r.redact('xabcdefx abc'), 'x***x ***');
  });

  it('treats regex metacharacters literally', () => {
    const r = new SecretRedactor();
    r.add('p.a*s+s?(1)[2]{3}|$^\\');
    assert.equal(r.redact('pw=p.a*s+s?(1)[2]{3}|$^\\ end'), 'pw=*** end');
    assert.equal(r.redact('pXaaas'), 'pXaaas');
  });

  it('masks JSON-escaped and percent-encoded forms', () => {
    const r = new SecretRedactor();
    r.add('pa"ss\\wd');
    r.add('a b/c@d');
    assert.equal(r.redact(JSON.stringify({ p: 'pa"ss\\wd' })), '{"p":"***"}');
    assert.equal(r.redact('x=a%20b%2Fc%40d'), 'x=***');
  });

  it('reference-counts add/remove', () => {
    const r = new SecretRedactor();
    r.add('shared-pass');
    r.add('shared-pass');
    r.remove('shared-pass');
    assert.equal(r.redact('shared-pass'), REDACTED);
    r.remove('shared-pass');
    assert.equal(r.redact('shared-pass'), 'shared-pass');
    r.remove('never-added');
  });
});

describe('createLogger', () => {
  function sink(): { lines: string[]; write(chunk: string): void } {
    const lines: string[] = [];
    return {
      lines,
      write(chunk: string) {
        lines.push(...chunk.split('\n').filter((l) => l.length > 0));
      },
    };
  }

  it('redacts message, fields and error messages/stacks', () => {
    const redactor = new SecretRedactor();
    redactor.add('s3cr3t-pw');
    const out = sink();
    const log = createLogger({ level: 'debug', redactor, destination: out });
    log.info('connecting to rtsp://admin:other@cam/s1 with s3cr3t-pw');
    log.debug({ url: 'rtsp://u:p@h/x', nested: { pw: 's3cr3t-pw' } }, 'fields');
    log.error({ err: new Error('auth failed for s3cr3t-pw') }, 'boom');
    const text = out.lines.join('\n');
    assert.equal(out.lines.length, 3);
    assert.ok(!text.includes('s3cr3t-pw'), text);
    assert.ok(!text.includes('other@'), text);
    assert.ok(!text.includes('u:p@'), text);
    const first = JSON.parse(out.lines[0] ?? '{}') as Record<string, unknown>;
    assert.equal(first.msg, 'connecting to rtsp://***@cam/s1 with ***');
    assert.equal(first.level, 'info');
    const third = JSON.parse(out.lines[2] ?? '{}') as { err: { message: string; stack: string } };
    assert.equal(third.err.message, 'auth failed for ***');
    assert.ok(!third.err.stack.includes('s3cr3t-pw'));
  });

  it('respects the level and accepts "warning"', () => {
    const out = sink();
    const log = createLogger({ level: 'warning', redactor: new SecretRedactor(), destination: out });
    log.info('hidden');
    log.warn('shown');
    assert.equal(out.lines.length, 1);
    assert.equal(log.level, 'warn');
    assert.equal(normalizeLogLevel('trace'), 'trace');
    assert.throws(() => normalizeLogLevel('verbose'), /unknown log level/);
  });

  it('redacts child logger output too', () => {
    const redactor = new SecretRedactor();
    const out = sink();
    const log = createLogger({ level: 'info', redactor, destination: out }).child({ proc: 'go2rtc' });
    redactor.add('added-later');
    log.info('value added-later');
    assert.match(out.lines[0] ?? '', /"msg":"value \*\*\*"/);
    assert.match(out.lines[0] ?? '', /"proc":"go2rtc"/);
  });
});
