/**
 * Static checks of the add-on image (the image itself is built and run by test/image/, `npm run
 * test:image`; these run everywhere, without Docker): ShellCheck on every shell script of the
 * image build and its test, a Dockerfile linter (dockerfile-utils), the entry point, the pins in
 * addon/versions.json, checksum verification of the engine build, the health check, and the
 * multi-arch CI workflow.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { validate as validateDockerfile } from 'dockerfile-utils';
import { parse } from 'yaml';

const root = fileURLToPath(new URL('../..', import.meta.url));
const SETUP_HINT = 'run `npm run setup` (it installs it)';
const dockerfile = readFileSync(join(root, 'addon/Dockerfile'), 'utf8');
const versions = JSON.parse(readFileSync(join(root, 'addon/versions.json'), 'utf8')) as {
  go2rtc: string;
  mediamtx: string;
  mediamtxGo: string;
  hlsjs: string;
  ffmpeg: { debian: string };
  nodejs: { version: string; integrity: Record<'amd64' | 'arm64', string> };
  sums: Record<'go2rtc' | 'mediamtx' | 'hlsjs', string>;
  images: { base: Record<'amd64' | 'arm64', string>; builder: string };
};
const addonConfig = parse(readFileSync(join(root, 'addon/config.yaml'), 'utf8')) as Record<string, unknown>;

function has(cmd: string): boolean {
  return spawnSync('sh', ['-c', 'command -v "$1"', 'sh', cmd], { stdio: 'ignore' }).status === 0;
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)],
  );
}

/** Every shell script the image build and its test use: *.sh under addon/ and scripts/. */
function shellScripts(): string[] {
  return [...walk(join(root, 'addon')), ...walk(join(root, 'scripts'))].filter((f) => f.endsWith('.sh'));
}

