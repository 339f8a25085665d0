/**
 * The declared CAMSTACK_* variables (server/src/config/env.ts): for every one, unset means its
 * default, a good value is taken, and a bad value is a problem naming the variable.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type CamstackEnv,
  ENGINE_PORT_NAMES,
  ENV_VARIABLES,
  type EnvName,
  parseEnv,
} from '../../server/src/config/env.js';
import { ConfigError, formatProblem, loadConfig } from '../../server/src/config/load.js';
import { DEFAULT_ENGINE_PORTS } from '../../server/src/engines/ports.js';

interface Case {
  default: unknown;
  good: [string, unknown];
  /** null: the variable takes any text. */
  bad: string | null;
}

const ms = (): Case => ({ default: null, good: ['250', 250], bad: '1.5' });
const path = (text = '/x/y'): Case => ({ default: null, good: [text, text], bad: null });

const CASES = {
  CAMSTACK_OPTIONS: { default: '/data/options.json', good: ['/tmp/o.json', '/tmp/o.json'], bad: null },
  CAMSTACK_CAMERAS_FILE: path('cams.yaml'),
  CAMSTACK_MEDIA_DIR: path(),
  CAMSTACK_DATA_DIR: path(),
  CAMSTACK_LOG_LEVEL: { default: null, good: ['debug', 'debug'], bad: 'loud' },
  CAMSTACK_ALLOW_TEST_SOURCES: { default: false, good: ['Yes', true], bad: 'on' },
  CAMSTACK_HOST: { default: '0.0.0.0', good: ['127.0.0.1', '127.0.0.1'], bad: null },
  CAMSTACK_PORT: { default: null, good: ['0', 0], bad: '65536' },
  CAMSTACK_API_PORT: { default: null, good: ['8098', 8098], bad: '0' },
  CAMSTACK_API_RATE_LIMIT: { default: null, good: ['100000', 100000], bad: 'many' },
  CAMSTACK_INGRESS_ALLOW: {
    default: null,
    good: [' 127.0.0.1, fd00::/8 ', ['127.0.0.1', 'fd00::/8']],
    bad: '10.0.0.0/33',
  },
  CAMSTACK_GO2RTC_BIN: path(),
  CAMSTACK_MEDIAMTX_BIN: path(),
  CAMSTACK_FFMPEG_BIN: path(),
  CAMSTACK_FFPROBE_BIN: path(),
  CAMSTACK_CACHE_DIR: path(),
  CAMSTACK_ENGINE_PORTS: { default: {}, good: ['{"go2rtcApi":31984}', { go2rtcApi: 31984 }], bad: '{"go2rtcapi":1}' },
  CAMSTACK_WEBRTC_BIND: { default: '', good: ['127.0.0.1', '127.0.0.1'], bad: null },
  CAMSTACK_RTSP_BIND: { default: '127.0.0.1', good: ['0.0.0.0', '0.0.0.0'], bad: null },
  CAMSTACK_SEGMENT_SECONDS: { default: null, good: ['4', 4], bad: '0' },
  CAMSTACK_HEALTH_INTERVAL_MS: ms(),
  CAMSTACK_UNHEALTHY_AFTER_MS: ms(),
  CAMSTACK_BACKOFF_BASE_MS: ms(),
  CAMSTACK_RECONCILE_MS: ms(),
  CAMSTACK_STATUS_POLL_MS: ms(),
  CAMSTACK_MSE_WARM_MS: ms(),
  CAMSTACK_RECORDING_SCAN_MS: ms(),
  CAMSTACK_RECORDING_FULL_SCAN_MS: ms(),
  CAMSTACK_RETENTION_MS: ms(),
  CAMSTACK_BUFFER_SECONDS: { default: null, good: ['20', 20], bad: '-1' },
  CAMSTACK_MQTT_BIRTH_DELAY_MS: ms(),
  CAMSTACK_MQTT_RECONNECT_MS: ms(),
  CAMSTACK_MQTT_STORAGE_MS: ms(),
  CAMSTACK_MQTT_DISCOVERY_COLLECT_MS: ms(),
  CAMSTACK_MQTT_MIGRATION_STEP_MS: ms(),
  CAMSTACK_HA_RETRY_MS: ms(),
} satisfies Record<EnvName, Case>;

describe('CAMSTACK_* variables', () => {
  it('every declared variable has a case here and a description', () => {
    assert.deepEqual(Object.keys(CASES).sort(), Object.keys(ENV_VARIABLES).sort());
    for (const [name, v] of Object.entries(ENV_VARIABLES)) assert.ok(v.description.length > 10, name);
  });

  it('unset or blank: every variable takes its declared default', () => {
    for (const env of [{}, Object.fromEntries(Object.keys(CASES).map((k) => [k, '  ']))]) {
      const { values, problems } = parseEnv(env);
      assert.deepEqual(problems, []);
      for (const [name, c] of Object.entries(CASES)) assert.deepEqual(values[name as EnvName], c.default, name);
      assert.ok(Object.isFrozen(values));
    }
  });

  for (const [name, c] of Object.entries(CASES) as [EnvName, Case][]) {
    it(`${name}: takes ${JSON.stringify(c.good[0])}${c.bad === null ? '' : `, rejects ${JSON.stringify(c.bad)} by name`}`, () => {
      const good = parseEnv({ [name]: c.good[0] });
      assert.deepEqual(good.problems, []);
      assert.deepEqual(good.values[name], c.good[1]);
      if (c.bad === null) return;
      const bad = parseEnv({ [name]: c.bad });
      assert.equal(bad.problems.length, 1);
      const line = formatProblem(bad.problems[0] as (typeof bad.problems)[number]);
      assert.match(
        line,
        new RegExp(`^env ${name}: must be .+ \\(got ${JSON.stringify(JSON.stringify(c.bad)).slice(1, -1)}\\)$`),
      );
      assert.deepEqual(bad.values[name], c.default, 'a bad value leaves the default for the rest of the checks');
    });
  }

  it('the engine port names are those of EnginePorts', () => {
    assert.deepEqual([...ENGINE_PORT_NAMES].sort(), Object.keys(DEFAULT_ENGINE_PORTS).sort());
  });

  it('loadConfig lists every bad variable at once, as start-up problems, and returns the parsed values', () => {
    try {
      loadConfig({
        optionsPath: '/nonexistent/options.json',
        env: { CAMSTACK_PORT: 'x', CAMSTACK_MQTT_RECONNECT_MS: '-5', CAMSTACK_CAMERAS_FILE: '/nonexistent/c.yaml' },
      });
      assert.fail('expected a ConfigError');
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /^env CAMSTACK_PORT: must be an integer from 0 to 65535 \(got "x"\)$/m);
      assert.match(err.message, /^env CAMSTACK_MQTT_RECONNECT_MS: must be an integer of at least 0 \(got "-5"\)$/m);
    }
    const env: CamstackEnv = loadConfig({
      optionsPath: '/nonexistent/options.json',
      env: { CAMSTACK_PORT: '0', CAMSTACK_CAMERAS_FILE: '/dev/null' },
    }).env;
    assert.equal(env.CAMSTACK_PORT, 0);
    assert.equal(env.CAMSTACK_HOST, '0.0.0.0');
  });
});
