/**
 * The Node-RED flow-library scorecard (`node-red-dev validate`, node-red/node-red-dev-cli) for
 * nodes/, rule by rule. The tool itself stops at its first online lookup (the flow library's
 * catalogue and the npm registry); here every rule is checked offline: against this repository
 * for the ones that clone it, against the installed node-red for the version ones, and by
 * construction (a `camstack-` prefix, no dependencies) for the ones that need the catalogue.
 * The node definitions are read exactly as the tool reads them: the `text/javascript` script
 * blocks of each node's HTML, parsed with acorn, looking for literal `registerType` calls.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DEFAULT_BASE_URL } from '../../nodes/src/constants.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const dir = join(root, 'nodes');
const requireFromRed = createRequire(createRequire(import.meta.url).resolve('node-red'));

interface Semver {
  satisfies(version: string, range: string): boolean;
  minVersion(range: string): { version: string } | null;
  validRange(range: string): string | null;
}
interface AcornNode {
  type: string;
  value?: unknown;
  name?: string;
  callee?: { property?: { name?: string } };
  arguments?: AcornNode[];
  properties?: { key: { name?: string; value?: unknown }; value: AcornNode }[];
}
const semver = requireFromRed('semver') as Semver;
const acorn = requireFromRed('acorn') as { parse(code: string, opts: { ecmaVersion: 'latest' }): unknown };
const walk = requireFromRed('acorn-walk') as {
  simple(ast: unknown, visitors: { CallExpression: (node: AcornNode) => void }): void;
};

interface Pkg {
  name: string;
  version: string;
  license?: string;
  keywords?: string[];
  repository?: { type: string; url: string; directory?: string };
  bugs?: { url: string };
  engines?: { node?: string };
  dependencies?: Record<string, string>;
  files?: string[];
  'node-red': { version?: string; nodes: Record<string, string> };
}

const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Pkg;

interface NodeDefinition {
  category?: unknown;
  color?: unknown;
  icon?: unknown;
  inputs?: unknown;
  outputs?: unknown;
  defaults?: string[];
  credentials?: string[];
}

/** node-red-dev-cli checknodes.js getNodeDefinitions, on the source HTML that the build copies beside each .js. */
function nodeDefinitions(htmlFile: string): Record<string, NodeDefinition> {
  const html = readFileSync(htmlFile, 'utf8');
  const blocks = [...html.matchAll(/<script.+?type=['"]text\/javascript['"].*?>([\S\s]*?)<\/script>/gi)].map(
    (m) => m[1] ?? '',
  );
  assert.ok(blocks.length > 0, `${htmlFile}: a text/javascript script block`);
  const defs: Record<string, NodeDefinition> = {};
  for (const block of blocks) {
    walk.simple(acorn.parse(block, { ecmaVersion: 'latest' }), {
      CallExpression(node) {
        if (node.callee?.property?.name !== 'registerType') return;
        const [typeNode, defNode] = node.arguments ?? [];
        assert.equal(typeNode?.type, 'Literal', 'registerType with a literal type');
        assert.equal(defNode?.type, 'ObjectExpression', 'registerType with an inline definition');
        const def: NodeDefinition = {};
        for (const prop of defNode?.properties ?? []) {
          const key = prop.key.name ?? String(prop.key.value);
          if (['category', 'color', 'icon', 'inputs', 'outputs'].includes(key)) {
            assert.equal(prop.value.type, 'Literal', `${String(typeNode?.value)}.${key} is a literal`);
            (def as Record<string, unknown>)[key] = prop.value.value;
          } else if (key === 'defaults' || key === 'credentials') {
            assert.ok(prop.value.properties, `${String(typeNode?.value)}.${key} is inline`);
            def[key] = (prop.value.properties ?? []).map((p) => p.key.name ?? String(p.key.value));
          }
        }
        defs[String(typeNode?.value)] = def;
      },
    });
  }
  return defs;
}

/** The source HTML of a `node-red.nodes` entry: dist/x.js is built with editor/x.html beside it. */
function htmlOf(jsPath: string): string {
  const m = /^dist\/([a-z-]+)\.js$/.exec(jsPath);
  assert.ok(m, `${jsPath} is a built file in dist/`);
  return join(dir, 'editor', `${m[1]}.html`);
}

const definitions: Record<string, NodeDefinition> = {};
for (const js of Object.values(pkg['node-red'].nodes)) Object.assign(definitions, nodeDefinitions(htmlOf(js)));
const types = Object.keys(definitions);

describe('Node-RED flow-library scorecard (node-red-dev validate)', () => {
  it('P01 licence: MIT, with the licence file shipped', () => {
    assert.equal(pkg.license, 'MIT');
    const text = readFileSync(join(dir, 'LICENSE'), 'utf8');
    assert.match(text, /^MIT License/);
    assert.match(text, /Permission is hereby granted, free of charge/);
    assert.ok(pkg.files?.includes('LICENSE'));
  });

  it('P02 the package in the repository has this name (the tool clones repository.url at repository.directory)', () => {
    const repo = pkg.repository;
    assert.ok(repo, 'a repository');
    assert.equal(repo.type, 'git');
    // The tool's isGitUrl, and the repository this checkout is: the add-on's URL (addon/config.yaml).
    assert.match(repo.url, /(?:git|ssh|https?|git@[-\w.]+):(\/\/)?(.*?)(\/?|#[-\d\w._]+?)$/);
    const addonUrl = /^url: (.+)$/m.exec(readFileSync(join(root, 'addon/config.yaml'), 'utf8'))?.[1];
    assert.equal(repo.url, `git+${addonUrl}.git`);
    assert.equal(repo.directory, 'nodes');
    const inRepo = JSON.parse(readFileSync(join(root, repo.directory, 'package.json'), 'utf8')) as Pkg;
    assert.equal(inRepo.name, pkg.name);
  });

  it('P03 repository and bugs links', () => {
    assert.match(pkg.bugs?.url ?? '', /^https:\/\/github\.com\/camstack\/camstack\/issues$/);
    assert.ok(pkg.repository?.url);
  });

  it('P04 a scoped, valid npm name matching the repository owner', () => {
    assert.match(pkg.name, /@[a-z\d][\w-.]+\/[a-z\d][\w-.]*/, 'scoped (the tool regex)');
    // npm's rules: at most 214 characters, lowercase, URL-safe, no leading dot or underscore.
    assert.ok(pkg.name.length <= 214);
    assert.equal(pkg.name, pkg.name.toLowerCase());
    assert.match(pkg.name, /^@[a-z0-9][a-z0-9._-]*\/[a-z0-9][a-z0-9._-]*$/);
    assert.equal(encodeURIComponent(pkg.name.slice(1)).replace('%2F', '/'), pkg.name.slice(1));
    const owner = /github\.com\/([^/]+)\//.exec(pkg.repository?.url ?? '')?.[1];
    assert.equal(pkg.name.split('/')[0], `@${owner}`, 'the scope is the repository owner');
  });

  it('P05 the node-red keyword', () => {
    assert.ok(pkg.keywords?.includes('node-red'));
  });

  it('P06 a Node-RED version range that includes the current Node-RED (and 3.1, 4.x)', () => {
    const range = pkg['node-red'].version ?? '';
    assert.ok(semver.validRange(range), `valid range ${range}`);
    const installed = (requireFromRed('node-red/package.json') as { version: string }).version;
    for (const v of [installed, '3.1.0', '4.1.8']) assert.ok(semver.satisfies(v, range), `Node-RED ${v} in ${range}`);
    assert.equal(semver.minVersion(range)?.version, '3.1.0');
  });

  it('P07 a Node.js range that includes the minimum Node of the current Node-RED (and the add-on Node 22)', () => {
    const range = pkg.engines?.node ?? '';
    assert.ok(semver.validRange(range));
    const redEngines = (requireFromRed('node-red/package.json') as Pkg).engines?.node ?? '';
    const min = semver.minVersion(redEngines)?.version ?? '';
    assert.ok(semver.satisfies(min, range), `Node ${min} (node-red ${redEngines}) in ${range}`);
    for (const v of ['18.0.0', '20.0.0', '22.9.0', process.versions.node]) assert.ok(semver.satisfies(v, range), v);
  });

  it('P08 a name of its own (the catalogue lookup needs the internet): the package and scope are Camstack', () => {
    assert.equal(pkg.name, '@camstack/node-red-contrib-camstack');
  });

  it('N01 unique node type names: all prefixed camstack-, the same in HTML and runtime, none of Node-RED core', () => {
    assert.deepEqual(types.sort(), Object.keys(pkg['node-red'].nodes).sort());
    for (const t of types) assert.match(t, /^camstack-[a-z]+$/);
    const coreDir = join(requireFromRed.resolve('@node-red/nodes/package.json'), '..', 'core');
    const core = new Set<string>();
    const scan = (d: string) => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        if (e.isDirectory()) scan(join(d, e.name));
        else if (e.name.endsWith('.html')) {
          for (const m of readFileSync(join(d, e.name), 'utf8').matchAll(/registerType\(\s*['"]([^'"]+)['"]/g))
            core.add(m[1] ?? '');
        }
      }
    };
    scan(coreDir);
    assert.ok(core.has('inject') && core.has('debug'), 'read the core types');
    for (const t of types) assert.ok(!core.has(t), `${t} is not a core type`);
    // The runtime registers the same types (each entry file registers its own).
    for (const [type, js] of Object.entries(pkg['node-red'].nodes)) {
      const entry = readFileSync(join(dir, js.replace(/^dist\//, 'src/').replace(/\.js$/, '.ts')), 'utf8');
      assert.match(entry, /^export = register[A-Z]\w+;$/m, `${type}: one register function`);
    }
  });

  it('N02 an example flow for every node', () => {
    const files = readdirSync(join(dir, 'examples')).filter((f) => f.endsWith('.json'));
    assert.ok(files.length > 0);
    const used = new Set<string>();
    for (const file of files) {
      const flow = JSON.parse(readFileSync(join(dir, 'examples', file), 'utf8')) as {
        id: string;
        type: string;
        server?: string;
        wires?: string[][];
        baseUrl?: string;
      }[];
      assert.ok(Array.isArray(flow), `${file} is a flow`);
      const ids = new Set(flow.map((n) => n.id));
      assert.equal(ids.size, flow.length, `${file}: unique ids`);
      for (const n of flow) {
        used.add(n.type);
        for (const target of (n.wires ?? []).flat()) assert.ok(ids.has(target), `${file}: ${n.id} wired to ${target}`);
        if (n.server) assert.ok(ids.has(n.server), `${file}: its camstack-server is included`);
        if (n.type === 'camstack-server') assert.equal(n.baseUrl, DEFAULT_BASE_URL);
      }
      assert.ok(!JSON.stringify(flow).includes('"credentials"'), `${file}: no credentials`);
    }
    const missing = types.filter((t) => definitions[t]?.category !== 'config' && !used.has(t));
    assert.deepEqual(missing, [], 'examples for every node');
  });

  it('D01 few production dependencies: none (fetch, streams and crypto are built into Node 18+)', () => {
    assert.deepEqual(Object.keys(pkg.dependencies ?? {}), []);
  });

  it('D02 no incompatible packages in the tree (node-red-dev badpackages.json: agent-base < 6)', () => {
    // No dependencies, so the installed tree of the package is the package alone.
    assert.equal(pkg.dependencies, undefined);
    const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dependencies?: Record<string, string> }>;
    };
    assert.deepEqual(Object.keys(lock.packages.nodes?.dependencies ?? {}), []);
  });

  it('D03 dependencies up to date: nothing to update', () => {
    assert.deepEqual(Object.keys(pkg.dependencies ?? {}), []);
  });

  it('definitions and editor: palette category, icon files, help in the Inputs/Outputs/Details form', () => {
    for (const [type, def] of Object.entries(definitions)) {
      const html = readFileSync(join(dir, 'editor', `${type}.html`), 'utf8');
      assert.match(html, new RegExp(`data-template-name="${type}"`));
      const help =
        new RegExp(`<script type="text/html" data-help-name="${type}">([\\s\\S]*?)</script>`).exec(html)?.[1] ?? '';
      assert.match(help.trim(), /^<p>[^<]/, `${type}: the help starts with a one-line <p> (the palette tooltip)`);
      if (def.category === 'config') {
        assert.deepEqual(def.credentials, ['token']);
        continue;
      }
      assert.equal(def.category, 'Camstack');
      assert.equal(def.inputs, 1);
      assert.equal(def.outputs, 1);
      assert.match(String(def.color), /^#[0-9a-f]{6}$/i);
      const icon = String(def.icon);
      assert.equal(icon, `${type}.svg`, 'a globally unique icon name');
      const svg = readFileSync(join(dir, 'icons', icon), 'utf8');
      assert.match(svg, /viewBox="0 0 40 60"/, '2:3, 40×60');
      assert.doesNotMatch(svg, /fill="#(?!fff)/i, 'white on transparent');
      const order = ['<h3>Inputs</h3>', '<h3>Outputs</h3>', '<h3>Details</h3>'].map((h) => help.indexOf(h));
      assert.ok(
        order.every((i) => i >= 0) && order[0]! < order[1]! && order[1]! < order[2]!,
        `${type}: Inputs, Outputs, Details`,
      );
      assert.match(help, /<dl class="message-properties">/);
      assert.ok(def.defaults?.includes('server') && def.defaults.includes('camera'), `${type}: server and camera`);
    }
    assert.ok(existsSync(join(dir, 'resources', 'camstack-editor.js')));
  });
});
