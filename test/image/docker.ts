/**
 * Docker for the image test: the client, the build context of addon/Dockerfile and the build.
 *
 * - The client: $CAMSTACK_DOCKER, else Debian's /usr/bin/docker (docker.io: its 20.10 client runs
 *   BuildKit builds without the buildx plugin), else `docker` on PATH.
 * - The build context: the files addon/Dockerfile.dockerignore lets in, computed here and sent as
 *   a tar stream (the 20.10 client does not read a Dockerfile-specific ignore file; buildx in the
 *   published build does, so both builds see the same files).
 * - The build: BuildKit, as the published build runs it (the platform arguments TARGETARCH and
 *   BUILDARCH are BuildKit's own), plus BUILD_FROM / BUILDER_IMAGE naming the local images of
 *   scripts/image/local-bases.sh.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const root = fileURLToPath(new URL('../..', import.meta.url));

export const DOCKER = process.env.CAMSTACK_DOCKER ?? (existsSync('/usr/bin/docker') ? '/usr/bin/docker' : 'docker');

const t0 = Date.now();
export function log(msg: string): void {
  process.stdout.write(`[image ${((Date.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${msg}\n`);
}

export interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function docker(args: readonly string[], opts: { timeoutMs?: number } = {}): Result {
  const res = spawnSync(DOCKER, args, {
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 120_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  return { status: res.status, stdout: res.stdout ?? '', stderr: res.stderr ?? String(res.error ?? '') };
}

export function dockerOk(args: readonly string[], opts: { timeoutMs?: number } = {}): string {
  const res = docker(args, opts);
  if (res.status !== 0) {
    throw new Error(`docker ${args.slice(0, 3).join(' ')}… exited with ${res.status}: ${res.stderr.trim()}`);
  }
  return res.stdout.trim();
}

/**
 * A .dockerignore pattern as a regular expression, as Docker reads it: `**` any number of folders,
 * `*` and `?` within one name, dot files included (unlike shell globs).
 */
export function globRe(pattern: string): RegExp {
  let re = '';
  const p = pattern.replace(/^\/+/, '');
  for (let i = 0; i < p.length; i++) {
    const c = p[i] ?? '';
    if (c === '*' && p[i + 1] === '*') {
      // `**/` matches zero or more folders; a final `**` anything.
      if (p[i + 2] === '/') {
        re += '(?:.*/)?';
        i += 2;
      } else {
        re += '.*';
        i += 1;
      }
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/**
 * The files of the build context: every file git knows (tracked, or untracked and not ignored),
 * filtered by addon/Dockerfile.dockerignore the way Docker reads it (patterns in order, the last
 * one that matches the file or one of its parent folders decides; `!` lets in).
 */
export function contextFiles(): string[] {
  const rules = readFileSync(join(root, 'addon/Dockerfile.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => (l.startsWith('!') ? { keep: true, re: globRe(l.slice(1)) } : { keep: false, re: globRe(l) }));
  const git = spawnSync('git', ['ls-files', '-co', '--exclude-standard', '-z'], { cwd: root, encoding: 'utf8' });
  if (git.status !== 0) throw new Error(`git ls-files failed: ${git.stderr}`);
  const files = git.stdout.split('\0').filter((f) => f !== '' && existsSync(join(root, f)));
  return files.filter((file) => {
    const parts = file.split('/');
    const candidates = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
    let included = true;
    for (const rule of rules) {
      if (candidates.some((c) => rule.re.test(c))) included = rule.keep;
    }
    return included;
  });
}

/** The add-on version (config.yaml), which the published build passes as BUILD_VERSION. */
export async function addonVersion(): Promise<string> {
  return String((parse(await readFile(join(root, 'addon/config.yaml'), 'utf8')) as { version: string }).version);
}

/** The local stand-in for golang:<version>-bookworm (scripts/image/local-bases.sh names it). */
export function builderImage(): string {
  const v = spawnSync('go', ['env', 'GOVERSION'], { encoding: 'utf8' }).stdout.trim().replace(/^go/, '');
  if (!v) throw new Error('go is needed to name the builder image (scripts/image/local-bases.sh)');
  return `camstack-test/builder:${v}`;
}

/**
 * Builds addon/Dockerfile for `arch` on the local bookworm base; the build's output goes to
 * `logFile`. Resolves with the build time in seconds; rejects with the log's tail.
 */
export async function buildImage(arch: 'amd64' | 'arm64', tag: string, logFile: string): Promise<number> {
  const started = Date.now();
  const files = contextFiles();
  if (!files.includes('addon/Dockerfile')) files.push('addon/Dockerfile');
  const args = [
    'build',
    '--progress=plain',
    '--platform',
    `linux/${arch}`,
    '-f',
    'addon/Dockerfile',
    '--build-arg',
    `BUILD_FROM=camstack-test/bookworm:${arch}`,
    '--build-arg',
    `BUILDER_IMAGE=${builderImage()}`,
    '--build-arg',
    `BUILD_VERSION=${await addonVersion()}`,
    '-t',
    tag,
    '-',
  ];
  const out = createWriteStream(logFile);
  await new Promise<void>((resolve, reject) => {
    const tar = spawn('tar', ['-c', '-f', '-', '--null', '-T', '-'], { cwd: root, stdio: ['pipe', 'pipe', 'inherit'] });
    const build = spawn(DOCKER, args, {
      cwd: root,
      env: { ...process.env, DOCKER_BUILDKIT: '1' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    tar.stdout.pipe(build.stdin);
    tar.stdin.end(files.map((f) => `${f}\0`).join(''));
    build.stdout.pipe(out, { end: false });
    build.stderr.pipe(out, { end: false });
    build.once('error', reject);
    build.once('exit', (code) => {
      out.end(() => {
        if (code === 0) resolve();
        else {
          const tail = readFileSync(logFile, 'utf8').split('\n').slice(-40).join('\n');
          reject(new Error(`docker build for ${arch} exited with ${code} (log: ${logFile}):\n${tail}`));
        }
      });
    });
  });
  return (Date.now() - started) / 1000;
}

/** Size of an image in MB (what `docker images` shows). */
export function imageSizeMb(tag: string): number {
  return Number(dockerOk(['image', 'inspect', '-f', '{{.Size}}', tag])) / 1e6;
}
