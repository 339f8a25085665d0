// The Home Assistant Core versions the acceptance tests run against, installed idempotently by
// `npm run setup` (scripts/setup.mjs calls installHomeAssistants).
//
// Current HA needs a newer Python than the host's (3.13 up to 2026.2, 3.14 from 2026.3), so each
// version lives in a venv inside a minimal Debian chroot built with debootstrap from the Debian
// mirror (trixie → Python 3.13; testing, through debootstrap's `sid` script → Python 3.14).
//
// Where: a machine-level cache outside the repository (CAMSTACK_HA_CACHE, default
// /var/cache/camstack/ha): CI clones into a temp dir it deletes afterwards; a machine cache keeps
// the chroots (about 3.3 GB for trixie with two versions, 2.3 GB for testing) between runs.
//
// Safety: nothing is ever mounted into a chroot from outside a private mount namespace. debootstrap
// and every command in a chroot run under `unshare --mount --propagation private` (plus a private
// /proc), so their mounts vanish with the process: no host /dev is bound, a crashed run leaves no
// mount behind, and deleting a chroot can never reach the host's device nodes. Device nodes are
// created inside the chroot (debootstrap does it; ensureDevices checks).
//
// Bump a version: change one line in scripts/ha-versions.json (and addon/config.yaml's
// `homeassistant:` for the oldest). Requirements of the integrations the tests load, and of those
// every start loads, are read from the installed HA itself (manifest.json + bootstrap's lists) and
// installed under HA's own package_constraints.txt, so HA (run with --skip-pip) never installs
// anything at test time.
//
// HA's own go2rtc: a venv install starts it only in a container, so each chroot holds
// /.dockerenv and our pinned go2rtc on PATH, as the Home Assistant image does.
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';

/** The matrix (scripts/ha-versions.json; the test helper reads the same file). */
export const HA_VERSIONS = JSON.parse(readFileSync(new URL('./ha-versions.json', import.meta.url), 'utf8')).versions;

const SUITES = {
  // suite → debootstrap script (bookworm's debootstrap has no script for testing's codename)
  trixie: 'trixie',
  testing: 'sid',
};

const MIRROR = process.env.CAMSTACK_DEBIAN_MIRROR ?? 'http://deb.debian.org/debian';
const PACKAGES = [
  'python3',
  'python3-venv',
  'python3-dev',
  'gcc',
  'g++',
  'libc6-dev',
  'ca-certificates',
  'libturbojpeg0',
  'procps',
  // HA's ffmpeg integration (a dependency of generic and stream) checks for the binary.
  'ffmpeg',
];

/** Integrations the acceptance tests configure (their requirements and dependencies get installed). */
const TEST_INTEGRATIONS = [
  'api',
  'camera',
  'config',
  'generic',
  'go2rtc',
  'hassio', // not loaded, but the MQTT config flow and analytics import it
  'http',
  'input_boolean',
  'logger',
  'mqtt',
  'onboarding',
  'recorder', // analytics (onboarding) imports the recorder's models
  'stream',
  'websocket_api',
];

export function haCacheDir() {
  return process.env.CAMSTACK_HA_CACHE ?? '/var/cache/camstack/ha';
}

/** Where a version is: its chroot, and the venv inside it (as seen from inside). */
export function haInstall(version) {
  const entry = HA_VERSIONS.find((v) => v.version === version);
  if (!entry) throw new Error(`Home Assistant ${version} is not in the matrix`);
  return { ...entry, rootfs: join(haCacheDir(), entry.suite), venv: `/opt/ha/${version}` };
}

/**
 * The command that runs argv inside a chroot, in a private mount and PID namespace (its /proc and
 * anything it mounts vanish with it; --kill-child: nothing outlives a killed unshare).
 */
export function chrootCommand(rootfs, argv) {
  return [
    'unshare',
    [
      '--mount',
      '--propagation',
      'private',
      '--pid',
      '--fork',
      '--kill-child',
      `--mount-proc=${join(rootfs, 'proc')}`,
      'chroot',
      rootfs,
      ...argv,
    ],
  ];
}

function mountsUnder(dir) {
  const text = readFileSync('/proc/self/mountinfo', 'utf8');
  return text
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m) => m && (m === dir || m.startsWith(`${dir}/`)));
}

