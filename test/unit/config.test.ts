import assert from 'node:assert/strict';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseDocument } from 'yaml';
import { parseEnv } from '../../server/src/config/env.js';
import { toEventSettings } from '../../server/src/config/events-config.js';
import { integrationConfig } from '../../server/src/config/integration-options.js';
import {
  type Camera,
  type Config,
  ConfigError,
  loadConfig,
  saveCamerasFile,
  yamlLineOf,
} from '../../server/src/config/load.js';
import { DEFAULT_MOTION_CONFIG } from '../../server/src/config/motion.js';

const DEFAULT_CAMERAS_FILE = '/config/cameras.yaml';
const defaultFileExists = existsSync(DEFAULT_CAMERAS_FILE);

const tmpRoot = mkdtempSync(join(tmpdir(), 'camstack-config-'));
after(() => rmSync(tmpRoot, { recursive: true, force: true }));

interface Setup {
  dir: string;
  optionsPath: string;
  camerasPath: string;
}

/** A fresh temp dir with options.json (object or raw text) and cameras.yaml (raw text) if given. */
function setup(files: { options?: unknown; cameras?: string } = {}): Setup {
  const dir = mkdtempSync(join(tmpRoot, 'case-'));
  const optionsPath = join(dir, 'options.json');
  const camerasPath = join(dir, 'cameras.yaml');
  if (files.options !== undefined) {
    writeFileSync(optionsPath, typeof files.options === 'string' ? files.options : JSON.stringify(files.options));
  }
  if (files.cameras !== undefined) writeFileSync(camerasPath, files.cameras);
  return { dir, optionsPath, camerasPath };
}

function load(s: Setup, env: Record<string, string> = {}): Config {
  return loadConfig({ optionsPath: s.optionsPath, env });
}

