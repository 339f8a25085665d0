/**
 * A managed process's output: split into lines, redacted, logged at the level the owner picks,
 * kept in the tail (across runs) and in the run's recent lines (quoted in lastError).
 */
import { StringDecoder } from 'node:string_decoder';
import type { Logger } from '../log/logger.js';
import type { SecretRedactor } from '../log/redact.js';
import type { OutputStream } from './run.js';

/** Output lines of the dying run quoted in lastError. */
const LAST_ERROR_LINES = 10;
/** A partial line longer than this is emitted as is. */
const MAX_LINE_LENGTH = 16 * 1024;

export class LineSplitter {
  readonly #decoder = new StringDecoder('utf8');
  #partial = '';

  push(chunk: Buffer | string): string[] {
    const text = this.#partial + (typeof chunk === 'string' ? chunk : this.#decoder.write(chunk));
    const parts = text.split(/\r\n|\n|\r/);
    this.#partial = parts.pop() ?? '';
    if (this.#partial.length > MAX_LINE_LENGTH) {
      parts.push(this.#partial);
      this.#partial = '';
    }
    return parts;
  }

  flush(): string[] {
    const rest = this.#partial + this.#decoder.end();
    this.#partial = '';
    return rest.length > 0 ? [rest] : [];
  }
}

export interface OutputLinesOptions {
  log: Logger;
  redactor: SecretRedactor;
  /** Redacted lines kept in `tail`. */
  tailLines: number;
  lineLevel?: ((line: string) => 'debug' | 'info' | 'warn' | 'error') | undefined;
  onLine?: ((stream: OutputStream, line: string) => void) | undefined;
}

export class OutputLines {
  readonly #o: OutputLinesOptions;
  #tail: string[] = [];

  constructor(options: OutputLinesOptions) {
    this.#o = options;
  }

  /** The last `tailLines` redacted lines. A copy. */
  get tail(): string[] {
    return [...this.#tail];
  }

  /** One raw line of a run: redacted, kept, logged and handed to `onLine`. Blank lines are dropped. */
  line(run: { recent: string[] }, stream: OutputStream, raw: string): void {
    if (raw.trim().length === 0) return;
    const line = this.#o.redactor.redact(raw);
    if (this.#o.tailLines > 0) {
      this.#tail.push(line);
      if (this.#tail.length > this.#o.tailLines) this.#tail.splice(0, this.#tail.length - this.#o.tailLines);
    }
    run.recent.push(line);
    if (run.recent.length > LAST_ERROR_LINES) run.recent.shift();
    const level = this.#o.lineLevel?.(line) ?? 'debug';
    this.#o.log[level]({ stream }, line);
    if (this.#o.onLine) {
      try {
        this.#o.onLine(stream, line);
      } catch (err) {
        this.#o.log.warn({ err }, 'onLine callback threw');
      }
    }
  }

  /** `reason` followed by the run's recent lines, redacted: the lastError of a dying run. */
  describe(reason: string, run: { recent: readonly string[] }): string {
    const text = run.recent.length > 0 ? `${reason}\n${run.recent.join('\n')}` : reason;
    return this.#o.redactor.redact(text);
  }
}
