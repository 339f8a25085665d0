/**
 * Serves the built panel (`server/public/`, written by `npm run build:panel`) at `/`:
 *
 * - hashed files under `assets/` are immutable (`Cache-Control: public, max-age=31536000,
 *   immutable`); everything else, index.html first, is `no-cache` (revalidated with its ETag);
 * - every GET that is not under `/api/` and does not name a file (a client route such as
 *   `/recordings`) gets index.html, so a reload or a deep link works;
 * - index.html gets a `<base href>` pointing at the panel's root: behind Home Assistant ingress
 *   that is the `X-Ingress-Path` prefix (`/api/hassio_ingress/<token>/`), else `/`. The panel
 *   itself only uses relative URLs (`api/cameras`, `assets/…`), which resolve against it;
 * - text files are gzip- and Brotli-compressed once, in memory, and negotiated per request.
 *
 * Files are read when first needed and again whenever index.html changes on disk (a rebuild while
 * the server runs). Without a build, `/` answers 503 naming the command. Register LAST: specific
 * routes win over the wildcard anyway, but the panel must not shadow anything added later.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, gzipSync, constants as zlibConstants } from 'node:zlib';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { CamstackApp } from './app.js';
import { ingressPrefix } from './ingress.js';

export const DEFAULT_PUBLIC_DIR = fileURLToPath(new URL('../../public', import.meta.url));

export const IMMUTABLE = 'public, max-age=31536000, immutable';
export const REVALIDATE = 'no-cache';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};
const COMPRESSIBLE = new Set(['.html', '.js', '.mjs', '.css', '.json', '.webmanifest', '.svg', '.txt', '.map']);
/** Smaller files are sent as they are: compression would not pay for its headers. */
const MIN_COMPRESS_BYTES = 512;

export interface StaticFile {
  body: Buffer;
  gzip: Buffer | null;
  br: Buffer | null;
  type: string;
  etag: string;
  cacheControl: string;
}

export interface StaticOptions {
  /** Folder holding index.html and assets/ (default: server/public). */
  dir?: string;
}

function etagOf(body: Buffer): string {
  return `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
}

export function fileEntry(name: string, body: Buffer): StaticFile {
  const ext = extname(name).toLowerCase();
  const compress = COMPRESSIBLE.has(ext) && body.length >= MIN_COMPRESS_BYTES;
  return {
    body,
    gzip: compress ? gzipSync(body, { level: 9 }) : null,
    br: compress
      ? brotliCompressSync(body, {
          params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 9, [zlibConstants.BROTLI_PARAM_SIZE_HINT]: body.length },
        })
      : null,
    type: TYPES[ext] ?? 'application/octet-stream',
    etag: etagOf(body),
    cacheControl: name.startsWith('assets/') ? IMMUTABLE : REVALIDATE,
  };
}

/** Pure: index.html with a `<base href>` for the panel's root (replacing one already there). */
export function withBase(html: string, baseHref: string): string {
  const tag = `<base href="${baseHref.replace(/[&"<>]/g, '')}">`;
  const without = html.replace(/<base\s[^>]*>\s*/i, '');
  const head = /<head[^>]*>/i.exec(without);
  if (!head) return `${tag}${without}`;
  const at = head.index + head[0].length;
  return `${without.slice(0, at)}\n    ${tag}${without.slice(at)}`;
}

/** Pure: the encoding to send, from Accept-Encoding (br, then gzip; `q=0` refuses). */
export function pickEncoding(header: string | string[] | undefined): 'br' | 'gzip' | null {
  const text = Array.isArray(header) ? header.join(',') : (header ?? '');
  const accepted = new Set<string>();
  for (const part of text.split(',')) {
    const [name = '', ...params] = part.trim().toLowerCase().split(';');
    const q = params.map((p) => /^\s*q=([0-9.]+)\s*$/.exec(p)?.[1]).find((v) => v !== undefined);
    if (name && (q === undefined || Number(q) > 0)) accepted.add(name);
  }
  if (accepted.has('br')) return 'br';
  if (accepted.has('gzip') || accepted.has('*')) return 'gzip';
  return null;
}

function etagMatches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(',').some((t) => {
    const v = t.trim().replace(/^W\//, '');
    return v === etag || v === '*';
  });
}

async function walk(dir: string, base = dir): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await walk(full, base)));
    else if (entry.isFile()) out.push(relative(base, full).split(sep).join('/'));
  }
  return out;
}

