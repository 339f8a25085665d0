// WS-Discovery (ONVIF cameras): a Probe sent to the multicast group (UDP 3702) or to one address,
// and the ProbeMatches that come back. Builders and parsers are pure; probe() is the I/O.
import { randomUUID } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { child, children, find, parseXml, path, text } from './xml.js';

export const WS_DISCOVERY_PORT = 3702;
export const WS_DISCOVERY_GROUP = '239.255.255.250';

/** A Probe for ONVIF video transmitters. */
export function buildProbe(messageId: string): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>' +
    '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"' +
    ' xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing"' +
    ' xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery"' +
    ' xmlns:dn="http://www.onvif.org/ver10/network/wsdl">' +
    '<s:Header>' +
    '<a:Action s:mustUnderstand="1">http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe</a:Action>' +
    `<a:MessageID>${messageId}</a:MessageID>` +
    '<a:ReplyTo><a:Address>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:Address></a:ReplyTo>' +
    '<a:To s:mustUnderstand="1">urn:schemas-xmlsoap-org:ws:2005:04:discovery</a:To>' +
    '</s:Header>' +
    '<s:Body><d:Probe><d:Types>dn:NetworkVideoTransmitter</d:Types></d:Probe></s:Body>' +
    '</s:Envelope>'
  );
}

export interface DiscoveredCamera {
  /** The device's stable id (`urn:uuid:…`). */
  endpoint: string;
  /** Its device service addresses. */
  xaddrs: string[];
  types: string[];
  scopes: string[];
  /** From the scopes `onvif://www.onvif.org/name/…` and `…/hardware/…`. */
  name?: string;
  hardware?: string;
  location?: string;
}

export interface ProbeMatches {
  relatesTo?: string;
  matches: DiscoveredCamera[];
}

function words(s: string): string[] {
  return s.split(/\s+/).filter(Boolean);
}

function scopeValue(scopes: string[], kind: string): string | undefined {
  const prefix = `onvif://www.onvif.org/${kind}/`;
  const hit = scopes.find((s) => s.toLowerCase().startsWith(prefix));
  if (!hit) return undefined;
  const raw = hit.slice(prefix.length);
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/** Parses a ProbeMatches datagram; throws when it is not XML, returns no matches when it is another message. */
export function parseProbeMatches(xml: string): ProbeMatches {
  const doc = parseXml(xml);
  const env = child(doc, 'Envelope');
  const relatesTo = text(path(env, 'Header', 'RelatesTo')).trim();
  const matches: DiscoveredCamera[] = [];
  for (const m of children(find(path(env, 'Body'), 'ProbeMatches'), 'ProbeMatch')) {
    const scopes = words(text(child(m, 'Scopes')));
    const xaddrs = words(text(child(m, 'XAddrs'))).filter((x) => /^https?:\/\//i.test(x));
    const endpoint = text(path(m, 'EndpointReference', 'Address')).trim();
    if (!endpoint && xaddrs.length === 0) continue;
    const name = scopeValue(scopes, 'name');
    const hardware = scopeValue(scopes, 'hardware');
    const location = scopeValue(scopes, 'location');
    matches.push({
      endpoint: endpoint || (xaddrs[0] as string),
      xaddrs,
      types: words(text(child(m, 'Types'))),
      scopes,
      ...(name !== undefined ? { name } : {}),
      ...(hardware !== undefined ? { hardware } : {}),
      ...(location !== undefined ? { location } : {}),
    });
  }
  return { ...(relatesTo ? { relatesTo } : {}), matches };
}

export interface ProbeOptions {
  /** Probe this IPv4 address (unicast) instead of the multicast group. */
  address?: string;
  port?: number;
  /** How long to collect answers (3 s). */
  timeoutMs?: number;
  /**
   * The local IPv4 address whose interface the multicast probe leaves by. Without it the probe is
   * sent on every IPv4 interface that is up and not loopback (the system's choice if there is none).
   */
  multicastInterface?: string;
  signal?: AbortSignal;
}

/** The IPv4 addresses of the interfaces a multicast probe should leave by; [undefined] = the system's choice. */
function multicastInterfaces(): Array<string | undefined> {
  const ips: string[] = [];
  for (const list of Object.values(networkInterfaces())) {
    for (const nic of list ?? []) if (nic.family === 'IPv4' && !nic.internal) ips.push(nic.address);
  }
  return ips.length > 0 ? ips : [undefined];
}

/** Sends one Probe and collects the cameras that answer within the timeout, one entry per endpoint. */
export function probe(options: ProbeOptions = {}): Promise<DiscoveredCamera[]> {
  const target = options.address ?? WS_DISCOVERY_GROUP;
  if (isIP(target) !== 4) return Promise.reject(new Error('discovery: an IPv4 address is needed'));
  const port = options.port ?? WS_DISCOVERY_PORT;
  const messageId = `urn:uuid:${randomUUID()}`;
  const found = new Map<string, DiscoveredCamera>();
  return new Promise((resolve, reject) => {
    const sock = createSocket({ type: 'udp4', reuseAddr: true });
    let timer: NodeJS.Timeout | undefined;
    let done = false;
    const finish = (err?: Error) => {
      if (done) return;
      done = true;
      if (timer) clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      sock.close();
      if (err) reject(err);
      else resolve([...found.values()]);
    };
    const onAbort = () => finish();
    sock.on('error', (err) => finish(new Error(`discovery: ${err.message}`)));
    sock.on('message', (msg) => {
      let parsed: ProbeMatches;
      try {
        parsed = parseProbeMatches(msg.toString('utf8'));
      } catch {
        return; // not XML: someone else's datagram
      }
      if (parsed.relatesTo && parsed.relatesTo !== messageId) return;
      for (const m of parsed.matches) if (!found.has(m.endpoint)) found.set(m.endpoint, m);
    });
    sock.bind(0, () => {
      if (options.signal?.aborted) return finish();
      options.signal?.addEventListener('abort', onAbort, { once: true });
      timer = setTimeout(() => finish(), options.timeoutMs ?? 3_000);
      const datagram = buildProbe(messageId);
      const via: Array<string | undefined> = options.address
        ? [undefined]
        : options.multicastInterface
          ? [options.multicastInterface]
          : multicastInterfaces();
      if (!options.address) sock.setMulticastTTL(2);
      // One interface after the other: the interface is a socket option, read when a datagram leaves.
      const sendNext = (i: number, sent: number): void => {
        if (done) return;
        if (i >= via.length) {
          if (sent === 0) finish(new Error('discovery: the probe could not be sent on any interface'));
          return;
        }
        const ip = via[i];
        try {
          if (ip) sock.setMulticastInterface(ip);
        } catch {
          sendNext(i + 1, sent);
          return;
        }
        sock.send(datagram, port, target, (err) => sendNext(i + 1, err ? sent : sent + 1));
      };
      sendNext(0, 0);
    });
  });
}
