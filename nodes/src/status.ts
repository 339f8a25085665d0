/**
 * The one status and error helper of every node. A node shows what it is doing under itself
 * through a {@link Status} (five looks: idle, busy, active, ok, failed; the text cut to fit), and
 * its input handler only throws: {@link onInput} turns a throw into a red status with a few words
 * and `done(err)` with the whole message (debug sidebar, Catch nodes). Errors outside a message
 * (at deploy) go through {@link Status.report}.
 */
import { CamstackError } from './client';
import type { DoneFn, Node, NodeMessage, NodeStatus, SendFn } from './red';
import { ValidationError } from './validate';

/** Status text fits under a node: about 30 characters. */
export function short(text: string, max = 32): string {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
}

/** A few words for a node's status; the full message goes to the debug sidebar and Catch nodes. */
export function shortReason(err: unknown): string {
  if (err instanceof ValidationError) return `invalid ${err.field}`;
  if (err instanceof CamstackError) {
    if (err.status === 401) return 'token refused (401)';
    if (err.status === 429) return 'rate limited (429)';
    if (err.code === 'unreachable') return 'Camstack unreachable';
    if (err.code === 'timeout') return 'no answer (timeout)';
  }
  return err instanceof Error ? err.message.replace(/^Camstack: /, '') : String(err);
}

/** An Error for `done(err)`: what was thrown, or a wrapper of a non-Error. */
export function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/**
 * The looks a status can have: `idle` (grey ring: nothing to do), `busy` (yellow ring: starting,
 * connecting, retrying), `active` (blue dot: something runs, e.g. a clip records), `ok` (green
 * dot: done, connected, warm), `failed` (red ring).
 */
export type StatusLook = 'idle' | 'busy' | 'active' | 'ok' | 'failed';

const LOOKS: Record<StatusLook, Required<Omit<NodeStatus, 'text'>>> = {
  idle: { fill: 'grey', shape: 'ring' },
  busy: { fill: 'yellow', shape: 'ring' },
  active: { fill: 'blue', shape: 'dot' },
  ok: { fill: 'green', shape: 'dot' },
  failed: { fill: 'red', shape: 'ring' },
};

/** The status under one node. */
export class Status {
  readonly #node: Pick<Node, 'status' | 'error'>;

  constructor(node: Pick<Node, 'status' | 'error'>) {
    this.#node = node;
  }

  /** Shows `text` (cut to `max` characters) with the given look. */
  show(look: StatusLook, text: string, max = 32): void {
    this.#node.status({ ...LOOKS[look], text: short(text, max) });
  }

  idle(text: string): void {
    this.show('idle', text);
  }

  busy(text: string, max?: number): void {
    this.show('busy', text, max);
  }

  active(text: string): void {
    this.show('active', text);
  }

  ok(text: string): void {
    this.show('ok', text);
  }

  /** A red ring with a few words on `err` ("invalid camera", "token refused (401)", …). */
  failed(err: unknown, max?: number): void {
    this.show('failed', shortReason(err), max);
  }

  /** Fails a message: a red ring with a few words, `done(err)` with the whole message. */
  failMessage(err: unknown, done: DoneFn): void {
    this.failed(err);
    done(asError(err));
  }

  /** A red ring and the error in the log: for a failure outside a message (at deploy). */
  report(err: unknown): void {
    this.failed(err);
    this.#node.error(asError(err).message);
  }

  /** No status (a closed node). */
  clear(): void {
    this.#node.status({});
  }
}

export type InputHandler = (msg: NodeMessage, send: SendFn, done: DoneFn) => Promise<void>;

/**
 * Registers `handler` for the node's messages. What it throws fails the message: a red status
 * and `done(err)`, unless `closed()` says the node is closing (an aborted request is no failure).
 */
export function onInput(node: Node, status: Status, handler: InputHandler, closed: () => boolean = () => false): void {
  node.on('input', (msg, send, done) => {
    handler(msg, send, done).catch((err: unknown) => {
      if (closed()) return;
      status.failMessage(err, done);
    });
  });
}