/** The built panel, loaded into memory; reloaded when index.html changes. */
class PanelFiles {
  readonly #dir: string;
  #files = new Map<string, StaticFile>();
  #indexHtml = '';
  #indexStamp = '';
  #loading: Promise<void> | null = null;
  /** index.html per base href (ingress prefixes differ per installation, rarely per request). */
  #indexByBase = new Map<string, StaticFile>();

  constructor(dir: string) {
    this.#dir = dir;
  }

  /** Reads the build when it is new or changed; false when there is none. */
  async ensure(): Promise<boolean> {
    const st = await stat(join(this.#dir, 'index.html')).catch(() => null);
    if (!st) {
      this.#files.clear();
      this.#indexStamp = '';
      return false;
    }
    const stamp = `${st.mtimeMs}:${st.size}`;
    if (stamp === this.#indexStamp) return true;
    this.#loading ??= this.#load(stamp).finally(() => {
      this.#loading = null;
    });
    await this.#loading;
    return this.#indexStamp !== '';
  }

  async #load(stamp: string): Promise<void> {
    const files = new Map<string, StaticFile>();
    let indexHtml = '';
    for (const name of await walk(this.#dir)) {
      const body = await readFile(join(this.#dir, name));
      if (name === 'index.html') indexHtml = body.toString('utf8');
      else files.set(name, fileEntry(name, body));
    }
    this.#files = files;
    this.#indexHtml = indexHtml;
    this.#indexByBase.clear();
    this.#indexStamp = stamp;
  }

  get(name: string): StaticFile | undefined {
    return this.#files.get(name);
  }

  index(baseHref: string): StaticFile {
    let entry = this.#indexByBase.get(baseHref);
    if (!entry) {
      entry = fileEntry('index.html', Buffer.from(withBase(this.#indexHtml, baseHref), 'utf8'));
      if (this.#indexByBase.size > 16) this.#indexByBase.clear();
      this.#indexByBase.set(baseHref, entry);
    }
    return entry;
  }
}

function send(request: FastifyRequest, reply: FastifyReply, file: StaticFile): FastifyReply {
  reply
    .header('content-type', file.type)
    .header('cache-control', file.cacheControl)
    .header('etag', file.etag)
    .header('vary', 'Accept-Encoding');
  if (etagMatches(request.headers['if-none-match'], file.etag)) return reply.code(304).send();
  const encoding = file.gzip ? pickEncoding(request.headers['accept-encoding']) : null;
  const body = encoding === 'br' ? file.br : encoding === 'gzip' ? file.gzip : file.body;
  if (encoding && body) reply.header('content-encoding', encoding);
  return reply.code(200).send(body ?? file.body);
}

function notFound(reply: FastifyReply): FastifyReply {
  reply.callNotFound();
  return reply;
}

const NOT_BUILT =
  '<!doctype html><meta charset="utf-8"><title>Camstack</title><h1>Camstack</h1>' +
  '<p>The panel is not built. Run <code>npm run build:panel</code> (or <code>npm test</code>), then reload.</p>' +
  '<p>The API is at <a href="api/openapi.json">api/openapi.json</a>.</p>';

export async function staticRoutes(app: CamstackApp, options: StaticOptions = {}): Promise<void> {
  const files = new PanelFiles(options.dir ?? DEFAULT_PUBLIC_DIR);

  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    let path: string;
    try {
      path = decodeURIComponent(request.url.split('?')[0] ?? '/');
    } catch {
      return notFound(reply);
    }
    // The API keeps its own 404 (JSON, the one error shape).
    if (path === '/api' || path.startsWith('/api/')) return notFound(reply);
    if (!(await files.ensure())) {
      return reply.code(503).header('cache-control', 'no-store').type('text/html; charset=utf-8').send(NOT_BUILT);
    }
    const name = path.replace(/^\/+/, '');
    // No dot files and no way up: only what the build wrote is served.
    if (name.split('/').some((part) => part.startsWith('.'))) return notFound(reply);
    const file = name === '' || name === 'index.html' ? undefined : files.get(name);
    if (file) return send(request, reply, file);
    // A name with an extension that is not in the build is a missing file, not a client route.
    if (name !== 'index.html' && extname(name) !== '') return notFound(reply);
    return send(request, reply, files.index(`${ingressPrefix(request.headers['x-ingress-path'])}/`));
  };

  app.get('/', { schema: { hide: true } }, handler);
  app.get('/*', { schema: { hide: true } }, handler);
}
