#!/usr/bin/env node
// Installs everything Camstack needs on a development or CI machine, idempotently:
//   - npm dependencies (npm ci when package-lock.json changed; it never rewrites the lock), which
//     include Node 22;
//   - Debian packages: ffmpeg, mosquitto, chromium, shellcheck, jq (only those missing);
//   - go2rtc and MediaMTX at the versions pinned in addon/versions.json, built from the Go module
//     proxy into a project-local cache (.cache/engines/<name>-<version>/);
//   - the ONVIF device mock the tests run (scripts/onvif-mock.mjs: a Rust runner of the crates.io
//     oxvif mock, built with cargo into .cache/onvif-mock/, rebuilt only when its sources change);
//   - the Home Assistant Core versions the acceptance tests run against (scripts/setup-ha.mjs:
//     Debian chroots in a machine-level cache; CAMSTACK_SKIP_HA=1 skips them).
// A second run finds everything in place and returns in a few seconds.
// Plain Node (no dependencies) on purpose: it runs before node_modules exists.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildOnvifMock } from './onvif-mock.mjs';
import { installHomeAssistants } from './setup-ha.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const versions = JSON.parse(readFileSync(join(root, 'addon/versions.json'), 'utf8'));
const cacheDir = process.env.CAMSTACK_CACHE_DIR ?? join(root, '.cache');
const quiet = process.argv.includes('--quiet');
// `--no-ha` (npm run demo): the demo needs no Home Assistant, so a new user does not wait for it.
const skipHa = process.env.CAMSTACK_SKIP_HA === '1' || process.argv.includes('--no-ha');
const started = Date.now();
const actions = [];
const missing = [];

function log(msg) {
  if (!quiet) process.stdout.write(`[setup] ${msg}\n`);
}

function fail(msg) {
  process.stderr.write(`[setup] ERROR: ${msg}\n`);
  process.exit(1);
}

function run(cmd, args, opts = {}) {
  const res = spawnSync(cmd, args, { stdio: opts.capture ? 'pipe' : 'inherit', encoding: 'utf8', ...opts });
  if (res.error) fail(`${cmd} could not start: ${res.error.message}`);
  if (res.status !== 0) {
    const out = opts.capture ? `\n${res.stdout ?? ''}${res.stderr ?? ''}` : '';
    fail(`${cmd} ${args.join(' ')} exited with ${res.status}${out}`);
  }
  return res.stdout ?? '';
}

function has(cmd) {
  return spawnSync('sh', ['-c', 'command -v "$1"', 'sh', cmd], { stdio: 'ignore' }).status === 0;
}

// 1. npm dependencies ---------------------------------------------------------------------------
function npmDeps() {
  const lock = join(root, 'package-lock.json');
  const stamp = join(root, 'node_modules', '.camstack-lock-hash');
  const want = existsSync(lock) ? createHash('sha256').update(readFileSync(lock)).digest('hex') : 'none';
  const node22 = join(root, 'node_modules', '.bin', 'node');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === want && existsSync(node22)) return;
  log('installing npm dependencies…');
  // npm ci: exactly the locked versions, and it never rewrites package-lock.json (npm install
  // did, adding other platforms' optional packages: the tree was dirty after the README's commands).
  run('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root });
  writeFileSync(stamp, want);
  actions.push('npm dependencies');
}

// 2. Debian packages ------------------------------------------------------------------------------
const debianPackages = [
  { bin: 'ffmpeg', pkg: 'ffmpeg' },
  { bin: 'ffprobe', pkg: 'ffmpeg' },
  { bin: 'mosquitto', pkg: 'mosquitto', extraPaths: ['/usr/sbin/mosquitto'] },
  { bin: 'mosquitto_sub', pkg: 'mosquitto-clients' },
  { bin: 'chromium', pkg: 'chromium' },
  { bin: 'shellcheck', pkg: 'shellcheck' },
  // The add-on's engine build script (addon/build/build-engines.sh) reads addon/versions.json with it.
  { bin: 'jq', pkg: 'jq' },
  // Builds the Debian chroots the acceptance tests run Home Assistant in (scripts/setup-ha.mjs).
  ...(skipHa ? [] : [{ bin: 'debootstrap', pkg: 'debootstrap', extraPaths: ['/usr/sbin/debootstrap'] }]),
];

