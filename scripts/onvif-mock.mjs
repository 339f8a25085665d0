// The ONVIF device mock the tests run (test/onvif-mock: a small Rust runner around the crates.io
// `oxvif` mock server). Built with cargo in release mode into the project cache, once per change of
// its sources: the build directory is named by a hash of Cargo.toml, Cargo.lock and src/main.rs.
// CARGO_HOME and the target directory are in the cache too, so a fresh clone needs only cargo.
// Plain Node (no dependencies): scripts/setup.mjs runs it before node_modules exist.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';

const SOURCES = ['Cargo.toml', 'Cargo.lock', 'src/main.rs'];
const NAME = 'camstack-onvif-mock';

/** Where the mock's sources are and where its binary for those exact sources is (built or not). */
export function onvifMockPaths(root, cacheDir = join(root, '.cache')) {
  const src = join(root, 'test', 'onvif-mock');
  const hash = createHash('sha256');
  for (const f of SOURCES)
    hash
      .update(`${f}\0`)
      .update(readFileSync(join(src, f)))
      .update('\0');
  const key = hash.digest('hex').slice(0, 16);
  return {
    src,
    key,
    bin: join(cacheDir, 'onvif-mock', key, NAME),
    cargoHome: join(cacheDir, 'cargo'),
    targetDir: join(cacheDir, 'onvif-mock', 'target'),
  };
}

/**
 * Builds the mock unless the binary for these sources is there. Returns 'cached', 'built' or
 * 'no-cargo' (then the ONVIF tests fail, saying to install Rust and run `npm run setup`).
 */
export function buildOnvifMock({ root, cacheDir, log, fail }) {
  const p = onvifMockPaths(root, cacheDir);
  if (existsSync(p.bin)) return { status: 'cached', bin: p.bin };
  if (spawnSync('cargo', ['--version'], { stdio: 'ignore' }).status !== 0) return { status: 'no-cargo', bin: p.bin };
  log('building the ONVIF test mock (oxvif, cargo --release; the first build takes a few minutes)…');
  const env = { ...process.env, CARGO_HOME: p.cargoHome, CARGO_TARGET_DIR: p.targetDir };
  const res = spawnSync(
    'cargo',
    ['build', '--release', '--locked', '--quiet', '--manifest-path', join(p.src, 'Cargo.toml')],
    { stdio: 'inherit', env },
  );
  if (res.error || res.status !== 0)
    fail(`cargo build of test/onvif-mock failed (${res.error?.message ?? `exit ${res.status}`})`);
  mkdirSync(join(p.bin, '..'), { recursive: true });
  copyFileSync(join(p.targetDir, 'release', NAME), `${p.bin}.partial`);
  renameSync(`${p.bin}.partial`, p.bin);
  return { status: 'built', bin: p.bin };
}
