/**
 * Errors the services throw, in their own words: what went wrong (`kind`), a stable `code`, a
 * message a person understands and the fields at fault. They know nothing of HTTP: the API maps
 * each kind to a status (http/errors.ts), MQTT and Home Assistant log the message.
 */

export type DomainErrorKind =
  /** The request itself is wrong (a field out of range, a bad date). */
  | 'invalid'
  /** What it names does not exist (a camera, a recording, an open clip). */
  | 'not_found'
  /** It exists but is in the wrong state (protected, still recording, disabled, taken). */
  | 'conflict'
  /** Too many of these at once; try again later. */
  | 'busy'
  /** The engines or the camera could not do it (a clip that could not be cut). */
  | 'failed'
  /** Not now: shutting down, an engine is not running. */
  | 'unavailable'
  /** A fault of Camstack itself. */
  | 'internal';

export interface DomainProblem {
  /** The offending field as the caller named it: `source`, `recording.retainDays`, `rid`. */
  field: string;
  message: string;
}

export class DomainError extends Error {
  readonly kind: DomainErrorKind;
  readonly code: string;
  readonly problems: readonly DomainProblem[];

  constructor(kind: DomainErrorKind, code: string, message: string, problems: readonly DomainProblem[] = []) {
    super(message);
    this.name = 'DomainError';
    this.kind = kind;
    this.code = code;
    this.problems = problems;
  }
}

/** Problems as one line: `source must be a URL; id is taken`. */
export function summarizeProblems(problems: readonly DomainProblem[]): string {
  return problems.map((p) => (p.field === '' ? p.message : `${p.field} ${p.message}`)).join('; ');
}
