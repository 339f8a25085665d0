// Authentication: WS-Security UsernameToken with PasswordDigest (the ONVIF way, its Created in the
// camera's clock), and HTTP Digest (RFC 7616) for cameras that answer 401 with a Digest challenge.
// Pure: the nonce, the time and the client nonce are arguments.
import { createHash } from 'node:crypto';
import { escapeXml } from './xml.js';

const WSSE = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd';
const WSU = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd';
const DIGEST_TYPE = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest';
const BASE64_TYPE = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary';

export interface Credentials {
  user: string;
  password: string;
}

/** Base64(SHA-1(nonce + created + password)), the WS-Security PasswordDigest. */
export function passwordDigest(nonce: Buffer, created: string, password: string): string {
  return createHash('sha1')
    .update(Buffer.concat([nonce, Buffer.from(created, 'utf8'), Buffer.from(password, 'utf8')]))
    .digest('base64');
}

/** `Created` as cameras want it: UTC, whole seconds, `Z`. */
export function wsTimestamp(ms: number): string {
  return `${new Date(Math.floor(ms / 1000) * 1000).toISOString().slice(0, 19)}Z`;
}

/**
 * The wsse:Security header block. `cameraNowMs` is the time in the camera's clock (local time plus
 * the offset GetSystemDateAndTime measured), so cameras that check the timestamp accept it.
 */
export function usernameTokenHeader(creds: Credentials, nonce: Buffer, cameraNowMs: number): string {
  const created = wsTimestamp(cameraNowMs);
  return (
    `<wsse:Security xmlns:wsse="${WSSE}" xmlns:wsu="${WSU}" s:mustUnderstand="true"><wsse:UsernameToken>` +
    `<wsse:Username>${escapeXml(creds.user)}</wsse:Username>` +
    `<wsse:Password Type="${DIGEST_TYPE}">${passwordDigest(nonce, created, creds.password)}</wsse:Password>` +
    `<wsse:Nonce EncodingType="${BASE64_TYPE}">${nonce.toString('base64')}</wsse:Nonce>` +
    `<wsu:Created>${created}</wsu:Created></wsse:UsernameToken></wsse:Security>`
  );
}

export interface DigestChallenge {
  realm: string;
  nonce: string;
  qop?: string;
  opaque?: string;
  algorithm: 'MD5' | 'SHA-256' | 'MD5-sess' | 'SHA-256-sess';
}

/** Parses a `WWW-Authenticate: Digest …` header; undefined when it is not a Digest challenge we can answer. */
export function parseDigestChallenge(header: string | null | undefined): DigestChallenge | undefined {
  if (!header) return undefined;
  const m = /Digest\s+(.*)$/is.exec(header);
  if (!m?.[1]) return undefined;
  const params: Record<string, string> = {};
  for (const p of m[1].matchAll(/([a-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/gi)) {
    const key = p[1]?.toLowerCase();
    if (key) params[key] = (p[2] ?? p[3] ?? '').replace(/\\(.)/g, '$1');
  }
  const algorithm = (params.algorithm ?? 'MD5').toUpperCase();
  if (!params.nonce || params.realm === undefined) return undefined;
  if (!['MD5', 'SHA-256', 'MD5-SESS', 'SHA-256-SESS'].includes(algorithm)) return undefined;
  const qops = (params.qop ?? '').split(',').map((q) => q.trim());
  return {
    realm: params.realm,
    nonce: params.nonce,
    ...(qops.includes('auth') ? { qop: 'auth' } : {}),
    ...(params.opaque !== undefined ? { opaque: params.opaque } : {}),
    algorithm: algorithm.replace('-SESS', '-sess') as DigestChallenge['algorithm'],
  };
}

/** The `Authorization` header answering `challenge` for one request. */
export function digestAuthorization(
  challenge: DigestChallenge,
  creds: Credentials,
  method: string,
  uri: string,
  cnonce: string,
  nc: number,
): string {
  const algo = challenge.algorithm.startsWith('SHA-256') ? 'sha256' : 'md5';
  const h = (s: string) => createHash(algo).update(s, 'utf8').digest('hex');
  let ha1 = h(`${creds.user}:${challenge.realm}:${creds.password}`);
  if (challenge.algorithm.endsWith('-sess')) ha1 = h(`${ha1}:${challenge.nonce}:${cnonce}`);
  const ha2 = h(`${method}:${uri}`);
  const ncHex = nc.toString(16).padStart(8, '0');
  const response = challenge.qop
    ? h(`${ha1}:${challenge.nonce}:${ncHex}:${cnonce}:${challenge.qop}:${ha2}`)
    : h(`${ha1}:${challenge.nonce}:${ha2}`);
  const q = (s: string) => `"${s.replace(/["\\]/g, '\\$&')}"`;
  const parts = [
    `username=${q(creds.user)}`,
    `realm=${q(challenge.realm)}`,
    `nonce=${q(challenge.nonce)}`,
    `uri=${q(uri)}`,
    `algorithm=${challenge.algorithm}`,
    `response=${q(response)}`,
  ];
  if (challenge.qop) parts.push(`qop=${challenge.qop}`, `nc=${ncHex}`, `cnonce=${q(cnonce)}`);
  if (challenge.opaque !== undefined) parts.push(`opaque=${q(challenge.opaque)}`);
  return `Digest ${parts.join(', ')}`;
}