function debian() {
  const missing = [
    ...new Set(
      debianPackages.filter((p) => !has(p.bin) && !(p.extraPaths ?? []).some((x) => existsSync(x))).map((p) => p.pkg),
    ),
  ];
  if (missing.length === 0) return;
  if (!has('apt-get')) fail(`missing ${missing.join(', ')} and no apt-get to install them: install them yourself`);
  const sudo = process.getuid?.() === 0 ? [] : ['sudo'];
  if (sudo.length && !has('sudo')) fail(`missing ${missing.join(', ')}: run as root or install sudo`);
  log(`installing Debian packages: ${missing.join(', ')}…`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const [cmd, ...pre] = sudo.length ? sudo : ['apt-get'];
  const apt = sudo.length ? ['apt-get'] : [];
  run(cmd, [...pre, ...apt, 'update', '-qq'], { env });
  run(cmd, [...pre, ...apt, 'install', '-y', '-qq', '--no-install-recommends', ...missing], { env });
  actions.push(`debian: ${missing.join(', ')}`);
}

// 3. Go engines ---------------------------------------------------------------------------------
function goEnv() {
  if (!has('go'))
    fail('Go is needed to build go2rtc and MediaMTX (Go >= 1.26): install it from go.dev or your distribution');
  const v = run('go', ['env', 'GOVERSION'], { capture: true }).trim();
  const m = /^go(\d+)\.(\d+)/.exec(v);
  const [wantMaj, wantMin] = String(versions.mediamtxGo).split('.').map(Number);
  if (!m || Number(m[1]) < wantMaj || (Number(m[1]) === wantMaj && Number(m[2]) < wantMin)) {
    fail(`MediaMTX ${versions.mediamtx} needs Go >= ${versions.mediamtxGo}, found ${v}`);
  }
  return { ...process.env, GOTOOLCHAIN: 'local', CGO_ENABLED: '0', GOFLAGS: '-buildvcs=false' };
}

function moduleDir(env, mod) {
  const out = run('go', ['mod', 'download', '-json', mod], { capture: true, env, cwd: tmpdir() });
  const info = JSON.parse(out);
  if (!info.Dir) fail(`go mod download ${mod} gave no directory: ${out}`);
  return info.Dir;
}

function buildEngine(name, version, prepare) {
  const dir = join(cacheDir, 'engines', `${name}-${version}`);
  const bin = join(dir, name);
  if (existsSync(bin)) return bin;
  const env = goEnv();
  const mod = name === 'go2rtc' ? 'github.com/AlexxIT/go2rtc' : 'github.com/bluenviron/mediamtx';
  log(`building ${name} ${version} from the Go module proxy…`);
  const src = moduleDir(env, `${mod}@v${version}`);
  const work = mkdtempSync(join(tmpdir(), `camstack-${name}-`));
  try {
    cpSync(src, work, { recursive: true });
    chmodRecursive(work);
    prepare?.(work);
    mkdirSync(dir, { recursive: true });
    const tmpBin = `${bin}.partial`;
    run('go', ['build', '-trimpath', '-ldflags', '-s -w', '-o', tmpBin, '.'], { cwd: work, env });
    renameSync(tmpBin, bin);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  actions.push(`${name} ${version}`);
  return bin;
}

function chmodRecursive(dir) {
  // The module cache is read-only; the copy must be writable to add generated files.
  run('chmod', ['-R', 'u+w', dir]);
}

function prepareMediamtx(work) {
  writeFileSync(join(work, 'internal/core/VERSION'), `v${versions.mediamtx}`);
  const pinned = readFileSync(join(work, 'internal/servers/hls/hlsjsdownloader/VERSION'), 'utf8').trim();
  if (pinned !== `v${versions.hlsjs}`) {
    fail(`MediaMTX ${versions.mediamtx} embeds hls.js ${pinned} but addon/versions.json pins ${versions.hlsjs}`);
  }
  const packDir = mkdtempSync(join(tmpdir(), 'camstack-hlsjs-'));
  try {
    const file = run('npm', ['pack', `hls.js@${versions.hlsjs}`, '--silent', '--pack-destination', packDir], {
      capture: true,
      cwd: packDir,
    })
      .trim()
      .split('\n')
      .pop();
    run('tar', ['xzf', join(packDir, file), '-C', packDir, 'package/dist/hls.min.js']);
    cpSync(join(packDir, 'package/dist/hls.min.js'), join(work, 'internal/servers/hls/hls.min.js'));
  } finally {
    rmSync(packDir, { recursive: true, force: true });
  }
}

function engines() {
  const go2rtc = buildEngine('go2rtc', versions.go2rtc);
  const mediamtx = buildEngine('mediamtx', versions.mediamtx, prepareMediamtx);
  // A stable place for the server and tests to find the pinned binaries.
  const binDir = join(cacheDir, 'bin');
  mkdirSync(binDir, { recursive: true });
  const manifest = { go2rtc, mediamtx, go2rtcVersion: versions.go2rtc, mediamtxVersion: versions.mediamtx };
  const manifestPath = join(binDir, 'engines.json');
  const text = `${JSON.stringify(manifest, null, 2)}\n`;
  if (!existsSync(manifestPath) || readFileSync(manifestPath, 'utf8') !== text) writeFileSync(manifestPath, text);
  return manifest;
}

// 4. The ONVIF device mock: see scripts/onvif-mock.mjs.
function onvifMock() {
  const t0 = Date.now();
  const res = buildOnvifMock({ root, cacheDir, log, fail });
  if (res.status === 'built') actions.push(`ONVIF mock (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  if (res.status === 'no-cargo') {
    process.stderr.write(
      '[setup] WARNING: cargo (Rust) is missing: the ONVIF tests cannot run until it is installed and `npm run setup` runs again\n',
    );
    missing.push('the ONVIF test mock (no cargo)');
  }
}

// 5. Home Assistant Core for the acceptance tests: see scripts/setup-ha.mjs.

npmDeps();
debian();
const enginesManifest = engines();
onvifMock();
if (!skipHa) {
  const t0 = Date.now();
  const done = installHomeAssistants({ go2rtc: enginesManifest.go2rtc, log, fail, run, root });
  if (done.length) actions.push(`${done.join(', ')} (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
}
const secs = ((Date.now() - started) / 1000).toFixed(1);
if (actions.length) log(`installed: ${actions.join('; ')} (${secs} s)`);
else if (missing.length === 0) log(`everything already installed (${secs} s)`);
if (missing.length) log(`not installed: ${missing.join('; ')}`);
