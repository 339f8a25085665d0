/**
 * Reading the two files: options.json (missing = all defaults) and the cameras YAML file (which
 * one: the variable, the option, the default), each parsed and checked against its schema. A
 * problem is added to the list given, never thrown.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { type Document, parseDocument } from 'yaml';
import { ajvProblems } from './messages.js';
import { OPTION_DEFAULTS } from './schema.js';
import { type ConfigProblem, isPlainObject, makeProblem, OPTIONS_LABEL } from './types.js';
import { validateCamerasFile } from './validators.js';

function errnoCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code = (err as { code: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function readText(path: string): { text: string } | { missing: true } | { error: string } {
  try {
    return { text: readFileSync(path, 'utf8') };
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return { missing: true };
    return { error: `cannot be read: ${errnoCode(err) ?? errorText(err)}` };
  }
}

/** options.json; a missing file means all defaults. */
export function readOptions(path: string, problems: ConfigProblem[]): unknown {
  const read = readText(path);
  if ('missing' in read) return {};
  if ('error' in read) {
    problems.push(makeProblem(`${OPTIONS_LABEL} (${path})`, '', read.error));
    return undefined;
  }
  let data: unknown;
  try {
    data = JSON.parse(read.text);
  } catch (err) {
    problems.push(makeProblem(`${OPTIONS_LABEL} (${path})`, '', `is not valid JSON: ${errorText(err)}`));
    return undefined;
  }
  if (!isPlainObject(data)) {
    problems.push(makeProblem(OPTIONS_LABEL, '', 'must be a JSON object'));
    return undefined;
  }
  return data;
}

/** First line of a `yaml` error message, without its " at line L, column C:" suffix. */
function yamlMessage(message: string): string {
  const first = message.split('\n', 1)[0] ?? message;
  return first.replace(/ at line \d+, column \d+:?$/, '').replace(/:$/, '');
}

export interface CamerasFileRef {
  path: string;
  /** `cameras_file (/config/cameras.yaml)` or `CAMSTACK_CAMERAS_FILE (/x.yaml)`. */
  label: string;
  explicit: boolean;
}

/**
 * Which cameras file to read: `CAMSTACK_CAMERAS_FILE` (resolved), else `cameras_file`, else the
 * default. "Explicit" = anything but the default path (HA always writes `cameras_file` into
 * options.json, so the key being present does not make the default path explicit). Null when
 * `cameras_file` is invalid (the schema reports that).
 */
export function camerasFileRef(envValue: string | undefined, configured: unknown): CamerasFileRef | null {
  let path: string;
  let key: string;
  if (envValue !== undefined) {
    path = resolve(envValue);
    key = 'CAMSTACK_CAMERAS_FILE';
  } else if (configured === undefined) {
    path = OPTION_DEFAULTS.cameras_file;
    key = 'cameras_file';
  } else if (typeof configured === 'string' && configured.startsWith('/')) {
    path = configured;
    key = 'cameras_file';
  } else {
    return null;
  }
  return { path, label: `${key} (${path})`, explicit: path !== OPTION_DEFAULTS.cameras_file };
}

/** The cameras YAML file's `cameras` list (raw), or undefined when absent/broken. */
export function readCamerasFile(
  ref: CamerasFileRef,
  problems: ConfigProblem[],
  onParsed?: (doc: Document, text: string) => void,
): unknown {
  const read = readText(ref.path);
  if ('missing' in read) {
    if (ref.explicit) problems.push(makeProblem(ref.label, '', 'does not exist'));
    return undefined;
  }
  if ('error' in read) {
    problems.push(makeProblem(ref.label, '', read.error));
    return undefined;
  }
  const doc = parseDocument(read.text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    for (const err of doc.errors) {
      const pos = err.linePos?.[0];
      const where = pos ? ` at line ${pos.line}, column ${pos.col}` : '';
      problems.push(makeProblem(ref.label, '', `YAML syntax error${where}: ${yamlMessage(err.message)}`));
    }
    return undefined;
  }
  onParsed?.(doc, read.text);
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    problems.push(makeProblem(ref.label, '', `YAML error: ${errorText(err)}`));
    return undefined;
  }
  if (data === null || data === undefined) return undefined;
  if (!validateCamerasFile(data)) {
    if (!isPlainObject(data)) {
      problems.push(makeProblem(ref.label, '', 'must be a mapping with a top-level "cameras:" list'));
    } else {
      problems.push(...ajvProblems(validateCamerasFile.errors ?? [], ref.label));
    }
  }
  return isPlainObject(data) ? data.cameras : undefined;
}
