/**
 * addon/config.yaml, checked the way the Home Assistant Supervisor and the add-on linter read it:
 * our own rules from their documentation (test/helpers/addon-rules.ts: keys, types, ranges, no key
 * set to its default, no `watchdog`, …), the Supervisor's option-schema grammar, and agreement with the server's own OptionsSchema, the
 * translations, the versions and the store images.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { OptionsSchema } from '../../server/src/config/schema.js';
import { checkAddonConfig } from '../helpers/addon-rules.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const addon = join(root, 'addon');

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Obj = Record<string, Json>;

const readYaml = (path: string) => parse(readFileSync(path, 'utf8')) as Obj;
const config = readYaml(join(addon, 'config.yaml'));
const schema = config.schema as Obj;
const options = config.options as Obj;

/** supervisor/apps/options.py RE_SCHEMA_ELEMENT, with JS named groups. */
const RE_SCHEMA_ELEMENT = new RegExp(
  '^(?:' +
    '|bool' +
    '|email' +
    '|url' +
    '|port' +
    '|device(?:\\((?<filter>subsystem=[a-z]+)\\))?' +
    '|str(?:\\((?<s_min>\\d+)?,(?<s_max>\\d+)?\\))?' +
    '|password(?:\\((?<p_min>\\d+)?,(?<p_max>\\d+)?\\))?' +
    '|int(?:\\((?<i_min>-?\\d+)?,(?<i_max>-?\\d+)?\\))?' +
    '|float(?:\\((?<f_min>-?\\d*\\.?\\d+)?,(?<f_max>-?\\d*\\.?\\d+)?\\))?' +
    '|match\\((?<match>.*)\\)' +
    '|list\\((?<list>.+)\\)' +
    ')\\??$',
);

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A JSON Schema without its `null` alternative (TypeBox's Nullable is anyOf [T, null]). */
function nonNull(s: Obj): Obj {
  if (Array.isArray(s.anyOf)) {
    const rest = (s.anyOf as Obj[]).filter((x) => x.type !== 'null');
    if (rest.length === 1 && rest[0]) return rest[0];
  }
  return s;
}

/** Problems of one Supervisor schema element against the server's JSON Schema for that value. */
function elementProblems(where: string, element: string, server: Obj): string[] {
  const m = RE_SCHEMA_ELEMENT.exec(element);
  if (!m?.groups) return [`${where}: "${element}" is not a Supervisor schema element`];
  const g = m.groups;
  const s = nonNull(server);
  const kind = element.replace(/\?$/, '').replace(/\(.*$/, '');
  const out: string[] = [];
  const expectType = (types: string[]) => {
    if (!types.includes(String(s.type))) out.push(`${where}: "${element}" but the server's type is ${s.type}`);
  };
  const expectBound = (key: string, value: string | undefined) => {
    if (value !== undefined && Number(value) !== s[key]) {
      out.push(`${where}: "${element}" has ${key} ${value}, the server's is ${s[key]}`);
    }
  };
  switch (kind) {
    case 'bool':
      expectType(['boolean']);
      break;
    case 'int':
      expectType(['integer']);
      expectBound('minimum', g.i_min);
      expectBound('maximum', g.i_max);
      break;
    case 'float':
      expectType(['number', 'integer']);
      expectBound('minimum', g.f_min);
      expectBound('maximum', g.f_max);
      break;
    case 'port':
      expectType(['integer']);
      if (s.minimum !== 1 || s.maximum !== 65535) out.push(`${where}: port, but the server accepts another range`);
      break;
    case 'str':
    case 'password':
      expectType(['string']);
      expectBound('minLength', g.s_min ?? g.p_min);
      expectBound('maxLength', g.s_max ?? g.p_max);
      break;
    case 'match':
      expectType(['string']);
      if (g.match !== s.pattern) out.push(`${where}: match(${g.match}) but the server's pattern is ${s.pattern}`);
      break;
    case 'list': {
      const values = (g.list ?? '').split('|');
      const allowed = (s.enum as string[] | undefined) ?? [];
      if (JSON.stringify([...values].sort()) !== JSON.stringify([...allowed].sort())) {
        out.push(`${where}: list(${g.list}) but the server allows ${allowed.join('|')}`);
      }
      break;
    }
    case 'email':
    case 'url':
      expectType(['string']);
      break;
    default:
      out.push(`${where}: "${element}" has no counterpart in the server`);
  }
  return out;
}

const optional = (element: Json | undefined) => typeof element === 'string' && element.endsWith('?');

describe('addon/config.yaml', () => {
  it('passes our add-on rules (the Supervisor’s documented keys, types and ranges; the linter’s extra rules)', () => {
    assert.deepEqual(checkAddonConfig(config), []);
  });

  it('the rules catch what the Supervisor or the linter would refuse', () => {
    const bad = {
      name: 'x',
      version: '1',
      slug: 'bad slug',
      description: 'd',
      arch: ['amd64', 'sparc'],
      init: true,
      timeout: 5,
      ports: { '80/sctp': 1, '81/tcp': 70000 },
      services: ['mqtt:maybe'],
      map: ['media:rw', { type: 'share' }],
      watchdog: 'tcp://[HOST]:[PORT:80]',
      webui: 'http://[HOST]:[PORT:80]/',
      ingress: true,
      homeassistant: 'latest',
      colour: 'blue',
    };
    const problems = checkAddonConfig(bad);
    for (const expected of [
      /^slug: /,
      /^arch: /,
      /^init: true is the default/,
      /^timeout: must be an integer 10–300/,
      /^ports: key "80\/sctp"/,
      /^services: /,
      /^map: mixes strings and dicts/,
      /^watchdog: obsolete/,
      /^webui: not together with ingress/,
      /^homeassistant: /,
      /^colour: not an add-on key/,
    ]) {
      assert.ok(
        problems.some((p) => expected.test(p)),
        `${expected} among:\n${problems.join('\n')}`,
      );
    }
    assert.deepEqual(checkAddonConfig({ name: 'x' }).filter((p) => p.endsWith('required')).length, 4);
  });

  it('is an add-on with its own PID 1 (tini), ingress, MQTT, the HA API and prebuilt multi-arch images', () => {
    assert.equal(config.slug, 'camstack');
    assert.equal(config.init, false, 'the image runs tini as PID 1: no second init from Docker');
    assert.deepEqual([...(config.arch as string[])].sort(), ['aarch64', 'amd64']);
    assert.equal(config.ingress, true);
    assert.equal(config.panel_icon, 'mdi:cctv');
    assert.equal(config.panel_title, 'Cameras');
    assert.deepEqual(config.services, ['mqtt:need']);
    assert.equal(config.homeassistant_api, true);
    const matrix = JSON.parse(readFileSync(join(root, 'scripts/ha-versions.json'), 'utf8')) as {
      versions: { version: string }[];
    };
    assert.equal(
      config.homeassistant,
      matrix.versions[0]?.version,
      'the oldest HA the add-on accepts is the oldest the acceptance tests run against',
    );
    assert.match(String(config.image), /^ghcr\.io\/[a-z0-9-]+\/camstack-addon$/);
    assert.ok(!String(config.image).includes('{arch}'), 'one multi-arch image, no {arch}');
    const map = config.map as Obj[];
    assert.ok(
      map.every((m) => isObj(m)),
      'map entries are all dicts (the linter rejects mixed forms)',
    );
    assert.deepEqual(
      map.map((m) => [m.type, m.read_only]),
      [
        ['addon_config', false],
        ['media', false],
      ],
    );
    assert.deepEqual(config.ports, { '8098/tcp': null, '8554/tcp': null, '8555/tcp': 8555, '8555/udp': 8555 });
    assert.deepEqual(Object.keys(config.ports_description as Obj).sort(), Object.keys(config.ports as Obj).sort());
    const excluded = config.backup_exclude as string[];
    for (const file of ['front/2026-01-01/10-00-00.mp4', 'x/segment.m4s', 'clip.mkv']) {
      assert.ok(
        excluded.some((p) => p.startsWith('*.') && file.endsWith(p.slice(1))),
        `${file} is left out of backups`,
      );
    }
  });

  it('option schema: Supervisor grammar, optional keys absent from options, required keys present', () => {
    const problems: string[] = [];
    for (const [key, element] of Object.entries(schema)) {
      if (Array.isArray(element)) {
        assert.equal(element.length, 1, `${key}: a list schema has one element`);
        const item = element[0];
        if (isObj(item)) {
          for (const [field, sub] of Object.entries(item)) {
            assert.equal(typeof sub, 'string', `${key}.${field}: lists of dicts nest no further (depth 2)`);
            if (!RE_SCHEMA_ELEMENT.test(String(sub))) problems.push(`${key}.${field}: "${sub}"`);
          }
          assert.ok(key in options, `${key} (a list of dicts cannot be optional) is in options`);
        } else {
          assert.equal(typeof item, 'string', `${key}: a list may not contain a list`);
          if (!RE_SCHEMA_ELEMENT.test(String(item))) problems.push(`${key}: "${item}"`);
          if (optional(item)) assert.ok(!(key in options), `${key} is optional: leave it out of options`);
        }
      } else {
        assert.equal(typeof element, 'string', `${key}: a plain element`);
        if (!RE_SCHEMA_ELEMENT.test(String(element))) problems.push(`${key}: "${element}"`);
        if (optional(element)) assert.ok(!(key in options), `${key} is optional: leave it out of options`);
        else assert.ok(key in options, `${key} is required: give it a value in options`);
      }
    }
    assert.deepEqual(problems, [], 'schema elements the Supervisor rejects');
    for (const key of Object.keys(options)) assert.ok(key in schema, `options.${key} has a schema entry`);
  });

  it('option schema agrees with the server’s OptionsSchema, and the defaults in options pass it', () => {
    const server = OptionsSchema as unknown as { properties: Record<string, Obj> };
    const problems: string[] = [];
    for (const [key, element] of Object.entries(schema)) {
      const prop = server.properties[key];
      if (!prop) {
        problems.push(`${key}: not an option of the server (server/src/config/schema.ts)`);
        continue;
      }
      const s = nonNull(prop);
      if (Array.isArray(element)) {
        if (s.type !== 'array') {
          problems.push(`${key}: a list here, ${s.type} in the server`);
          continue;
        }
        const items = s.items as Obj;
        const item = element[0];
        if (isObj(item)) {
          const fields = items.properties as Record<string, Obj>;
          for (const [field, sub] of Object.entries(item)) {
            const fieldSchema = fields[field];
            if (!fieldSchema) problems.push(`${key}.${field}: not a field of the server`);
            else problems.push(...elementProblems(`${key}.${field}`, String(sub), fieldSchema));
          }
          for (const field of (items.required as string[] | undefined) ?? []) {
            if (optional(item[field] ?? '?')) problems.push(`${key}.${field}: required by the server, optional here`);
          }
        } else {
          problems.push(...elementProblems(`${key}[]`, String(item), items));
        }
      } else {
        problems.push(...elementProblems(key, String(element), prop));
      }
    }
    assert.deepEqual(problems, []);
    const ajv = new Ajv({ strict: false, allErrors: true });
    const validate = ajv.compile(OptionsSchema);
    assert.ok(validate(options), JSON.stringify(validate.errors));
  });

  it('every option (and every field of a list of dicts) and every port has a translation', () => {
    const en = readYaml(join(addon, 'translations', 'en.yaml'));
    const conf = en.configuration as Record<string, Obj>;
    const missing: string[] = [];
    for (const [key, element] of Object.entries(schema)) {
      const t = conf[key];
      if (!t || typeof t.name !== 'string' || t.name === '') {
        missing.push(key);
        continue;
      }
      const item = Array.isArray(element) ? element[0] : null;
      if (isObj(item)) {
        const fields = (t.fields ?? {}) as Record<string, Obj>;
        for (const field of Object.keys(item)) {
          if (typeof fields[field]?.name !== 'string') missing.push(`${key}.${field}`);
        }
        assert.deepEqual(Object.keys(fields).sort(), Object.keys(item).sort(), `${key}: no stale field translations`);
      }
    }
    assert.deepEqual(missing, [], 'options without a translated name');
    assert.deepEqual(Object.keys(conf).sort(), Object.keys(schema).sort(), 'no translations of removed options');
    const network = en.network as Obj;
    assert.deepEqual(Object.keys(network).sort(), Object.keys(config.ports as Obj).sort());
    for (const text of Object.values(network)) assert.ok(typeof text === 'string' && text.length > 0);
  });

  it('versions agree: config.yaml, package.json, server/package.json and the add-on CHANGELOG', () => {
    const version = String(config.version);
    assert.match(version, /^\d+\.\d+\.\d+$/);
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
    const serverPkg = JSON.parse(readFileSync(join(root, 'server/package.json'), 'utf8')) as { version: string };
    assert.equal(pkg.version, version, 'package.json');
    assert.equal(serverPkg.version, version, 'server/package.json (the server reports this version)');
    const top = readFileSync(join(addon, 'CHANGELOG.md'), 'utf8')
      .split('\n')
      .find((l) => l.startsWith('## '));
    assert.ok(top, 'addon/CHANGELOG.md has a version heading');
    assert.match(top, new RegExp(`^## \\[?${version.replace(/\./g, '\\.')}\\]?(\\s|$)`), 'its newest heading');
    // The developer changelog still lists the same release as unreleased, or has released it.
    const rootLog = readFileSync(join(root, 'CHANGELOG.md'), 'utf8');
    const rootTop = rootLog.split('\n').find((l) => l.startsWith('## '));
    if (/\(unreleased\)/i.test(top)) assert.match(String(rootTop), /Unreleased|\d+\.\d+\.\d+/);
    else assert.match(rootLog, new RegExp(`## \\[${version.replace(/\./g, '\\.')}\\]`));
  });

  it('store files: repository.yaml, README, DOCS and real PNG icon (128×128) and logo (≈250×100)', () => {
    const repo = readYaml(join(root, 'repository.yaml'));
    assert.equal(typeof repo.name, 'string');
    assert.match(String(repo.url), /^https:\/\//);
    for (const file of ['README.md', 'DOCS.md', 'CHANGELOG.md']) {
      assert.ok(readFileSync(join(addon, file), 'utf8').length > 200, `${file} has content`);
    }
    const size = (file: string) => {
      const png = readFileSync(join(addon, file));
      assert.deepEqual([...png.subarray(0, 8)], [137, 80, 78, 71, 13, 10, 26, 10], `${file} is a PNG`);
      assert.equal(png.subarray(12, 16).toString('latin1'), 'IHDR');
      return [png.readUInt32BE(16), png.readUInt32BE(20)];
    };
    assert.deepEqual(size('icon.png'), [128, 128]);
    const [w = 0, h = 0] = size('logo.png');
    assert.ok(w >= 200 && w <= 300 && h >= 80 && h <= 120, `logo.png is ${w}×${h}`);
  });
});