/** The Dockerfile as instructions: continuation lines joined, comments dropped. */
function instructions(text: string): string[] {
  const out: string[] = [];
  let current = '';
  for (const line of text.split('\n')) {
    if (/^\s*#/.test(line)) continue;
    if (line.endsWith('\\')) {
      current += `${line.slice(0, -1)} `;
      continue;
    }
    current += line;
    if (current.trim() !== '') out.push(current.trim());
    current = '';
  }
  return out;
}

function argDefault(name: string): string | undefined {
  return new RegExp(`^ARG ${name}=(\\S+)$`, 'm').exec(dockerfile)?.[1];
}

describe('shell scripts of the image build and the image test', () => {
  it('ShellCheck finds nothing in any of them', () => {
    assert.ok(has('shellcheck'), `shellcheck is not installed: ${SETUP_HINT}`);
    const scripts = shellScripts();
    const names = scripts.map((f) => relative(root, f)).sort();
    for (const expected of [
      'addon/build/build-engines.sh',
      'addon/build/fetch-node.sh',
      'scripts/image/local-bases.sh',
      'scripts/test-image.sh',
    ]) {
      assert.ok(names.includes(expected), `${expected} is checked`);
    }
    const res = spawnSync('shellcheck', ['--severity=style', '--format=gcc', ...scripts], { encoding: 'utf8' });
    assert.equal(res.status, 0, `${res.stdout}${res.stderr}`);
  });

  it('the scripts are executable on disk (commit them with git update-index --chmod=+x)', () => {
    for (const f of shellScripts()) {
      assert.doesNotThrow(() => accessSync(f, constants.X_OK), `${relative(root, f)} is not executable`);
    }
  });
});

describe('addon/Dockerfile', () => {
  it('passes the Dockerfile linter (dockerfile-utils) with no problem at all', () => {
    const problems = validateDockerfile(dockerfile).map((d) => `line ${d.range.start.line + 1}: ${d.message}`);
    assert.deepEqual(problems, []);
  });

  it('pins every image: the defaults are addon/versions.json’s, HA’s Debian base per architecture', () => {
    assert.equal(argDefault('BUILDER_IMAGE'), versions.images.builder);
    assert.equal(argDefault('BUILD_FROM'), `ha-base-\${TARGETARCH}`, 'HA’s base unless the build names another');
    assert.match(
      dockerfile,
      new RegExp(`^FROM ${versions.images.base.amd64.replaceAll('.', '\\.')} AS ha-base-amd64$`, 'm'),
    );
    assert.match(
      dockerfile,
      new RegExp(`^FROM ${versions.images.base.arm64.replaceAll('.', '\\.')} AS ha-base-arm64$`, 'm'),
    );
    assert.equal(versions.images.base.amd64, 'ghcr.io/home-assistant/amd64-base-debian:bookworm');
    assert.equal(versions.images.base.arm64, 'ghcr.io/home-assistant/aarch64-base-debian:bookworm');
    assert.match(versions.images.builder, /^golang:\d+\.\d+\.\d+-bookworm$/, 'a Go release on the same Debian');
    // The build toolchains are the ones the project pins elsewhere.
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      devDependencies: Record<string, string>;
    };
    assert.equal(versions.nodejs.version, pkg.devDependencies.node, 'the Node.js developers use');
    for (const arch of ['amd64', 'arm64'] as const) {
      assert.match(versions.nodejs.integrity[arch], /^sha512-[A-Za-z0-9+/]{86}==$/, `nodejs.integrity.${arch}`);
    }
    const [goMajor = 0, goMinor = 0] = (/golang:(\d+)\.(\d+)/.exec(versions.images.builder) ?? []).slice(1).map(Number);
    const [wantMajor = 0, wantMinor = 0] = versions.mediamtxGo.split('.').map(Number);
    assert.ok(goMajor > wantMajor || (goMajor === wantMajor && goMinor >= wantMinor), 'Go new enough for MediaMTX');
    // Every FROM is a pinned image, an ARG naming one, or an earlier stage.
    const stages: string[] = [];
    const pinned = [
      versions.images.base.amd64,
      versions.images.base.arm64,
      ...['BUILDER_IMAGE', 'BUILD_FROM'].map((n) => `\${${n}}`),
    ];
    for (const ins of instructions(dockerfile).filter((i) => i.startsWith('FROM '))) {
      const m = /^FROM (?:--platform=\S+ )?(\S+)(?: AS (\S+))?$/.exec(ins);
      assert.ok(m, ins);
      const [, image = '', name] = m;
      const archStage = image === `runtime-\${TARGETARCH}` && stages.includes('runtime-amd64');
      assert.ok(pinned.includes(image) || stages.includes(image) || archStage, `${ins}: not a pinned image`);
      if (name) stages.push(name);
    }
    assert.doesNotMatch(dockerfile, /:latest\b/);
    // TARGETARCH is BuildKit's own: a bare global `ARG TARGETARCH` would empty it in Docker 20.10.
    const globalScope = dockerfile.slice(0, dockerfile.search(/^FROM /m));
    assert.doesNotMatch(globalScope, /^ARG TARGETARCH\s*$/m);
    // No `# syntax=` line: BuildKit would pull a frontend image (impossible without a registry).
    assert.doesNotMatch(dockerfile, /^#\s*syntax=/m);
  });

  it('hard-codes no engine version or checksum: the engine stage reads addon/versions.json', () => {
    for (const pinned of [versions.go2rtc, versions.mediamtx, versions.hlsjs, ...Object.values(versions.sums)]) {
      assert.ok(!dockerfile.includes(pinned), `${pinned} is written in the Dockerfile`);
    }
    assert.match(
      dockerfile,
      /^COPY addon\/versions\.json addon\/build\/build-engines\.sh addon\/build\/fetch-node\.sh \/build\/$/m,
    );
    assert.match(dockerfile, /sh \/build\/build-engines\.sh \/build\/versions\.json \/out/);
    const script = readFileSync(join(root, 'addon/build/build-engines.sh'), 'utf8');
    for (const key of ['.go2rtc', '.mediamtx', '.hlsjs', '.sums.go2rtc', '.sums.mediamtx', '.sums.hlsjs']) {
      assert.ok(script.includes(`pin ${key})`), `build-engines.sh reads ${key}`);
    }
    // Checksums are compared, not just fetched.
    assert.match(script, /\[ "\$sum" = "\$3" \] \|\| die/);
    assert.match(script, /\[ "\$got" = "\$2" \] \|\| die/);
    // Node.js comes from fetch-node.sh (integrity checked); the image checks Node.js, FFmpeg and
    // the engines against the same file.
    const fetchNode = readFileSync(join(root, 'addon/build/fetch-node.sh'), 'utf8');
    assert.match(fetchNode, /\[ "\$got" = "\$want" \] \|\| die/);
    assert.match(dockerfile, /fetch-node\.sh \/build\/versions\.json "\$\{TARGETARCH\}" \/out\/node/);
    for (const key of ['.nodejs.version', '.ffmpeg.debian', '.go2rtc', '.mediamtx']) {
      assert.ok(dockerfile.includes(`$(pin ${key})`), `the image checks ${key}`);
    }
    for (const pinnedValue of [versions.nodejs.version, ...Object.values(versions.nodejs.integrity)]) {
      assert.ok(!dockerfile.includes(pinnedValue), `${pinnedValue} is written in the Dockerfile`);
    }
  });

  it('has a HEALTHCHECK on /api/health/live, the engine paths, HA labels, and tini as PID 1', () => {
    const ins = instructions(dockerfile);
    const health = ins.filter((i) => i.startsWith('HEALTHCHECK '));
    assert.equal(health.length, 1);
    assert.match(health[0] ?? '', /CMD curl -fsS "http:\/\/127\.0\.0\.1:\$\{CAMSTACK_PORT:-8099\}\/api\/health\/live"/);
    const env = ins.filter((i) => i.startsWith('ENV ')).join(' ');
    for (const [name, path] of [
      ['CAMSTACK_GO2RTC_BIN', '/usr/local/bin/go2rtc'],
      ['CAMSTACK_MEDIAMTX_BIN', '/usr/local/bin/mediamtx'],
      ['CAMSTACK_FFMPEG_BIN', '/usr/bin/ffmpeg'],
      ['CAMSTACK_FFPROBE_BIN', '/usr/bin/ffprobe'],
      ['CAMSTACK_API_PORT', '8098'],
      ['CAMSTACK_RTSP_BIND', '0.0.0.0'],
    ]) {
      assert.ok(env.includes(`${name}=${path}`), `ENV ${name}=${path}`);
    }
    assert.ok(
      Object.keys(addonConfig.ports as object).includes('8098/tcp'),
      'the API port is the one config.yaml maps',
    );
    for (const label of ['io.hass.name', 'io.hass.type="app"', 'io.hass.version', 'io.hass.arch="amd64"']) {
      assert.ok(dockerfile.includes(label), label);
    }
    assert.ok(dockerfile.includes('io.hass.arch="aarch64"'), 'aarch64, not arm64, for Home Assistant');
    assert.match(dockerfile, /org\.opencontainers\.image\.source=/);
    // Its own PID 1 (Debian's tini) on any base, not the HA base's s6 /init: `init: false` in
    // config.yaml, so the Supervisor adds no second init.
    const entrypoint = ins.filter((i) => i.startsWith('ENTRYPOINT '));
    assert.deepEqual(entrypoint, [
      'ENTRYPOINT ["/usr/bin/tini", "--", "node", "--max-semi-space-size=4", "/app/server/dist/main.js"]',
    ]);
    assert.ok(ins.includes('CMD []'), 'the base image’s CMD is emptied');
    assert.match(dockerfile, /apt-get install -y --no-install-recommends [^\n]*\btini\b/);
    assert.equal(addonConfig.init, false);
  });

  it('the build context (repository root) lets in what the Dockerfile copies, and no node_modules', () => {
    const ignore = readFileSync(join(root, 'addon/Dockerfile.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    assert.equal(ignore[0], '**', 'an allow-list');
    assert.ok(ignore.includes('**/node_modules'));
    const allowed = ignore.filter((l) => l.startsWith('!')).map((l) => l.slice(1));
    const sources = instructions(dockerfile)
      .filter((i) => i.startsWith('COPY ') && !i.includes('--from='))
      .flatMap((i) => i.split(/\s+/).slice(1, -1));
    for (const src of sources) {
      const path = src.replace(/\/$/, '');
      // A file must be let in itself (or by a /** above it); a folder by at least one entry inside.
      const ok = allowed.some(
        (a) => a === path || a.startsWith(`${path}/`) || (a.endsWith('/**') && `${path}/`.startsWith(a.slice(0, -2))),
      );
      assert.ok(ok, `${src} is copied but not let into the context`);
      assert.ok(existsSync(join(root, path)), `${src} exists`);
    }
  });
});

describe('the image test’s build context (test/image/docker.ts)', () => {
  it('holds what the Dockerfile copies, as addon/Dockerfile.dockerignore allows, and nothing else', async () => {
    const { contextFiles } = await import('../image/docker.js');
    const files = contextFiles();
    for (const f of [
      'package.json',
      'package-lock.json',
      'tsconfig.base.json',
      'server/package.json',
      'server/src/main.ts',
      'panel/package.json',
      'nodes/package.json',
      'addon/versions.json',
      'addon/build/build-engines.sh',
      'addon/build/fetch-node.sh',
    ]) {
      assert.ok(files.includes(f), `${f} is in the context`);
    }
    for (const f of files) {
      assert.doesNotMatch(f, /(^|\/)(node_modules|dist)\//, `${f}: no node_modules or build output`);
      assert.doesNotMatch(f, /^(\.cache|\.git|test|docs|addon\/config\.yaml)/, `${f} is not used by the build`);
    }
  });
});

describe('addon/build/build-engines.sh', () => {
  const script = join(root, 'addon/build/build-engines.sh');
  const tools = ['go', 'jq', 'npm', 'node', 'tar'];

  it('accepts the pinned module hashes and hls.js integrity (download and check, no build)', () => {
    for (const t of tools) assert.ok(has(t), `${t} is needed by build-engines.sh: ${SETUP_HINT}`);
    const res = spawnSync(
      'sh',
      [script, join(root, 'addon/versions.json'), join(tmpdir(), 'camstack-engines-unused')],
      {
        encoding: 'utf8',
        env: { ...process.env, VERIFY_ONLY: '1', TARGETARCH: 'arm64' },
        timeout: 240_000,
      },
    );
    assert.equal(res.status, 0, `${res.stdout}${res.stderr}`);
    assert.match(res.stdout, /module hashes and hls\.js integrity match/);
  });

  it('refuses a module whose hash is not the pinned one, naming both', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'camstack-pins-'));
    try {
      const bad = {
        ...versions,
        sums: { ...versions.sums, mediamtx: 'h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=' },
      };
      await writeFile(join(dir, 'versions.json'), JSON.stringify(bad));
      const res = spawnSync('sh', [script, join(dir, 'versions.json'), join(dir, 'out')], {
        encoding: 'utf8',
        env: { ...process.env, VERIFY_ONLY: '1' },
        timeout: 240_000,
      });
      assert.notEqual(res.status, 0);
      assert.match(
        res.stderr,
        /github\.com\/bluenviron\/mediamtx@v[\d.]+: the module proxy's hash 'h1:.+' is not the pinned 'h1:A+=/,
      );
      assert.ok(!existsSync(join(dir, 'out')), 'nothing was built');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('.github/workflows/addon.yaml', () => {
  it('builds linux/amd64 and linux/arm64 from the repository root with addon/Dockerfile', () => {
    const wf = parse(readFileSync(join(root, '.github/workflows/addon.yaml'), 'utf8')) as {
      jobs: Record<string, { steps: { uses?: string; run?: string; with?: Record<string, unknown> }[] }>;
    };
    const steps = Object.values(wf.jobs).flatMap((j) => j.steps);
    const build = steps.find((s) => s.uses?.startsWith('docker/build-push-action@'));
    assert.ok(build?.with, 'docker/build-push-action');
    assert.equal(build.with.context, '.');
    assert.equal(build.with.file, 'addon/Dockerfile');
    assert.deepEqual(String(build.with.platforms).split(',').sort(), ['linux/amd64', 'linux/arm64']);
    assert.match(String(build.with['build-args']), /BUILD_VERSION=\$\{\{ steps\.addon\.outputs\.version \}\}/);
    assert.ok(steps.some((s) => s.uses?.startsWith('docker/setup-qemu-action@')));
    // Image name and version come from config.yaml, so the pushed tag is the one the Supervisor pulls.
    assert.ok(steps.some((s) => s.run?.includes("yq -r '.image' addon/config.yaml")));
    assert.ok(steps.some((s) => s.run?.includes("yq -r '.version' addon/config.yaml")));
    assert.ok(steps.some((s) => s.uses?.startsWith('frenck/action-addon-linter@')));
  });
});