/** rm -rf, but never through a mount point (a bound /dev would take the host's device nodes). */
function safeRemove(dir, fail) {
  if (!existsSync(dir)) return;
  const mounts = mountsUnder(dir);
  if (mounts.length) fail(`refusing to delete ${dir}: something is mounted under it (${mounts.join(', ')})`);
  rmSync(dir, { recursive: true, force: true });
}

function ensureDevices(rootfs, run) {
  const dev = join(rootfs, 'dev');
  mkdirSync(join(dev, 'shm'), { recursive: true });
  mkdirSync(join(dev, 'pts'), { recursive: true });
  const nodes = [
    ['null', 1, 3],
    ['zero', 1, 5],
    ['full', 1, 7],
    ['random', 1, 8],
    ['urandom', 1, 9],
    ['tty', 5, 0],
  ];
  for (const [name, major, minor] of nodes) {
    const p = join(dev, name);
    let ok = false;
    try {
      ok = statSync(p).isCharacterDevice();
    } catch {
      ok = false;
    }
    if (ok) continue;
    rmSync(p, { force: true });
    run('mknod', ['-m', '666', p, 'c', String(major), String(minor)]);
  }
}

/** The host's own extra CA certificates (a TLS-inspecting proxy's), so HTTPS works inside. */
function copyHostCertificates(rootfs, runIn) {
  const src = '/usr/local/share/ca-certificates';
  if (!existsSync(src)) return;
  const dst = join(rootfs, 'usr/local/share/ca-certificates');
  mkdirSync(dst, { recursive: true });
  let changed = false;
  for (const name of readdirSync(src)) {
    if (!name.endsWith('.crt')) continue;
    const from = join(src, name);
    const to = join(dst, name);
    if (existsSync(to) && readFileSync(to).equals(readFileSync(from))) continue;
    copyFileSync(from, to);
    changed = true;
  }
  if (changed) runIn(['update-ca-certificates']);
}

