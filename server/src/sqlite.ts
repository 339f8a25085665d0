/**
 * `node:sqlite` (Node 22's built-in SQLite: no native npm dependency), loaded without its one-time
 * "SQLite is an experimental feature" warning (Node 22 prints it to stderr, where it would alarm
 * every add-on log reader); other warnings pass through.
 */
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type { SQLInputValue } from 'node:sqlite';

export function loadSqlite(): typeof import('node:sqlite') {
  const original = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const text = typeof warning === 'string' ? warning : warning.message;
    if (text.includes('SQLite is an experimental feature')) return;
    (original as (...args: unknown[]) => void).call(process, warning, ...rest);
  }) as typeof process.emitWarning;
  try {
    return createRequire(import.meta.url)('node:sqlite') as typeof import('node:sqlite');
  } finally {
    process.emitWarning = original;
  }
}

type Database = InstanceType<ReturnType<typeof loadSqlite>['DatabaseSync']>;

/**
 * Opens (creating its folder) a database in WAL mode with `synchronous=NORMAL` (a killed process
 * never leaves it corrupt; a power cut may lose the last transactions) and returns it with its
 * schema version (`user_version`, 0 when new). A version newer than `supported` is refused.
 */
export function openDatabase(file: string, what: string, supported: number): { db: Database; version: number } {
  const { DatabaseSync } = loadSqlite();
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const db = new DatabaseSync(file);
  db.exec('PRAGMA journal_mode = WAL');
  db.exec('PRAGMA synchronous = NORMAL');
  db.exec('PRAGMA busy_timeout = 2000');
  const version = (db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version;
  if (version > supported) {
    db.close();
    throw new Error(`${what} ${file} has schema ${version}, newer than this Camstack (${supported})`);
  }
  return { db, version };
}

/** `WHERE a = ? AND b <= ?` from the conditions whose value is given, and their arguments. */
export function whereClause(conditions: readonly (readonly [string, SQLInputValue | undefined])[]): {
  sql: string;
  args: SQLInputValue[];
} {
  const given = conditions.filter((c): c is readonly [string, SQLInputValue] => c[1] !== undefined);
  return {
    sql: given.length ? `WHERE ${given.map(([clause]) => clause).join(' AND ')}` : '',
    args: given.map(([, value]) => value),
  };
}
