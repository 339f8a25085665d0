/**
 * PURE: the log level of a line an engine printed, so its errors reach the add-on log at `warn`
 * instead of hiding at `debug` ("no space left on device", a camera refusing its password).
 *
 * - MediaMTX prints `2026/11/22 03:00:00 ERR [path front] …` (levels DEB, INF, WAR, ERR).
 * - go2rtc prints JSON with `"level":"error"` (zerolog: trace, debug, info, warn, error, fatal).
 * Anything else (FFmpeg, unknown formats) stays `debug`.
 *
 * An offline camera makes MediaMTX repeat the same error every few seconds: `LineLevels` lets the
 * first of a kind through at its level and the repeats of the next `quietMs` at `debug`.
 */

export type LineLevel = 'debug' | 'info' | 'warn' | 'error';

const MEDIAMTX = /^\d{4}\/\d{2}\/\d{2} \d{2}:\d{2}:\d{2} (DEB|INF|WAR|ERR) /;
const GO2RTC_LEVEL = /"level"\s*:\s*"(trace|debug|info|warn|error|fatal|panic)"/;

/** The level an engine meant for the line; info lines stay debug (engines are chatty). */
export function engineLineLevel(line: string): LineLevel {
  const mtx = MEDIAMTX.exec(line);
  if (mtx) return mtx[1] === 'ERR' || mtx[1] === 'WAR' ? 'warn' : 'debug';
  if (line.startsWith('{')) {
    const level = GO2RTC_LEVEL.exec(line)?.[1];
    if (level === 'error' || level === 'fatal' || level === 'panic' || level === 'warn') return 'warn';
  }
  return 'debug';
}

/** The line without what changes between repeats (timestamps, numbers), to recognise a repeat. */
export function lineKind(line: string): string {
  return line
    .replace(/"time"\s*:\s*"[^"]*"/g, '')
    .replace(/\d+/g, '#')
    .slice(0, 300);
}

/** Levels with repeat damping: one instance per process. */
export class LineLevels {
  readonly #quietMs: number;
  readonly #maxKinds: number;
  readonly #seen = new Map<string, number>();

  constructor(opts: { quietMs?: number; maxKinds?: number } = {}) {
    this.#quietMs = opts.quietMs ?? 10 * 60_000;
    this.#maxKinds = opts.maxKinds ?? 200;
  }

  level(line: string, now: number): LineLevel {
    const level = engineLineLevel(line);
    if (level === 'debug') return level;
    const kind = lineKind(line);
    const last = this.#seen.get(kind);
    if (last !== undefined && now - last < this.#quietMs) return 'debug';
    this.#seen.delete(kind);
    this.#seen.set(kind, now);
    // Bounded: the oldest kinds go first (Map keeps insertion order).
    while (this.#seen.size > this.#maxKinds) {
      const oldest = this.#seen.keys().next().value;
      if (oldest === undefined) break;
      this.#seen.delete(oldest);
    }
    return level;
  }
}
