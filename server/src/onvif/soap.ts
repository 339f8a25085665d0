// SOAP 1.2 envelopes and responses. Pure: builders return strings, parsers take strings.
import { child, findAll, parseXml, path, text, type XmlNode } from './xml.js';

export const NS = {
  soap: 'http://www.w3.org/2003/05/soap-envelope',
  wsa: 'http://www.w3.org/2005/08/addressing',
  tds: 'http://www.onvif.org/ver10/device/wsdl',
  trt: 'http://www.onvif.org/ver10/media/wsdl',
  tev: 'http://www.onvif.org/ver10/events/wsdl',
  tt: 'http://www.onvif.org/ver10/schema',
  wsnt: 'http://docs.oasis-open.org/wsn/b-2',
} as const;

/** One SOAP request, ready to send: its action (the SOAP 1.2 `action` content-type parameter) and body. */
export interface SoapRequest {
  /** Operation name, for logs and errors (never the body). */
  operation: string;
  action: string;
  /** The body's content (one element). */
  body: string;
  /** WS-Addressing: echo these header blocks (already serialised), e.g. Axis reference parameters. */
  headerBlocks?: string[];
  /** WS-Addressing `To`, sent with reference parameters (the subscription's address). */
  to?: string;
}

/** The whole envelope of a request; `security` is the serialised wsse:Security block or ''. */
export function buildEnvelope(req: SoapRequest, security = ''): string {
  const addressing =
    req.headerBlocks && req.headerBlocks.length > 0
      ? `<wsa:Action>${req.action}</wsa:Action>${req.to ? `<wsa:To>${escapeText(req.to)}</wsa:To>` : ''}${req.headerBlocks.join('')}`
      : '';
  const header = security || addressing ? `<s:Header>${security}${addressing}</s:Header>` : '';
  return (
    '<?xml version="1.0" encoding="UTF-8"?>' +
    `<s:Envelope xmlns:s="${NS.soap}" xmlns:wsa="${NS.wsa}" xmlns:tds="${NS.tds}" xmlns:trt="${NS.trt}"` +
    ` xmlns:tev="${NS.tev}" xmlns:tt="${NS.tt}" xmlns:wsnt="${NS.wsnt}">` +
    `${header}<s:Body>${req.body}</s:Body></s:Envelope>`
  );
}

function escapeText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function contentType(action: string): string {
  return `application/soap+xml; charset=utf-8; action="${action}"`;
}

export interface SoapFault {
  /** The most specific code the camera gave (the last Subcode's value, else the Code's), prefix kept. */
  code: string;
  /** Every code from the outer Code to the innermost Subcode. */
  codes: string[];
  reason: string;
}

export type SoapResponse = { ok: true; body: XmlNode } | { ok: false; fault: SoapFault };

/** Parses a response envelope into its Body, or its Fault (SOAP 1.2, and the 1.1 shape some cameras send). */
export function parseSoapResponse(xml: string): SoapResponse {
  const doc = parseXml(xml);
  const body = path(doc, 'Envelope', 'Body');
  if (body === undefined) throw new Error('not a SOAP envelope');
  const fault = child(body, 'Fault');
  if (fault === undefined) return { ok: true, body };
  return { ok: false, fault: parseFault(fault) };
}

function parseFault(fault: XmlNode): SoapFault {
  const codes: string[] = [];
  // SOAP 1.2: Code/Value, Code/Subcode/Value, …
  let code = child(fault, 'Code');
  while (code !== undefined) {
    const v = text(child(code, 'Value')).trim();
    if (v) codes.push(v);
    code = child(code, 'Subcode');
  }
  // SOAP 1.1: faultcode / faultstring
  const code11 = text(child(fault, 'faultcode')).trim();
  if (code11) codes.push(code11);
  const reasons = findAll(child(fault, 'Reason'), 'Text').map((t) => text(t).trim());
  const reason = reasons.find(Boolean) ?? text(child(fault, 'faultstring')).trim();
  // Some cameras put the detail in Detail/Text or a WS-BaseNotification fault element's name.
  const detail = child(fault, 'Detail');
  if (detail !== undefined && typeof detail === 'object') {
    for (const key of Object.keys(detail)) if (key.endsWith('Fault')) codes.push(key);
  }
  return { code: codes[codes.length - 1] ?? 'unknown', codes, reason: reason || 'no reason given' };
}

function localName(code: string): string {
  return code.slice(code.lastIndexOf(':') + 1);
}

/** The fault says the subscription is gone (unknown, expired, or its Renew refused): make a new one. */
export function isSubscriptionGone(fault: SoapFault): boolean {
  return fault.codes.some((c) =>
    /^(ResourceUnknown(Fault)?|UnacceptableTerminationTimeFault|UnableToDestroySubscriptionFault|InvalidSubscription|SubscriptionExpired)$/i.test(
      localName(c),
    ),
  );
}

/** The fault says the credentials were refused (wrong password, or a WS-Security timestamp out of range). */
export function isNotAuthorized(fault: SoapFault): boolean {
  return (
    fault.codes.some((c) =>
      /^(NotAuthorized|FailedAuthentication|InvalidSecurity|MessageExpired)$/i.test(localName(c)),
    ) || /not authori[sz]ed|authentication|digest|username|unauthori[sz]ed/i.test(fault.reason)
  );
}
