import { pino } from 'pino';
import type { SecretRedactor } from './redact.js';

export type Logger = pino.Logger;

/** Levels accepted from the add-on options. `warning` is an alias of `warn`, `notice` of `info`. */
export type LogLevel = 'trace' | 'debug' | 'info' | 'notice' | 'warn' | 'warning' | 'error' | 'fatal';

const LEVELS: Readonly<Record<LogLevel, pino.Level>> = {
  trace: 'trace',
  debug: 'debug',
  info: 'info',
  notice: 'info',
  warn: 'warn',
  warning: 'warn',
  error: 'error',
  fatal: 'fatal',
};

/** Maps an option value to a pino level; throws on anything unknown. */
export function normalizeLogLevel(level: string): pino.Level {
  const mapped = Object.hasOwn(LEVELS, level) ? LEVELS[level as LogLevel] : undefined;
  if (mapped === undefined) {
    throw new Error(`unknown log level "${level}" (expected one of ${Object.keys(LEVELS).join(', ')})`);
  }
  return mapped;
}

/** Anything with a `write(string)` method: a Writable, process.stdout, a test sink. */
export interface LogDestination {
  write(chunk: string): unknown;
}

export interface CreateLoggerOptions {
  level: LogLevel;
  redactor: SecretRedactor;
  /** Defaults to process.stdout. */
  destination?: LogDestination;
}

/**
 * A pino logger whose every serialized line (message, string fields, error messages and stacks)
 * passes through the redactor before it reaches the destination. Redacting the final line rather
 * than the arguments means no field or serializer can leak a secret.
 */
export function createLogger(options: CreateLoggerOptions): Logger {
  const destination = options.destination ?? process.stdout;
  const redactor = options.redactor;
  const stream: pino.DestinationStream = {
    write(line: string): void {
      destination.write(redactor.redact(line));
    },
  };
  return pino(
    {
      level: normalizeLogLevel(options.level),
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    stream,
  );
}