function loadError(s: Setup, env: Record<string, string> = {}): ConfigError {
  try {
    load(s, env);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected loadConfig to throw');
}

function camera(id: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { id, name: id, source: `rtsp://cam-${id}.local/stream`, ...extra };
}

function yamlCameras(cams: readonly Record<string, unknown>[]): string {
  return `${JSON.stringify({ cameras: cams }, null, 2)}\n`; // JSON is YAML
}

const DEFAULTS: Config = {
  logLevel: 'info',
  camerasFile: DEFAULT_CAMERAS_FILE,
  mediaDir: '/media/camstack',
  dataDir: '/data',
  maxCameras: 16,
  onDemandGraceSeconds: 30,
  webrtcPort: 8555,
  webrtcCandidates: [],
  rtspPort: 8554,
  apiPort: null,
  apiToken: null,
  ingressPort: 8099,
  allowTestSources: false,
  cameras: [],
  storageMaxBytes: 0,
  storageMinFreePercent: 5,
  integrations: integrationConfig({}),
  env: parseEnv({}).values,
};

describe('loadConfig: defaults', { skip: defaultFileExists && 'a real /config/cameras.yaml exists' }, () => {
  it('uses every default when there is no options.json and no cameras file', () => {
    assert.deepEqual(load(setup()), DEFAULTS);
  });
  it('an empty options object means defaults', () => {
    assert.deepEqual(load(setup({ options: {} })), DEFAULTS);
  });
  it('the default cameras_file written out explicitly may be missing', () => {
    assert.deepEqual(load(setup({ options: { cameras_file: DEFAULT_CAMERAS_FILE } })), DEFAULTS);
  });
  it('reads CAMSTACK_OPTIONS when no optionsPath is given', () => {
    const s = setup({ options: { log_level: 'debug' } });
    assert.equal(loadConfig({ env: { CAMSTACK_OPTIONS: s.optionsPath } }).logLevel, 'debug');
  });
});

describe('loadConfig: options', () => {
  it('maps every option to camelCase', () => {
    const s = setup({
      options: {
        log_level: 'warning',
        media_dir: '/srv/media',
        data_dir: '/srv/data',
        max_cameras: 4,
        on_demand_grace_seconds: 0,
        webrtc_port: 18555,
        webrtc_candidates: ['192.168.1.5:8555', 'home.example.org', '[fd00::5]:8555', 'stun:8555'],
        rtsp_port: 18554,
        api_port: 8098,
        api_token: 'a-long-enough-token-123',
        ingress_port: 8100,
        cameras: [],
      },
      cameras: 'cameras: []\n',
    });
    writeFileSync(
      s.optionsPath,
      JSON.stringify({ ...JSON.parse(readFileSync(s.optionsPath, 'utf8')), cameras_file: s.camerasPath }),
    );
    assert.deepEqual(load(s), {
      logLevel: 'warning',
      camerasFile: s.camerasPath,
      mediaDir: '/srv/media',
      dataDir: '/srv/data',
      maxCameras: 4,
      onDemandGraceSeconds: 0,
      webrtcPort: 18555,
      webrtcCandidates: ['192.168.1.5:8555', 'home.example.org', '[fd00::5]:8555', 'stun:8555'],
      rtspPort: 18554,
      apiPort: 8098,
      apiToken: 'a-long-enough-token-123',
      ingressPort: 8100,
      allowTestSources: false,
      cameras: [],
      storageMaxBytes: 0,
      storageMinFreePercent: 5,
      integrations: integrationConfig({}),
      env: parseEnv({}).values,
    });
  });

  const wrong: [string, Record<string, unknown>, string][] = [
    [
      'log_level enum',
      { log_level: 'verbose' },
      'options.json log_level: must be one of trace, debug, info, warning, error',
    ],
    ['max_cameras type', { max_cameras: '16' }, 'options.json max_cameras: must be an integer (got "16")'],
    ['max_cameras range', { max_cameras: 65 }, 'options.json max_cameras: must be an integer from 1 to 64 (got 65)'],
    ['max_cameras fraction', { max_cameras: 1.5 }, 'options.json max_cameras: must be an integer (got 1.5)'],
    ['grace range', { on_demand_grace_seconds: -1 }, 'on_demand_grace_seconds: must be an integer from 0 to 3600'],
    ['port range', { webrtc_port: 0 }, 'options.json webrtc_port: must be an integer from 1 to 65535 (got 0)'],
    ['rtsp port type', { rtsp_port: true }, 'options.json rtsp_port: must be an integer (got true)'],
    ['api_port', { api_port: 70000 }, 'options.json api_port: must be an integer from 1 to 65535 or null (got 70000)'],
    ['relative media_dir', { media_dir: 'media' }, 'options.json media_dir: must be an absolute path (got "media")'],
    ['cameras not a list', { cameras: {} }, 'options.json cameras: must be a list'],
    ['candidates', { webrtc_candidates: ['http://x'] }, 'options.json webrtc_candidates[0]: must be host or host:port'],
    ['candidate port', { webrtc_candidates: ['1.2.3.4:70000'] }, 'webrtc_candidates[0]: must be host or host:port'],
    ['unknown top-level key', { foo: 1 }, 'options.json unknown key "foo"'],
    ['unknown camera key', { cameras: [camera('a', { fps: 5 })] }, 'options.json cameras[0]: unknown key "fps"'],
    [
      'unknown recording key',
      { cameras: [camera('a', { recording: { keep: 1 } })] },
      'options.json cameras[0].recording: unknown key "keep"',
    ],
    ['missing source', { cameras: [{ id: 'a', name: 'A' }] }, 'options.json cameras[0].source: is required'],
    ['enabled type', { cameras: [camera('a', { enabled: 'yes' })] }, 'cameras[0].enabled: must be true or false'],
    [
      'retain range',
      { cameras: [camera('a', { recording: { retain_days: 0 } })] },
      'cameras[0].recording.retain_days: must be an integer from 1 to 3650 (got 0)',
    ],
    [
      'pre-roll range',
      { cameras: [camera('a', { recording: { pre_roll_seconds: 61 } })] },
      'cameras[0].recording.pre_roll_seconds: must be an integer from 0 to 60 (got 61)',
    ],
    [
      'recording type',
      { cameras: [camera('a', { recording: true })] },
      'cameras[0].recording: must be a mapping of keys to values or null (got true)',
    ],
    ['api_port without token', { api_port: 8098 }, 'options.json api_token: is required when api_port is set'],
    ['short token', { api_port: 8098, api_token: 'short' }, 'options.json api_token: must be at least 16 characters'],
    ['port clash', { rtsp_port: 8099 }, 'options.json rtsp_port: 8099 is also used by ingress_port'],
  ];
  for (const [label, options, expected] of wrong) {
    it(`rejects ${label}`, () => {
      const err = loadError(setup({ options }));
      assert.ok(err.message.includes(expected), `expected ${JSON.stringify(expected)} in:\n${err.message}`);
    });
  }

  it('rejects options.json that is not JSON or not an object', () => {
    const s = setup({ options: '{"log_level": ' });
    assert.match(loadError(s).message, /options\.json \(.*options\.json\) is not valid JSON/);
    assert.match(loadError(setup({ options: '[1]' })).message, /^options\.json must be a JSON object$/m);
  });

  it('never echoes secrets in messages', () => {
    const err = loadError(
      setup({
        options: {
          api_port: 8098,
          api_token: 'tiny',
          cameras: [camera('a', { password: 12345678, source: 'rtsp://admin:hunter2@cam.local/a b' })],
        },
      }),
    );
    for (const secret of ['tiny', '12345678', 'hunter2']) {
      assert.ok(!err.message.includes(secret), `${secret} leaked:\n${err.message}`);
    }
    assert.match(err.message, /cameras\[0\]\.password: must be a string or null \(got an integer\)/);
  });
});

describe('loadConfig: cameras file', () => {
  it('reads cameras from the file and options, options first, normalised', () => {
    const s = setup({
      cameras: [
        '# my cameras',
        'cameras:',
        '  - id: garage',
        '    name: "  Garage  "',
        '    source: http://garage.local/video.mjpg',
        '    substream: http://garage.local/snapshot.jpg',
        '    enabled: false',
        '    recording:',
        '      continuous: true',
        '      retain_days: 15',
        '',
      ].join('\n'),
    });
    writeFileSync(
      s.optionsPath,
      JSON.stringify({
        cameras_file: s.camerasPath,
        cameras: [camera('front_door', { username: 'admin', password: 'pw' })],
      }),
    );
    const config = load(s);
    const expected: Camera[] = [
      {
        id: 'front_door',
        name: 'front_door',
        source: 'rtsp://cam-front_door.local/stream',
        substream: null,
        username: 'admin',
        password: 'pw',
        enabled: true,
        sourceType: 'rtsp',
        origin: 'options',
        recording: { continuous: false, retainDays: 7, clipRetainDays: 30, preRollSeconds: 0, clipSeconds: 20 },
        events: toEventSettings(undefined),
        onvif: null,
        motion: DEFAULT_MOTION_CONFIG,
      },
      {
        id: 'garage',
        name: 'Garage',
        source: 'http://garage.local/video.mjpg',
        substream: 'http://garage.local/snapshot.jpg',
        username: null,
        password: null,
        enabled: false,
        sourceType: 'http-mjpeg',
        origin: 'file',
        recording: { continuous: true, retainDays: 15, clipRetainDays: 30, preRollSeconds: 0, clipSeconds: 20 },
        events: toEventSettings(undefined),
        onvif: null,
        motion: DEFAULT_MOTION_CONFIG,
      },
    ];
    assert.deepEqual(config.cameras, expected);
  });

  it('treats an empty file, or an empty cameras key, as no cameras', () => {
    for (const text of ['', '# nothing\n', 'cameras:\n', 'cameras: []\n']) {
      const s = setup({ cameras: text });
      writeFileSync(s.optionsPath, JSON.stringify({ cameras_file: s.camerasPath }));
      assert.deepEqual(load(s).cameras, [], JSON.stringify(text));
    }
  });

  it('a missing explicitly configured cameras_file is an error naming the key and path', () => {
    const s = setup();
    const missing = join(s.dir, 'nope.yaml');
    writeFileSync(s.optionsPath, JSON.stringify({ cameras_file: missing }));
    const err = loadError(s);
    assert.equal(err.message, `cameras_file (${missing}) does not exist`);
    assert.deepEqual(err.problems, [
      {
        path: `cameras_file (${missing})`,
        message: 'does not exist',
        source: `cameras_file (${missing})`,
        pointer: '',
      },
    ]);
  });

  it('a missing CAMSTACK_CAMERAS_FILE is an error naming the variable', () => {
    const s = setup();
    const missing = join(s.dir, 'env.yaml');
    assert.equal(
      loadError(s, { CAMSTACK_CAMERAS_FILE: missing }).message,
      `CAMSTACK_CAMERAS_FILE (${missing}) does not exist`,
    );
  });

  it('reports YAML syntax errors with line and column', () => {
    const s = setup({ cameras: 'cameras:\n  - id: a\n    name: [oops\n    source: rtsp://x/y\n' });
    writeFileSync(s.optionsPath, JSON.stringify({ cameras_file: s.camerasPath }));
    const err = loadError(s);
    assert.match(
      err.message,
      new RegExp(`^cameras_file \\(${s.camerasPath}\\) YAML syntax error at line \\d+, column \\d+: `),
    );
    assert.equal(err.message.split('\n').length, err.problems.length);
  });

  it('reports duplicate YAML keys', () => {
    const s = setup({ cameras: 'cameras:\n  - id: a\n    id: b\n    name: A\n    source: rtsp://x/y\n' });
    writeFileSync(s.optionsPath, JSON.stringify({ cameras_file: s.camerasPath }));
    assert.match(loadError(s).message, /YAML syntax error at line 3, column 5: Map keys must be unique/);
  });

  it('rejects a file that is not a mapping with cameras', () => {
    for (const [text, expected] of [
      ['- a\n- b\n', 'must be a mapping with a top-level "cameras:" list'],
      ['camera: []\n', 'unknown key "camera"'],
      ['cameras: 3\n', 'cameras: must be a list or null (got 3)'],
    ] as const) {
      const s = setup({ cameras: text });
      writeFileSync(s.optionsPath, JSON.stringify({ cameras_file: s.camerasPath }));
      assert.ok(loadError(s).message.includes(expected), text);
    }
  });

  it('YAML scalars that are not strings are type errors', () => {
    const s = setup({ cameras: yamlCameras([camera('a', { password: 1234, name: true })]) });
    writeFileSync(s.optionsPath, JSON.stringify({ cameras_file: s.camerasPath }));
    const message = loadError(s).message;
    assert.match(message, /cameras\[0\]\.name: must be a string \(got true\) — put the value in quotes/);
    assert.match(message, /cameras\[0\]\.password: must be a string or null \(got an integer\)/);
  });
});

describe('loadConfig: camera checks', () => {
  function fileCase(cams: readonly Record<string, unknown>[], options: Record<string, unknown> = {}): Setup {
    const s = setup({ cameras: yamlCameras(cams) });
    writeFileSync(s.optionsPath, JSON.stringify({ cameras_file: s.camerasPath, ...options }));
    return s;
  }

  it('rejects duplicate ids within the file, naming both places', () => {
    const s = fileCase([camera('a'), camera('b'), camera('a')]);
    const label = `cameras_file (${s.camerasPath})`;
    assert.equal(
      loadError(s).message,
      `${label} cameras[2].id: duplicate camera id "a" (also at ${label} cameras[0].id) (line 14)`,
    );
  });

  it('rejects duplicate ids across options and file', () => {
    const s = fileCase([camera('b'), camera('front')], { cameras: [camera('front')] });
    assert.equal(
      loadError(s).message,
      `cameras_file (${s.camerasPath}) cameras[1].id: duplicate camera id "front" (also at options.json cameras[0].id) (line 9)`,
    );
  });

  const badIds: [unknown, string][] = [
    ['Front Door', 'must match ^[a-z0-9_]{1,64}$ (got "Front Door") — e.g. "front_door"'],
    ['a/b', 'must match ^[a-z0-9_]{1,64}$ (got "a/b")'],
    ['..', 'must match ^[a-z0-9_]{1,64}$ (got "..")'],
    ['Garage', 'must match ^[a-z0-9_]{1,64}$ (got "Garage")'],
    ['front-door', 'must match ^[a-z0-9_]{1,64}$ (got "front-door")'],
    ['', 'must match ^[a-z0-9_]{1,64}$ (got "")'],
    ['a'.repeat(65), 'must match ^[a-z0-9_]{1,64}$'],
    [7, 'must be a string (got 7)'],
  ];
  for (const [id, expected] of badIds) {
    it(`rejects id ${JSON.stringify(id)}`, () => {
      const s = fileCase([camera('ok'), { ...camera('x'), id }]);
      const err = loadError(s);
      assert.equal(err.problems.length, 1, err.message);
      assert.ok(err.message.startsWith(`cameras_file (${s.camerasPath}) cameras[1].id: ${expected}`), err.message);
    });
  }

  const badNames: [unknown, string][] = [
    ['', 'must not be empty'],
    ['   ', 'must not be blank'],
    ['Y\u0000Z', 'must not hold control characters'],
    ['Front\u001b[31mdoor', 'must not hold control characters'],
    ['x'.repeat(101), 'must be at most 100 characters (got 101)'],
    [null, 'must be a string (got null)'],
  ];
  for (const [name, expected] of badNames) {
    it(`rejects name ${JSON.stringify(name).slice(0, 20)}`, () => {
      const err = loadError(fileCase([{ ...camera('a'), name }]));
      // The file's problems name their line: the name is on line 5 of the generated file.
      assert.ok(err.message.endsWith(`cameras[0].name: ${expected} (line 5)`), err.message);
    });
  }

  const badSources: [string, RegExp][] = [
    ['ftp://cam.local/x', /source: unsupported scheme "ftp:"/],
    ['file:///etc/passwd', /source: unsupported scheme "file:"/],
    ['exec:/bin/sh', /source: unsupported scheme "exec:"/],
    ['rtsp://cam.local/x;reboot', /source: contains shell metacharacters \(";"\)/],
    ['rtsp://cam.local/$(id)', /source: contains shell metacharacters/],
    ['rtsp://cam.local/live stream', /source: contains whitespace/],
    ['-i rtsp://cam.local/x', /source: must not start with "-"/],
    ['rtsp:///x', /source: has no host/],
    ['ffmpeg:virtual?video', /source: "ffmpeg:" test sources are only allowed in development/],
    ['', /source: must not be empty/],
  ];
  for (const [source, pattern] of badSources) {
    it(`rejects source ${JSON.stringify(source)}`, () => {
      assert.match(loadError(fileCase([camera('a', { source })])).message, pattern);
    });
  }

  it('validates the substream too', () => {
    assert.match(
      loadError(fileCase([camera('a', { substream: 'rtsp://cam/x|y' })])).message,
      /cameras\[0\]\.substream: contains shell metacharacters/,
    );
  });

  it('allows test sources with CAMSTACK_ALLOW_TEST_SOURCES=1', () => {
    const s = fileCase([camera('demo', { source: 'ffmpeg:virtual?video=testsrc&size=720' })]);
    const config = load(s, { CAMSTACK_ALLOW_TEST_SOURCES: '1' });
    assert.equal(config.allowTestSources, true);
    assert.equal(config.cameras[0]?.sourceType, 'ffmpeg-test');
  });

  it('rejects more cameras than max_cameras, counting both places', () => {
    const s = fileCase([camera('a'), camera('b')], { max_cameras: 2, cameras: [camera('c')] });
    assert.equal(
      loadError(s).message,
      `options.json max_cameras: 3 cameras are configured (1 in options.json, 2 in cameras_file (${s.camerasPath})), more than 2`,
    );
  });

  it('splits credentials out of the URL', () => {
    const s = fileCase([
      camera('a', { source: 'rtsp://admin:p%40ss@cam.local:554/main', substream: 'rtsp://admin:p%40ss@cam.local/sub' }),
      camera('b', { source: 'rtsp://viewer@cam.local/main', password: 'pw' }),
      camera('c', { source: 'rtsp://u:same@cam.local/main', username: 'u', password: 'same' }),
    ]);
    const [a, b, c] = load(s).cameras;
    assert.deepEqual(
      [a?.source, a?.substream, a?.username, a?.password],
      ['rtsp://cam.local:554/main', 'rtsp://cam.local/sub', 'admin', 'p@ss'],
    );
    assert.deepEqual([b?.source, b?.username, b?.password], ['rtsp://cam.local/main', 'viewer', 'pw']);
    assert.deepEqual([c?.source, c?.username, c?.password], ['rtsp://cam.local/main', 'u', 'same']);
  });

  it('rejects conflicting credentials without echoing them', () => {
    const s = fileCase([camera('a', { source: 'rtsp://admin:one@cam.local/main', password: 'two' })]);
    const err = loadError(s);
    assert.match(
      err.message,
      /cameras\[0\]: the password in the source URL differs from the one in username\/password/,
    );
    assert.ok(!err.message.includes('one@') && !err.message.includes('two'), err.message);
  });

  it('reports several problems in one error, one per line', () => {
    const s = fileCase([{ id: 'Bad Id', name: '', source: 'file:///x', extra: 1 }, camera('ok'), camera('ok')], {
      log_level: 'loud',
      foo: true,
    });
    const err = loadError(s);
    const lines = err.message.split('\n');
    assert.equal(lines.length, err.problems.length);
    const label = `cameras_file (${s.camerasPath})`;
    assert.deepEqual(lines, [
      'options.json unknown key "foo"',
      'options.json log_level: must be one of trace, debug, info, warning, error (got "loud")',
      `${label} cameras[0]: unknown key "extra" (line 7)`,
      `${label} cameras[0].id: must match ^[a-z0-9_]{1,64}$ (got "Bad Id") — e.g. "bad_id" (line 4)`,
      `${label} cameras[0].name: must not be empty (line 5)`,
      `${label} cameras[0].source: unsupported scheme "file:" (allowed: rtsp, rtsps, rtmp, http, https) (line 6)`,
      `${label} cameras[2].id: duplicate camera id "ok" (also at ${label} cameras[1].id) (line 15)`,
    ]);
    assert.deepEqual(err.problems[1], {
      path: 'options.json log_level',
      message: 'must be one of trace, debug, info, warning, error (got "loud")',
      source: 'options.json',
      pointer: 'log_level',
    });
  });
});

describe('yamlLineOf', () => {
  const text = ['cameras:', '  - id: a', '    name: A', '    recording:', '      keep: 1', '  - id: "b"', ''].join(
    '\n',
  );
  const doc = parseDocument(text);
  it('finds the node a pointer names, the unknown key itself, and falls back to the nearest parent', () => {
    assert.equal(yamlLineOf(doc, text, 'cameras[0].name', 'must not be empty'), 3);
    assert.equal(yamlLineOf(doc, text, 'cameras[1].id', 'duplicate'), 6);
    assert.equal(yamlLineOf(doc, text, 'cameras[0].recording', 'unknown key "keep"'), 5);
    assert.equal(yamlLineOf(doc, text, 'cameras[0].source', 'is required'), 2, 'missing: the camera itself');
    assert.equal(yamlLineOf(doc, text, 'cameras[7].id', 'x'), 2, 'no such camera: where the list starts');
    assert.equal(yamlLineOf(doc, text, 'nothing', 'x'), null);
  });
});

describe('loadConfig: environment overrides', () => {
  it('applies CAMSTACK_* overrides', () => {
    const s = setup({ options: { log_level: 'info', media_dir: '/media/x' }, cameras: 'cameras: []\n' });
    const config = load(s, {
      CAMSTACK_MEDIA_DIR: 'dev/media',
      CAMSTACK_DATA_DIR: '/tmp/dev-data',
      CAMSTACK_CAMERAS_FILE: s.camerasPath,
      CAMSTACK_LOG_LEVEL: 'debug',
      CAMSTACK_ALLOW_TEST_SOURCES: '1',
    });
    assert.equal(config.mediaDir, resolve('dev/media'));
    assert.equal(config.dataDir, '/tmp/dev-data');
    assert.equal(config.camerasFile, s.camerasPath);
    assert.equal(config.logLevel, 'debug');
    assert.equal(config.allowTestSources, true);
  });

  it('rejects a bad CAMSTACK_LOG_LEVEL', () => {
    assert.match(
      loadError(setup({ options: {} }), { CAMSTACK_LOG_LEVEL: 'loud', CAMSTACK_CAMERAS_FILE: '/config/cameras.yaml' })
        .message,
      /^env CAMSTACK_LOG_LEVEL: must be one of trace, debug, info, warning, error \(got "loud"\)$/m,
    );
  });
});

describe('saveCamerasFile', () => {
  const fileCameras: Camera[] = [
    {
      id: 'front_door',
      name: 'Front Door',
      source: 'rtsp://cam.local:554/main',
      substream: 'rtsp://cam.local:554/sub',
      username: 'admin',
      password: "p@ss: w'rd #1",
      enabled: true,
      sourceType: 'rtsp',
      origin: 'file',
      recording: { continuous: true, retainDays: 15, clipRetainDays: 90, preRollSeconds: 3, clipSeconds: 60 },
      events: toEventSettings(undefined),
      onvif: null,
      motion: DEFAULT_MOTION_CONFIG,
    },
    {
      id: 'yard',
      name: 'yes',
      source: 'http://yard.local/snapshot.jpg',
      substream: null,
      username: null,
      password: null,
      enabled: false,
      sourceType: 'http-jpeg',
      origin: 'file',
      recording: { continuous: false, retainDays: 7, clipRetainDays: 30, preRollSeconds: 0, clipSeconds: 20 },
      events: toEventSettings(undefined),
      onvif: null,
      motion: DEFAULT_MOTION_CONFIG,
    },
  ];
  const optionsCamera: Camera = { ...fileCameras[1]!, id: 'ui_cam', name: 'UI', origin: 'options' };

  it('round-trips through loadConfig, writing only file cameras, atomically, mode 0600', async () => {
    const s = setup();
    const path = join(s.dir, 'sub', 'cameras.yaml');
    writeFileSync(s.optionsPath, JSON.stringify({ cameras_file: path, cameras: [] }));
    await saveCamerasFile(path, [...fileCameras, optionsCamera]);

    assert.deepEqual(load(s).cameras, fileCameras);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(join(s.dir, 'sub')), ['cameras.yaml']);
    const text = readFileSync(path, 'utf8');
    assert.ok(!text.includes('ui_cam'));
    assert.ok(!text.includes('@cam.local'), 'credentials must stay out of the URL');

    // Overwrite: still no temp files, content replaced, mode kept.
    await saveCamerasFile(path, [fileCameras[1]!]);
    assert.deepEqual(readdirSync(join(s.dir, 'sub')), ['cameras.yaml']);
    assert.deepEqual(
      load(s).cameras.map((c) => c.id),
      ['yard'],
    );
    assert.equal(statSync(path).mode & 0o777, 0o600);
  });

  it('writes an empty list when there are no file cameras', async () => {
    const s = setup();
    writeFileSync(s.optionsPath, JSON.stringify({ cameras_file: s.camerasPath }));
    await saveCamerasFile(s.camerasPath, [optionsCamera]);
    assert.deepEqual(load(s).cameras, []);
    assert.match(readFileSync(s.camerasPath, 'utf8'), /^cameras: \[\]$/m);
  });

  it('leaves no temp file behind when the write fails', async () => {
    const s = setup();
    const target = join(s.dir, 'occupied');
    mkdirSync(target);
    writeFileSync(join(target, 'x'), ''); // a non-empty directory cannot be replaced by rename
    await assert.rejects(saveCamerasFile(target, fileCameras));
    assert.deepEqual(readdirSync(s.dir), ['occupied']);
  });
});
