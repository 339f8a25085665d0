/**
 * An IP address or CIDR range as written in an allow list (`1.2.3.4`, `10.0.0.0/8`, `::1`,
 * `fd00::/8`), parsed once for the guard (http/guard.ts) and the variable that sets it
 * (config/env.ts). Pure.
 */
import { isIP } from 'node:net';

export interface AddressRange {
  host: string;
  family: 'ipv4' | 'ipv6';
  /** null: the one address. */
  prefix: number | null;
}

export function addressFamily(address: string): 'ipv4' | 'ipv6' | null {
  const v = isIP(address);
  return v === 4 ? 'ipv4' : v === 6 ? 'ipv6' : null;
}

/** The range an entry names, or why it names none. */
export function parseAddressRange(raw: string): AddressRange | { error: string } {
  const entry = raw.trim();
  const [host = '', prefixText, ...rest] = entry.split('/');
  const family = addressFamily(host);
  const prefix = prefixText === undefined ? null : Number(prefixText);
  if (family === null || rest.length > 0 || (prefix !== null && !(Number.isInteger(prefix) && prefix >= 0))) {
    return { error: `"${entry}" is not an IP address or CIDR range` };
  }
  const maxPrefix = family === 'ipv4' ? 32 : 128;
  if (prefix !== null && prefix > maxPrefix) return { error: `"${entry}": prefix longer than ${maxPrefix}` };
  return { host, family, prefix };
}
