/**
 * Validation messages: Ajv errors turned into {@link ConfigProblem}s a person understands (the
 * key, what it must be, the offending value without credentials), the line of a problem in the
 * cameras YAML file, and problems grouped by document. No I/O.
 */
import type { ErrorObject } from 'ajv';
import type { Document } from 'yaml';
import { INTEGRATION_SECRET_KEYS } from './integration-options.js';
import {
  ABSOLUTE_PATH_PATTERN,
  CAMERA_ID_PATTERN,
  NO_CONTROL_PATTERN,
  NON_BLANK_PATTERN,
  TEXT_PATTERN,
  WEBRTC_CANDIDATE_PATTERN,
} from './schema.js';
import { redactCredentials } from './source.js';
import { type ConfigProblem, formatProblem, makeProblem } from './types.js';

const SECRET_KEYS = new Set<string>(['password', 'api_token', 'username', ...INTEGRATION_SECRET_KEYS]);
const URL_KEYS = new Set(['source', 'substream']);

function pointerSegments(instancePath: string): string[] {
  if (instancePath === '') return [];
  return instancePath
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function formatPointer(segments: readonly string[]): string {
  let out = '';
  for (const seg of segments) {
    if (/^\d+$/.test(seg)) out += `[${seg}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (Number.isInteger(value)) return 'an integer';
  return typeName(typeof value);
}

/** A short, credential-free rendering of an offending value (secrets show only their kind). */
function formatValue(value: unknown, key: string | undefined): string {
  if (key !== undefined && SECRET_KEYS.has(key)) return kindOf(value);
  let v = value;
  if (typeof v === 'string' && key !== undefined && URL_KEYS.has(key)) v = redactCredentials(v);
  let text: string;
  try {
    text = JSON.stringify(v) ?? String(v);
  } catch {
    // Too deep to render (a body of 30 000 nested arrays overflows the stack), or not JSON.
    text = kindOf(v);
  }
  return text.length > 80 ? `${text.slice(0, 77)}…` : text;
}

const TYPE_NAMES: Record<string, string> = {
  integer: 'an integer',
  number: 'a number',
  string: 'a string',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping of keys to values',
  null: 'null',
};

function typeName(t: unknown): string {
  if (Array.isArray(t)) return t.map(typeName).join(' or ');
  return typeof t === 'string' ? (TYPE_NAMES[t] ?? t) : String(t);
}

/** A slug suggestion for a bad camera id: "Front Door" → "front_door". */
function suggestId(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const slug = value
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 64);
  return slug === '' ? null : slug;
}

function numberRange(parent: Record<string, unknown>): string {
  const min = parent.minimum;
  const max = parent.maximum;
  const kind = parent.type === 'integer' ? 'an integer' : 'a number';
  if (typeof min === 'number' && typeof max === 'number') return `must be ${kind} from ${min} to ${max}`;
  if (typeof min === 'number') return `must be ${kind} of at least ${min}`;
  return `must be ${kind} of at most ${String(max)}`;
}

function messageFor(err: ErrorObject, key: string | undefined): { message: string; withValue: boolean } {
  const params: Record<string, unknown> = err.params;
  const parent: Record<string, unknown> = err.parentSchema ?? {};
  switch (err.keyword) {
    case 'type':
      return { message: `must be ${typeName(params.type)}`, withValue: true };
    case 'enum': {
      const allowed = Array.isArray(params.allowedValues) ? params.allowedValues.map(String) : [];
      return { message: `must be one of ${allowed.join(', ')}`, withValue: true };
    }
    case 'pattern':
      switch (params.pattern) {
        case NON_BLANK_PATTERN:
          return { message: 'must not be blank', withValue: false };
        case TEXT_PATTERN:
          return {
            message:
              typeof err.data === 'string' && !/\S/.test(err.data)
                ? 'must not be blank'
                : 'must not hold control characters',
            withValue: false,
          };
        case NO_CONTROL_PATTERN:
          return { message: 'must not hold control characters', withValue: false };
        case ABSOLUTE_PATH_PATTERN:
          return { message: 'must be an absolute path', withValue: true };
        case WEBRTC_CANDIDATE_PATTERN:
          return { message: 'must be host or host:port (IPv6 in brackets)', withValue: true };
        default:
          return { message: `must match ${String(params.pattern)}`, withValue: true };
      }
    case 'minLength':
      return params.limit === 1
        ? { message: 'must not be empty', withValue: false }
        : { message: `must be at least ${String(params.limit)} characters`, withValue: !SECRET_KEYS.has(key ?? '') };
    case 'maxLength': {
      const length = typeof err.data === 'string' ? ` (got ${err.data.length})` : '';
      return { message: `must be at most ${String(params.limit)} characters${length}`, withValue: false };
    }
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return { message: numberRange(parent), withValue: true };
    case 'maxItems':
      return { message: `must have at most ${String(params.limit)} entries`, withValue: false };
    case 'minItems':
      return { message: `must have at least ${String(params.limit)} entries`, withValue: false };
    default:
      return { message: err.message ?? `is invalid (${err.keyword})`, withValue: true };
  }
}

function isNullBranch(schema: unknown): boolean {
  return typeof schema === 'object' && schema !== null && (schema as Record<string, unknown>).type === 'null';
}

export interface AjvProblemsOptions {
  /**
   * How an unknown property is reported. `key` (the file loader): at the object holding it, as
   * `unknown key "foo"`. `field` (the HTTP API): at the property itself, as `unknown field "foo"`.
   */
  unknownProperty?: 'key' | 'field';
}

/**
 * Turn Ajv errors into problems. Nullable unions (`anyOf: [T, null]`) read as "must be … or null".
 * Needs errors from an Ajv instance created with `verbose: true` (values, ranges and unions).
 */
export function ajvProblems(
  errors: readonly ErrorObject[],
  source: string,
  options: AjvProblemsOptions = {},
): ConfigProblem[] {
  const skip = new Set<ErrorObject>();
  const orNull = new Set<ErrorObject>();
  for (const err of errors) {
    if (err.keyword !== 'anyOf') continue;
    const branches = Array.isArray(err.schema) ? err.schema : [];
    const children = errors.filter((e) => e !== err && e.schemaPath.startsWith(`${err.schemaPath}/`));
    if (branches.some(isNullBranch)) {
      skip.add(err);
      for (const child of children) {
        if (child.keyword === 'type' && child.params.type === 'null' && child.instancePath === err.instancePath) {
          skip.add(child);
        } else if (child.instancePath === err.instancePath) {
          orNull.add(child);
        }
      }
    } else {
      for (const child of children) skip.add(child);
    }
  }

  // An empty string would also fail its pattern; "must not be empty" says it all.
  const empty = new Set(errors.filter((e) => e.keyword === 'minLength').map((e) => e.instancePath));
  for (const err of errors) if (err.keyword === 'pattern' && empty.has(err.instancePath)) skip.add(err);

  const problems: ConfigProblem[] = [];
  const seen = new Set<string>();
  for (const err of errors) {
    if (skip.has(err)) continue;
    const segments = pointerSegments(err.instancePath);
    let key = segments.at(-1);
    let message: string;
    let withValue = false;
    if (err.keyword === 'required') {
      const missing = String(err.params.missingProperty);
      segments.push(missing);
      key = missing;
      message = 'is required';
    } else if (err.keyword === 'additionalProperties') {
      const unknown = String(err.params.additionalProperty);
      if (options.unknownProperty === 'field') {
        segments.push(unknown);
        message = `unknown field ${JSON.stringify(unknown)}`;
      } else {
        message = `unknown key ${JSON.stringify(unknown)}`;
      }
    } else {
      ({ message, withValue } = messageFor(err, key));
      if (orNull.has(err)) message += ' or null';
    }
    if (withValue && err.data !== undefined) message += ` (got ${formatValue(err.data, key)})`;
    if (
      err.keyword === 'type' &&
      String(err.params.type).includes('string') &&
      (typeof err.data === 'number' || typeof err.data === 'boolean')
    ) {
      message += ' — put the value in quotes';
    }
    if (err.keyword === 'pattern' && err.params.pattern === CAMERA_ID_PATTERN) {
      const suggestion = suggestId(err.data);
      if (suggestion !== null) message += ` — e.g. ${JSON.stringify(suggestion)}`;
    }
    const problem = makeProblem(source, formatPointer(segments), message);
    const id = formatProblem(problem);
    if (seen.has(id)) continue;
    seen.add(id);
    problems.push(problem);
  }
  return problems;
}

/**
 * PURE: the line (1-based) of the YAML node a problem's pointer names (`cameras[1].recording`), or
 * of the unknown key itself for `unknown key "x"`; null when the document has no such node.
 */
export function yamlLineOf(doc: Document, text: string, pointer: string, message: string): number | null {
  const segments: (string | number)[] = [];
  for (const m of pointer.matchAll(/([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]/g)) {
    if (m[1] !== undefined) segments.push(m[1]);
    else if (m[2] !== undefined) segments.push(Number(m[2]));
    else if (m[3] !== undefined) segments.push(JSON.parse(m[3]) as string);
  }
  const unknown = /^unknown key (".*")$/.exec(message)?.[1];
  if (unknown !== undefined) segments.push(JSON.parse(unknown) as string);
  for (let n = segments.length; n > 0; n--) {
    const node: unknown = doc.getIn(segments.slice(0, n), true);
    const range = (node as { range?: [number, number, number] } | undefined)?.range;
    if (range) return text.slice(0, range[0]).split('\n').length;
  }
  return null;
}

/** Problems of the same document together, documents in the order first seen. */
export function groupBySource(problems: readonly ConfigProblem[]): ConfigProblem[] {
  const order = new Map<string, number>();
  for (const p of problems) if (!order.has(p.source)) order.set(p.source, order.size);
  return problems
    .map((p, i) => ({ p, i }))
    .sort((a, b) => (order.get(a.p.source) ?? 0) - (order.get(b.p.source) ?? 0) || a.i - b.i)
    .map(({ p }) => p);
}
