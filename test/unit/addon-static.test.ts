/**
 * Static checks of the add-on image (Docker cannot run here, so the Dockerfile is checked as text
 * and its build script is run on its own): ShellCheck on every s6/shell script, the s6-overlay
 * service layout and its `finish` logic, a Dockerfile linter (dockerfile-utils), the pins in
 * addon/versions.json, checksum verification of the engine build, the health check, and the
 * multi-arch CI workflow.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { validate as validateDockerfile } from 'dockerfile-utils';
import { parse } from 'yaml';

const root = fileURLToPath(new URL('../..', import.meta.url));
const SETUP_HINT = 'run `npm run setup` (it installs it)';
const S6 = join(root, 'rootfs/etc/s6-overlay/s6-rc.d');
const dockerfile = readFileSync(join(root, 'addon/Dockerfile'), 'utf8');
const versions = JSON.parse(readFileSync(join(root, 'addon/versions.json'), 'utf8')) as {
  go2rtc: string;
  mediamtx: string;
  hlsjs: string;
  node: string;
  sums: Record<'go2rtc' | 'mediamtx' | 'hlsjs', string>;
  images: Record<'base' | 'go' | 'node', string>;
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

/** Every shell script the image runs or builds with: s6 run/finish/up and *.sh. */
function shellScripts(): string[] {
  const files = [...walk(join(root, 'rootfs')), ...walk(join(root, 'addon'))];
  return files.filter((f) => {
    if (f.endsWith('.sh')) return true;
    if (!/\/s6-rc\.d\//.test(f) && !/\/services\.d\//.test(f)) return false;
    return /^#!/.test(readFileSync(f, 'utf8'));
  });
}

/** The Dockerfile as instructions: continuation lines joined, comments dropped. */
function instructions(text: string): string[] {
  const out: string[] = [];
  let current = '';
  for (const line of text.split('\n')) {
    if (/^\s*#/.test(line) && current === '') continue;
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

describe('s6-overlay service and shell scripts', () => {
  it('ShellCheck finds nothing in any s6 or shell script', () => {
    assert.ok(has('shellcheck'), `shellcheck is not installed: ${SETUP_HINT}`);
    const scripts = shellScripts();
    const names = scripts.map((f) => relative(root, f)).sort();
    for (const expected of [
      'addon/build/build-engines.sh',
      'rootfs/etc/s6-overlay/s6-rc.d/camstack/finish',
      'rootfs/etc/s6-overlay/s6-rc.d/camstack/run',
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

  it('camstack is an s6-rc longrun enabled in the user bundle, after base, running the built server', () => {
    assert.equal(readFileSync(join(S6, 'camstack/type'), 'utf8').trim(), 'longrun');
    assert.ok(existsSync(join(S6, 'camstack/dependencies.d/base')));
    assert.ok(existsSync(join(S6, 'user/contents.d/camstack')));
    assert.equal(statSync(join(S6, 'user/contents.d/camstack')).size, 0);
    const run = readFileSync(join(S6, 'camstack/run'), 'utf8');
    assert.match(run, /^#!\/command\/with-contenv bash\n/, 'the container environment (SUPERVISOR_TOKEN) is passed');
    const lines = run.trim().split('\n');
    assert.equal(lines.at(-1), 'exec node --max-semi-space-size=4 /app/server/dist/main.js');
    // …which is where the Dockerfile puts the build.
    assert.match(dockerfile, /^COPY --from=app-build \/app\/server\/dist \/app\/server\/dist$/m);
    assert.match(dockerfile, /^COPY rootfs \/$/m);
  });

  it('finish stops the container on a crash or SIGTERM, records why, and leaves a clean exit to s6', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'camstack-finish-'));
    try {
      const exitcode = join(dir, 'exitcode');
      const halted = join(dir, 'halted');
      const halt = join(dir, 'halt');
      await writeFile(halt, `#!/bin/sh\necho yes > '${halted}'\n`, { mode: 0o755 });
      const script = (await readFile(join(S6, 'camstack/finish'), 'utf8'))
        .replaceAll('/run/s6-linux-init-container-results/exitcode', exitcode)
        .replaceAll('/run/s6/basedir/bin/halt', halt);
      const finish = join(dir, 'finish');
      await writeFile(finish, script);
      const run = async (code: number, signal: number, containerCode: string | null) => {
        await rm(halted, { force: true });
        if (containerCode === null) await rm(exitcode, { force: true });
        else await writeFile(exitcode, containerCode);
        const res = spawnSync('bash', [finish, String(code), String(signal)], { encoding: 'utf8' });
        assert.equal(res.status, 0, res.stderr);
        return {
          recorded: existsSync(exitcode) ? (await readFile(exitcode, 'utf8')).trim() : null,
          halted: existsSync(halted),
        };
      };
      assert.deepEqual(await run(1, 0, '0'), { recorded: '1', halted: true }, 'crash: record 1, halt');
      assert.deepEqual(await run(1, 0, '3'), { recorded: '3', halted: true }, 'an earlier code is kept');
      assert.deepEqual(await run(256, 15, '0'), { recorded: '143', halted: true }, 'SIGTERM: 128+15, halt');
      assert.deepEqual(await run(256, 9, '0'), { recorded: '137', halted: false }, 'SIGKILL: recorded, s6 decides');
      assert.deepEqual(await run(0, 0, '0'), { recorded: '0', halted: false }, 'clean exit: left to s6');
      assert.deepEqual(await run(2, 0, null), { recorded: '2', halted: true }, 'no exitcode file yet');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('addon/Dockerfile', () => {
  it('passes the Dockerfile linter (dockerfile-utils) with no problem at all', () => {
    const problems = validateDockerfile(dockerfile).map((d) => `line ${d.range.start.line + 1}: ${d.message}`);
    assert.deepEqual(problems, []);
  });

  it('pins every base image to a version, and the pins are the ones in addon/versions.json', () => {
    assert.equal(argDefault('BUILD_FROM'), versions.images.base);
    assert.equal(argDefault('GO_IMAGE'), versions.images.go);
    assert.equal(argDefault('NODE_IMAGE'), versions.images.node);
    for (const image of Object.values(versions.images)) {
      assert.match(image, /^[a-z0-9./-]+:\d[\w.-]*$/, `${image}: a version tag`);
      assert.doesNotMatch(image, /latest/);
    }
    assert.match(versions.images.base, /^ghcr\.io\/home-assistant\/base:3\.\d+$/, 'the multi-arch HA base image');
    // The build toolchains are the ones the project pins elsewhere.
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      devDependencies: Record<string, string>;
    };
    assert.equal(versions.images.node, `node:${pkg.devDependencies.node}-slim`, 'the Node developers use');
    const [goMajor = 0, goMinor = 0] = (/golang:(\d+)\.(\d+)/.exec(versions.images.go) ?? []).slice(1).map(Number);
    const [wantMajor = 0, wantMinor = 0] = String(
      (JSON.parse(readFileSync(join(root, 'addon/versions.json'), 'utf8')) as { mediamtxGo: string }).mediamtxGo,
    )
      .split('.')
      .map(Number);
    assert.ok(goMajor > wantMajor || (goMajor === wantMajor && goMinor >= wantMinor), 'Go new enough for MediaMTX');
    // Every FROM is a pinned ARG image or an earlier stage.
    const stages: string[] = [];
    for (const ins of instructions(dockerfile).filter((i) => i.startsWith('FROM '))) {
      const m = /^FROM (?:--platform=\S+ )?(\S+)(?: AS (\S+))?$/.exec(ins);
      assert.ok(m, ins);
      const [, image = '', name] = m;
      const pinnedArgs = ['BUILD_FROM', 'GO_IMAGE', 'NODE_IMAGE'].map((n) => `\${${n}}`);
      const known = pinnedArgs.includes(image) || stages.includes(image);
      const archStage = image === `runtime-\${TARGETARCH}` && stages.includes('runtime-amd64');
      assert.ok(known || archStage, `${ins}: not a pinned image`);
      if (name) stages.push(name);
    }
    assert.doesNotMatch(dockerfile, /:latest\b/);
  });

  it('hard-codes no engine version or checksum: the engine stage reads addon/versions.json', () => {
    for (const pinned of [versions.go2rtc, versions.mediamtx, versions.hlsjs, ...Object.values(versions.sums)]) {
      assert.ok(!dockerfile.includes(pinned), `${pinned} is written in the Dockerfile`);
    }
    assert.match(dockerfile, /^COPY addon\/versions\.json addon\/build\/build-engines\.sh \/build\/$/m);
    assert.match(dockerfile, /sh \/build\/build-engines\.sh \/build\/versions\.json \/out/);
    const script = readFileSync(join(root, 'addon/build/build-engines.sh'), 'utf8');
    for (const key of ['.go2rtc', '.mediamtx', '.hlsjs', '.sums.go2rtc', '.sums.mediamtx', '.sums.hlsjs']) {
      assert.ok(script.includes(`pin ${key})`), `build-engines.sh reads ${key}`);
    }
    // Checksums are compared, not just fetched.
    assert.match(script, /\[ "\$sum" = "\$3" \] \|\| die/);
    assert.match(script, /\[ "\$got" = "\$2" \] \|\| die/);
    // Node and FFmpeg majors from Alpine are checked against the same file.
    assert.match(dockerfile, /jq -r \.node "\$\{pins\}"/);
    assert.match(dockerfile, /jq -r \.ffmpeg\.alpine "\$\{pins\}"/);
  });

  it('has a HEALTHCHECK on /api/health/live, the engine paths, HA labels, and keeps s6’s /init', () => {
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
    // s6-overlay: the base image's ENTRYPOINT ["/init"] stays, hence `init: false` in config.yaml.
    assert.ok(!ins.some((i) => /^(ENTRYPOINT|CMD) /.test(i)), 'no ENTRYPOINT/CMD override of /init');
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
