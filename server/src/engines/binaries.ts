import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface EngineBinaries {
  go2rtc: string;
  mediamtx: string;
  ffmpeg: string;
  ffprobe: string;
}

const SETUP_HINT = 'run `npm run setup` (installs the pinned engines and FFmpeg)';

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name: string, pathEnv: string | undefined): string | null {
  for (const dir of (pathEnv ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return null;
}

/**
 * The manifest `npm run setup` writes into its cache folder (CAMSTACK_CACHE_DIR, else `.cache` in
 * the checkout): absolute paths of the pinned go2rtc and MediaMTX builds.
 */
function setupManifest(cacheDir: string | null | undefined): Partial<Record<'go2rtc' | 'mediamtx', string>> {
  const path = cacheDir
    ? join(cacheDir, 'bin', 'engines.json')
    : fileURLToPath(new URL('../../../.cache/bin/engines.json', import.meta.url));
  if (!existsSync(path)) return {};
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Partial<Record<'go2rtc' | 'mediamtx', string>>;
  } catch {
    return {};
  }
}

/**
 * Finds the engine binaries: the configured path first (CAMSTACK_<NAME>_BIN, which the add-on
 * image sets; main.ts hands them in), then the pinned builds from `npm run setup`, then PATH. A
 * missing binary is an error that names the setup command, never a silent skip.
 */
export function resolveBinaries(
  configured: Partial<Record<keyof EngineBinaries, string | null>> = {},
  pathEnv: string | undefined = process.env.PATH,
  cacheDir: string | null | undefined = process.env.CAMSTACK_CACHE_DIR,
): EngineBinaries {
  const manifest = setupManifest(cacheDir);
  const find = (name: keyof EngineBinaries): string => {
    const path = configured[name];
    if (path) {
      if (!isExecutable(path)) throw new Error(`CAMSTACK_${name.toUpperCase()}_BIN=${path} is not executable`);
      return path;
    }
    const pinned = name === 'go2rtc' || name === 'mediamtx' ? manifest[name] : undefined;
    if (pinned && isExecutable(pinned)) return pinned;
    const found = onPath(name, pathEnv);
    if (found) return found;
    throw new Error(`${name} not found: ${SETUP_HINT}`);
  };
  return { go2rtc: find('go2rtc'), mediamtx: find('mediamtx'), ffmpeg: find('ffmpeg'), ffprobe: find('ffprobe') };
}
