/**
 * Credentials for readers of the RTSP restream on other hosts (Home Assistant's live cameras):
 * `rtsp_username` / `rtsp_password` from the options, or a password generated once and kept in
 * `<data_dir>/rtsp-password` (mode 0600) so it survives restarts and HA's stored stream URLs stay
 * valid.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RtspReaderOptions } from '../config/integration-options.js';

export interface RtspReaderCredentials {
  user: string;
  pass: string;
  /** `options` or `generated` (first start) or `stored` (generated earlier). */
  origin: 'options' | 'generated' | 'stored';
}

export const RTSP_PASSWORD_FILE = 'rtsp-password';

/** URL-safe, 24 characters (≈143 bits). */
export function generatePassword(): string {
  return randomBytes(18).toString('base64url');
}

export async function rtspReaderCredentials(
  options: RtspReaderOptions,
  dataDir: string,
): Promise<RtspReaderCredentials> {
  if (options.password !== null) return { user: options.username, pass: options.password, origin: 'options' };
  const file = join(dataDir, RTSP_PASSWORD_FILE);
  try {
    const stored = (await readFile(file, 'utf8')).trim();
    if (/^[A-Za-z0-9_-]{16,128}$/.test(stored)) return { user: options.username, pass: stored, origin: 'stored' };
  } catch {
    // not there yet
  }
  const pass = generatePassword();
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  await writeFile(file, `${pass}\n`, { mode: 0o600 });
  return { user: options.username, pass, origin: 'generated' };
}

/** `rtsp://user:pass@host:port/<id>` with the credentials percent-encoded. */
export function rtspUrl(
  host: string,
  port: number,
  path: string,
  credentials?: { user: string; pass: string },
): string {
  const h = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  const auth = credentials ? `${encodeURIComponent(credentials.user)}:${encodeURIComponent(credentials.pass)}@` : '';
  return `rtsp://${auth}${h}:${port}/${path}`;
}
