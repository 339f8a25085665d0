// Events service (PullPoint): request builders and response parsers. Pure.
import { NS, type SoapRequest } from './soap.js';
import { attr, child, children, path, text, type XmlNode } from './xml.js';

const PULLPOINT = `${NS.tev}/PullPointSubscription`;
const MANAGER = 'http://docs.oasis-open.org/wsn/bw-2/SubscriptionManager';

/** Durations are sent in seconds (`PT600S`): some cameras misread minutes and hours. */
export function isoSeconds(seconds: number): string {
  return `PT${Math.max(1, Math.round(seconds))}S`;
}

/** Where a subscription lives, and what the camera wants echoed with every call to it. */
export interface SubscriptionRef {
  /** The per-subscription address (Hikvision and others give each subscription its own). */
  address: string;
  /** WS-Addressing reference parameters (Axis), serialised as header blocks to echo. */
  headerBlocks: string[];
}

export function createPullPointSubscription(terminationSeconds: number): SoapRequest {
  return {
    operation: 'CreatePullPointSubscription',
    action: `${NS.tev}/EventPortType/CreatePullPointSubscriptionRequest`,
    body:
      '<tev:CreatePullPointSubscription>' +
      `<tev:InitialTerminationTime>${isoSeconds(terminationSeconds)}</tev:InitialTerminationTime>` +
      '</tev:CreatePullPointSubscription>',
  };
}

function scoped(ref: SubscriptionRef, req: Omit<SoapRequest, 'headerBlocks' | 'to'>): SoapRequest {
  return ref.headerBlocks.length > 0 ? { ...req, headerBlocks: ref.headerBlocks, to: ref.address } : req;
}

export function pullMessages(ref: SubscriptionRef, timeoutSeconds: number, messageLimit: number): SoapRequest {
  return scoped(ref, {
    operation: 'PullMessages',
    action: `${PULLPOINT}/PullMessagesRequest`,
    body:
      `<tev:PullMessages><tev:Timeout>${isoSeconds(timeoutSeconds)}</tev:Timeout>` +
      `<tev:MessageLimit>${Math.max(1, Math.floor(messageLimit))}</tev:MessageLimit></tev:PullMessages>`,
  });
}

export function setSynchronizationPoint(ref: SubscriptionRef): SoapRequest {
  return scoped(ref, {
    operation: 'SetSynchronizationPoint',
    action: `${PULLPOINT}/SetSynchronizationPointRequest`,
    body: '<tev:SetSynchronizationPoint/>',
  });
}

export function renew(ref: SubscriptionRef, terminationSeconds: number): SoapRequest {
  return scoped(ref, {
    operation: 'Renew',
    action: `${MANAGER}/RenewRequest`,
    body: `<wsnt:Renew><wsnt:TerminationTime>${isoSeconds(terminationSeconds)}</wsnt:TerminationTime></wsnt:Renew>`,
  });
}

export function unsubscribe(ref: SubscriptionRef): SoapRequest {
  return scoped(ref, {
    operation: 'Unsubscribe',
    action: `${MANAGER}/UnsubscribeRequest`,
    body: '<wsnt:Unsubscribe/>',
  });
}

/** An xsd:dateTime in ms; undefined for Hikvision's `0000-00-00T00:00:00Z` and anything unreadable. */
export function parseTime(value: string | undefined): number | undefined {
  if (!value) return undefined;
  const v = value.trim();
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}/.test(v) || v.startsWith('0000')) return undefined;
  const ms = Date.parse(/[zZ]|[+-]\d{2}:?\d{2}$/.test(v) ? v : `${v}Z`);
  return Number.isFinite(ms) && ms > 0 ? ms : undefined;
}

export interface SubscriptionTimes {
  /** The camera's current time and the subscription's end, in the camera's clock. */
  currentTime?: number;
  terminationTime?: number;
}

export interface CreatedSubscription extends SubscriptionTimes {
  ref: SubscriptionRef;
}

/**
 * The reference parameters of the response, as header blocks: each top-level element of
 * ReferenceParameters, with the namespace declarations it relies on from its ancestors copied onto
 * it, and marked `wsa:IsReferenceParameter="true"` (WS-Addressing 1.0 §3.3).
 */