function buildRootfs(suite, ctx) {
  const { log, fail, run } = ctx;
  const cache = haCacheDir();
  const rootfs = join(cache, suite);
  const stamp = `${rootfs}.camstack`;
  const want = JSON.stringify({ suite, PACKAGES, MIRROR });
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === want && existsSync(join(rootfs, 'usr/bin/python3'))) {
    return rootfs;
  }
  const t0 = Date.now();
  log(`building a Debian ${suite} chroot in ${rootfs} (about a minute)…`);
  mkdirSync(cache, { recursive: true });
  const partial = `${rootfs}.partial`;
  safeRemove(partial, fail);
  safeRemove(rootfs, fail);
  run('unshare', [
    '--mount',
    '--propagation',
    'private',
    'debootstrap',
    '--variant=minbase',
    `--include=${PACKAGES.join(',')}`,
    suite,
    partial,
    MIRROR,
    `/usr/share/debootstrap/scripts/${SUITES[suite]}`,
  ]);
  ensureDevices(partial, run);
  renameSync(partial, rootfs);
  writeFileSync(stamp, want);
  log(`Debian ${suite} chroot ready (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  return rootfs;
}

// Run inside the chroot by the venv's Python: the requirements of the integrations the tests use,
// of their dependencies, and of what bootstrap loads on every start, read from HA itself.
const REQUIREMENTS_SCRIPT = `
import json, os, sys
import homeassistant, homeassistant.bootstrap as b
base = os.path.join(os.path.dirname(homeassistant.__file__), "components")
want = set(sys.argv[1:])
for name in ("CORE_INTEGRATIONS", "LOGGING_AND_HTTP_DEPS_INTEGRATIONS", "FRONTEND_INTEGRATIONS", "DEFAULT_INTEGRATIONS"):
    want |= set(getattr(b, name, set()))
seen, reqs, todo = set(), [], sorted(want)
while todo:
    d = todo.pop()
    if d in seen:
        continue
    seen.add(d)
    path = os.path.join(base, d, "manifest.json")
    if not os.path.exists(path):
        continue
    m = json.load(open(path))
    reqs += m.get("requirements", [])
    todo += m.get("dependencies", [])
print("\\n".join(sorted(set(reqs))))
`;

function installVersion(entry, rootfs, ctx) {
  const { log, run } = ctx;
  const venv = `/opt/ha/${entry.version}`;
  const hostVenv = join(rootfs, venv);
  const stamp = join(hostVenv, '.camstack-ha');
  const pins = entry.pins;
  const want = JSON.stringify({ version: entry.version, pins, TEST_INTEGRATIONS, REQUIREMENTS_SCRIPT });
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === want && existsSync(join(hostVenv, 'bin/hass'))) return false;
  const t0 = Date.now();
  log(`installing Home Assistant ${entry.version} (${entry.role}) into ${hostVenv}…`);
  // The host's PIP_FIND_LINKS and the like name host paths, which mean nothing inside the chroot.
  const hostEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PIP_')));
  const env = {
    ...hostEnv,
    PIP_DISABLE_PIP_VERSION_CHECK: '1',
    PIP_NO_INPUT: '1',
    PIP_ROOT_USER_ACTION: 'ignore',
    // The chroot's store, which holds the host's extra CAs too.
    SSL_CERT_FILE: '/etc/ssl/certs/ca-certificates.crt',
    PIP_CERT: '/etc/ssl/certs/ca-certificates.crt',
    HOME: '/root',
  };
  const runIn = (argv, opts = {}) => {
    const [cmd, args] = chrootCommand(rootfs, argv);
    return run(cmd, args, { env, ...opts });
  };
  if (!existsSync(join(hostVenv, 'bin/pip'))) runIn(['python3', '-m', 'venv', venv]);
  const pip = `${venv}/bin/pip`;
  runIn([pip, 'install', '-q', '--no-deps', `homeassistant==${entry.version}`]);
  const constraints = runIn(
    [
      `${venv}/bin/python`,
      '-c',
      // Located without importing it: HA's __init__ may import dependencies not installed yet.
      'import importlib.util, os; print(os.path.join(importlib.util.find_spec("homeassistant").submodule_search_locations[0], "package_constraints.txt"))',
    ],
    { capture: true },
  ).trim();
  const pinsFile = `${venv}/camstack-pins.txt`;
  writeFileSync(join(rootfs, pinsFile), pins.map((p) => `${p}\n`).join(''));
  const cons = ['-c', constraints, '-c', pinsFile];
  runIn([pip, 'install', '-q', ...cons, `homeassistant==${entry.version}`]);
  const reqs = runIn([`${venv}/bin/python`, '-c', REQUIREMENTS_SCRIPT, ...TEST_INTEGRATIONS], { capture: true })
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  runIn([pip, 'install', '-q', ...cons, `homeassistant==${entry.version}`, ...reqs]);
  writeFileSync(stamp, want);
  log(`Home Assistant ${entry.version} installed (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  return true;
}

/** Installs every version of the matrix; returns what it had to install. */
export function installHomeAssistants(ctx) {
  const { fail, run } = ctx;
  if (process.getuid?.() !== 0) {
    fail(
      'the Home Assistant versions for the acceptance tests run in Debian chroots, which needs root. ' +
        'Run setup as root, or set CAMSTACK_SKIP_HA=1 to skip the acceptance tests.',
    );
  }
  const done = [];
  const only = process.env.CAMSTACK_HA_VERSIONS?.split(',').filter(Boolean);
  for (const entry of HA_VERSIONS) {
    if (only && !only.includes(entry.version)) continue;
    const rootfs = buildRootfs(entry.suite, ctx);
    const runIn = (argv) => {
      const [cmd, args] = chrootCommand(rootfs, argv);
      run(cmd, args);
    };
    copyHostCertificates(rootfs, runIn);
    // HA's own go2rtc: a venv install starts it only in a container (/.dockerenv), with the binary
    // on PATH, as in the Home Assistant image. Our pinned go2rtc, copied in (a static binary).
    const go2rtc = join(rootfs, 'usr/local/bin/go2rtc');
    if (!existsSync(go2rtc) || !readFileSync(go2rtc).equals(readFileSync(ctx.go2rtc))) {
      copyFileSync(ctx.go2rtc, go2rtc);
      run('chmod', ['755', go2rtc]);
    }
    if (!existsSync(join(rootfs, '.dockerenv'))) writeFileSync(join(rootfs, '.dockerenv'), '');
    if (installVersion(entry, rootfs, ctx)) done.push(`Home Assistant ${entry.version}`);
  }
  return done;
}
