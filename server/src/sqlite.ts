/**
 * `node:sqlite` (Node 22's built-in SQLite: no native npm dependency), loaded without its one-time
 * "SQLite is an experimental feature" warning (Node 22 prints it to stderr, where it would alarm
 * every add-on log reader); other warnings pass through.
 */
import { createRequire } from 'node:module';

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
