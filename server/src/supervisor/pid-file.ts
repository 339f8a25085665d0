/** `<pidDir>/<safe-name>.pid` holding `{pid, command}` while a child runs (read by reapOrphans). */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../log/logger.js';
import { pidFileName } from './orphans.js';

export class PidFile {
  readonly #dir: string | undefined;
  readonly #path: string | null;
  readonly #command: string;
  readonly #log: Logger;

  /** No `dir`: no pid file (write and remove do nothing). */
  constructor(dir: string | undefined, name: string, command: string, log: Logger) {
    this.#dir = dir;
    this.#path = dir === undefined ? null : join(dir, pidFileName(name));
    this.#command = command;
    this.#log = log;
  }

  write(pid: number): void {
    const path = this.#path;
    if (path === null || this.#dir === undefined) return;
    try {
      mkdirSync(this.#dir, { recursive: true });
      writeFileSync(path, `${JSON.stringify({ pid, command: this.#command })}\n`);
    } catch (err) {
      this.#log.warn({ err, path }, 'could not write pid file');
    }
  }

  remove(): void {
    const path = this.#path;
    if (path === null) return;
    try {
      rmSync(path, { force: true });
    } catch (err) {
      this.#log.warn({ err, path }, 'could not remove pid file');
    }
  }
}
