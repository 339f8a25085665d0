/**
 * Secret redaction for everything Camstack writes: logs, process output tails, error messages.
 * Pure functions, no I/O.
 */

/** What every secret is replaced with. */
export const REDACTED = '***';

/**
 * `scheme://userinfo@` — the userinfo part stops at whitespace, quotes and the characters that end an
 * authority (`/ ? #`). It is greedy up to the last `@` before those, so an unencoded `@` inside a
 * password (`rtsp://admin:p@ss@cam/`) is still fully masked.
 */
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#"'<>`\\]*@/gi;

/** Query/form parameters whose value is a credential. `user=` is masked too: camera URLs pair it with a password. */
const CREDENTIAL_PARAMS = ['user', 'username', 'usr', 'password', 'pass', 'passwd', 'pwd'].join('|');
const QUERY_CREDENTIAL = new RegExp(`(^|[?&;\\s"'{,])(${CREDENTIAL_PARAMS})=([^&\\s"'#;,<>]+)`, 'gi');

/**
 * An `Authorization:` header with Basic or Bearer credentials, as engines print requests in their
 * debug output (MediaMTX logs every RTSP request it sends a camera: Basic is base64 of user:pass).
 * The credentials end at whitespace, a quote or a backslash (a JSON-escaped `\r\n`).
 */
const AUTHORIZATION_HEADER = /(authorization:[ \t]*(?:basic|bearer)[ \t]+)[^\s"'\\]+/gi;

/**
 * Replaces URL credentials anywhere in `text`:
 * - `scheme://user:pass@host` and `scheme://user@host` → `scheme://***@host` (any scheme, any number per line);
 * - `user=`, `username=`, `usr=`, `password=`, `pass=`, `passwd=`, `pwd=` parameter values → `***`;
 * - `Authorization: Basic …` / `Bearer …` header values → `***`.
 */
export function redactUrlCredentials(text: string): string {
  if (text.length === 0) return text;
  let out = text;
  if (out.includes('://')) out = out.replace(URL_USERINFO, `$1${REDACTED}@`);
  if (out.includes('=')) out = out.replace(QUERY_CREDENTIAL, `$1$2=${REDACTED}`);
  if (/authorization/i.test(out)) out = out.replace(AUTHORIZATION_HEADER, `$1${REDACTED}`);
  return out;
}

const MIN_SECRET_LENGTH = 3;

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The forms a secret can take in output: literal, inside a JSON string, percent-encoded in a URL. */
function variantsOf(secret: string): string[] {
  const variants = new Set<string>([secret]);
  const json = JSON.stringify(secret).slice(1, -1);
  variants.add(json);
  try {
    variants.add(encodeURIComponent(secret));
  } catch {
    // lone surrogates cannot be URI-encoded; the literal form is still covered
  }
  return [...variants].filter((v) => v.length >= MIN_SECRET_LENGTH);
}

/**
 * Masks every registered literal secret (camera passwords, tokens…) plus URL credentials.
 * Secrets shorter than 3 characters are ignored so that e.g. a password "1" does not mask every digit.
 * Registrations are reference-counted: two cameras sharing a password can be added and removed independently.
 */
export class SecretRedactor {
  readonly #secrets = new Map<string, number>();
  #pattern: RegExp | null = null;
  #dirty = false;

  add(secret: string): void {
    if (typeof secret !== 'string' || secret.length < MIN_SECRET_LENGTH) return;
    this.#secrets.set(secret, (this.#secrets.get(secret) ?? 0) + 1);
    this.#dirty = true;
  }

  remove(secret: string): void {
    const count = this.#secrets.get(secret);
    if (count === undefined) return;
    if (count <= 1) this.#secrets.delete(secret);
    else this.#secrets.set(secret, count - 1);
    this.#dirty = true;
  }

  /** Number of distinct registered secrets. */
  get size(): number {
    return this.#secrets.size;
  }

  redact(text: string): string {
    if (typeof text !== 'string' || text.length === 0) return text;
    const pattern = this.#compiled();
    const masked = pattern === null ? text : text.replace(pattern, REDACTED);
    return redactUrlCredentials(masked);
  }

  #compiled(): RegExp | null {
    if (this.#dirty) {
      this.#dirty = false;
      const all = new Set<string>();
      for (const secret of this.#secrets.keys()) for (const v of variantsOf(secret)) all.add(v);
      // Longest first so that a secret containing another one is masked as a whole.
      const sorted = [...all].sort((a, b) => b.length - a.length);
      this.#pattern = sorted.length === 0 ? null : new RegExp(sorted.map(escapeRegExp).join('|'), 'g');
    }
    return this.#pattern;
  }
}
