// XML helpers for the ONVIF client: one parser configuration, and navigation by local name
// (namespace prefixes differ between cameras, so every lookup ignores them). Pure.
import { XMLParser } from 'fast-xml-parser';

/** A parsed element: its attributes as `@_name`, its text as `#text`, its children by local name. */
export type XmlNode = string | { [key: string]: XmlNode | XmlNode[] };

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  removeNSPrefix: true,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  processEntities: true,
  textNodeName: '#text',
});

export class XmlError extends Error {
  override name = 'XmlError';
}

/** Parses a whole document; throws XmlError (with no document text in it) when it is not XML or has a DTD. */
export function parseXml(text: string): XmlNode {
  // SOAP forbids a DTD; refusing it also keeps a hostile device's entity expansion out.
  if (/<!DOCTYPE/i.test(text)) throw new XmlError('a document type declaration is not allowed');
  try {
    const doc: unknown = parser.parse(text, true);
    if (doc === null || typeof doc !== 'object') throw new XmlError('not an XML document');
    return doc as XmlNode;
  } catch (err) {
    if (err instanceof XmlError) throw err;
    throw new XmlError(`malformed XML (${err instanceof Error ? err.message.split('\n')[0] : 'unknown error'})`);
  }
}

function isElement(node: XmlNode | undefined): node is { [key: string]: XmlNode | XmlNode[] } {
  return typeof node === 'object' && node !== null;
}

/** The children of `node` named `name` (local name), in document order. */
export function children(node: XmlNode | undefined, name: string): XmlNode[] {
  if (!isElement(node)) return [];
  const value = node[name];
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

export function child(node: XmlNode | undefined, name: string): XmlNode | undefined {
  return children(node, name)[0];
}

/** Follows a path of local names, taking the first match at every step. */
export function path(node: XmlNode | undefined, ...names: string[]): XmlNode | undefined {
  let cur = node;
  for (const n of names) cur = child(cur, n);
  return cur;
}

/** Every descendant named `name`, depth first (not below a match). */
export function findAll(node: XmlNode | undefined, name: string): XmlNode[] {
  const out: XmlNode[] = [];
  const walk = (n: XmlNode | undefined): void => {
    if (!isElement(n)) return;
    for (const [key, value] of Object.entries(n)) {
      if (key.startsWith('@_') || key === '#text') continue;
      for (const v of Array.isArray(value) ? value : [value]) {
        if (key === name) out.push(v);
        else walk(v);
      }
    }
  };
  walk(node);
  return out;
}

export function find(node: XmlNode | undefined, name: string): XmlNode | undefined {
  return findAll(node, name)[0];
}

/** The text of an element ('' when it has none). */
export function text(node: XmlNode | undefined): string {
  if (node === undefined) return '';
  if (typeof node === 'string') return node;
  const t = node['#text'];
  return typeof t === 'string' ? t : '';
}

export function attr(node: XmlNode | undefined, name: string): string | undefined {
  if (!isElement(node)) return undefined;
  const v = node[`@_${name}`];
  return typeof v === 'string' ? v : undefined;
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/** Escapes text for an element or a double-quoted attribute. */
export function escapeXml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}