export function referenceParameterBlocks(rawXml: string): string[] {
  const m = /<(?:[\w.-]+:)?ReferenceParameters\b[^>]*?(?:\/>|>([\s\S]*?)<\/(?:[\w.-]+:)?ReferenceParameters\s*>)/.exec(
    rawXml,
  );
  const inner = m?.[1]?.trim();
  if (!inner) return [];
  const declared = new Map<string, string>();
  for (const d of rawXml.matchAll(/\sxmlns:([\w.-]+)\s*=\s*"([^"]*)"/g)) {
    if (d[1] && d[2] !== undefined && !declared.has(d[1])) declared.set(d[1], d[2]);
  }
  return topLevelElements(inner).map((el) => {
    const open = /^<([\w.-]+)(?::([\w.-]+))?/.exec(el);
    if (!open) return el;
    const used = new Set<string>();
    for (const u of el.matchAll(/<\/?([\w.-]+):[\w.-]+|\s([\w.-]+):[\w.-]+\s*=/g)) {
      const prefix = u[1] ?? u[2];
      if (prefix && prefix !== 'xmlns' && prefix !== 'xml') used.add(prefix);
    }
    let decls = '';
    for (const prefix of used) {
      if (new RegExp(`xmlns:${prefix.replace(/[.-]/g, '\\$&')}\\s*=`).test(el)) continue;
      const uri = declared.get(prefix);
      if (uri !== undefined && prefix !== 'wsa') decls += ` xmlns:${prefix}="${uri}"`;
    }
    const nameEnd = open[0].length;
    return `${el.slice(0, nameEnd)}${decls} wsa:IsReferenceParameter="true"${el.slice(nameEnd)}`;
  });
}

/** Splits serialised XML content into its top-level elements (text and comments between them dropped). */
function topLevelElements(xml: string): string[] {
  const out: string[] = [];
  const tag = /<(\/?)([\w.:-]+)[^>]*?(\/?)>|<!--[\s\S]*?-->|<\?[\s\S]*?\?>/g;
  let depth = 0;
  let start = -1;
  for (const t of xml.matchAll(tag)) {
    if (t[2] === undefined) continue; // comment or processing instruction
    const closing = t[1] === '/';
    const selfClosing = t[3] === '/';
    if (!closing && depth === 0) start = t.index;
    if (closing) depth--;
    else if (!selfClosing) depth++;
    if (depth === 0 && start >= 0) {
      out.push(xml.slice(start, t.index + t[0].length));
      start = -1;
    }
  }
  return out;
}

function times(node: XmlNode | undefined): SubscriptionTimes {
  const currentTime = parseTime(text(child(node, 'CurrentTime')));
  const terminationTime = parseTime(text(child(node, 'TerminationTime')));
  return {
    ...(currentTime !== undefined ? { currentTime } : {}),
    ...(terminationTime !== undefined ? { terminationTime } : {}),
  };
}

/** From a CreatePullPointSubscriptionResponse. `rawXml` is the same response, for the reference parameters. */
export function parseCreatePullPointSubscription(body: XmlNode, rawXml: string): CreatedSubscription {
  const r = child(body, 'CreatePullPointSubscriptionResponse');
  if (r === undefined) throw new Error('no CreatePullPointSubscriptionResponse');
  const address = text(path(r, 'SubscriptionReference', 'Address')).trim();
  if (!/^https?:\/\//i.test(address)) throw new Error('the subscription has no HTTP address');
  return { ref: { address, headerBlocks: referenceParameterBlocks(rawXml) }, ...times(r) };
}

export function parseRenew(body: XmlNode): SubscriptionTimes {
  const r = child(body, 'RenewResponse');
  if (r === undefined) throw new Error('no RenewResponse');
  return times(r);
}

/** One notification as the camera sent it. */
export interface RawNotification {
  topic: string;
  /** The message's UtcTime, undefined when missing or Hikvision's zero time. */
  utcTime?: number;
  /** Initialized (the state at subscription time), Changed or Deleted. */
  operation?: string;
  source: Array<{ name: string; value: string }>;
  data: Array<{ name: string; value: string }>;
}

export interface PullResult extends SubscriptionTimes {
  messages: RawNotification[];
}

function items(node: XmlNode | undefined): Array<{ name: string; value: string }> {
  return children(node, 'SimpleItem')
    .map((i) => ({ name: attr(i, 'Name') ?? '', value: attr(i, 'Value') ?? '' }))
    .filter((i) => i.name !== '');
}

export function parsePullMessages(body: XmlNode): PullResult {
  const r = child(body, 'PullMessagesResponse');
  if (r === undefined) throw new Error('no PullMessagesResponse');
  const messages: RawNotification[] = [];
  for (const nm of children(r, 'NotificationMessage')) {
    const topic = text(child(nm, 'Topic')).trim();
    // wsnt:Message holds tt:Message; both are "Message" by local name.
    const outer = child(nm, 'Message');
    const msg = child(outer, 'Message') ?? outer;
    const utcTime = parseTime(attr(msg, 'UtcTime'));
    const operation = attr(msg, 'PropertyOperation');
    messages.push({
      topic,
      ...(utcTime !== undefined ? { utcTime } : {}),
      ...(operation !== undefined ? { operation } : {}),
      source: items(child(msg, 'Source')),
      data: items(child(msg, 'Data')),
    });
  }
  return { ...times(r), messages };
}
