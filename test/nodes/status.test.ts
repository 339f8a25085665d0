/**
 * The one status and error helper every node uses (`nodes/src/status.ts`): the looks, text cut to
 * fit under a node, and what a failed message does (red status, `done(err)`), without Node-RED.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CamstackError } from '../../nodes/src/client.js';
import type { DoneFn, Node, NodeMessage, NodeStatus, SendFn } from '../../nodes/src/red.js';
import { onInput, Status, short } from '../../nodes/src/status.js';
import { ValidationError } from '../../nodes/src/validate.js';

type InputListener = (msg: NodeMessage, send: SendFn, done: DoneFn) => void;

/** Just enough of a runtime node: what it was told to show and log, and its input listener. */
function fakeNode() {
  const shown: NodeStatus[] = [];
  const logged: unknown[] = [];
  let input: InputListener | null = null;
  const node = {
    status: (s: NodeStatus) => shown.push(s),
    error: (e: unknown) => logged.push(e),
    on: (event: string, listener: InputListener) => {
      if (event === 'input') input = listener;
    },
  } as unknown as Node;
  const receive = (msg: NodeMessage) =>
    new Promise<Error | undefined>((resolve) => {
      assert.ok(input, 'an input listener');
      input(msg, () => {}, resolve);
      // A handler that does not fail calls done itself; these tests only wait for failures.
    });
  return { node, shown, logged, receive };
}

describe('node status and errors', () => {
  it('shows each look with its colour and shape, the text cut to fit', () => {
    const { node, shown } = fakeNode();
    const status = new Status(node);
    status.idle('idle');
    status.busy('porch: connecting…');
    status.active('porch: recording clip_1');
    status.ok('connected');
    status.show('busy', 'x'.repeat(60), 40);
    status.clear();
    assert.deepEqual(shown, [
      { fill: 'grey', shape: 'ring', text: 'idle' },
      { fill: 'yellow', shape: 'ring', text: 'porch: connecting…' },
      { fill: 'blue', shape: 'dot', text: 'porch: recording clip_1' },
      { fill: 'green', shape: 'dot', text: 'connected' },
      { fill: 'yellow', shape: 'ring', text: `${'x'.repeat(39)}…` },
      {},
    ]);
    assert.equal(short('  a \n b  '), 'a b');
  });

  it('says in a few words why: the field, the HTTP status, the connection', () => {
    const { node, shown, logged } = fakeNode();
    const status = new Status(node);
    status.failed(new ValidationError('camera', 'msg.camera must be a camera id'));
    status.failed(new CamstackError('Camstack: refused', { status: 401 }));
    status.failed(new CamstackError('Camstack: connect ECONNREFUSED', { code: 'unreachable' }));
    status.report('no server');
    assert.deepEqual(
      shown.map((s) => [s.fill, s.shape, s.text]),
      [
        ['red', 'ring', 'invalid camera'],
        ['red', 'ring', 'token refused (401)'],
        ['red', 'ring', 'Camstack unreachable'],
        ['red', 'ring', 'no server'],
      ],
    );
    assert.deepEqual(logged, ['no server']);
  });

  it('fails a message whose handler throws: red status, done(err) with the whole message', async () => {
    const { node, shown, receive } = fakeNode();
    onInput(node, new Status(node), async () => {
      throw new ValidationError('width', 'msg.width must be a whole number of pixels from 16 to 3840, got 8');
    });
    const err = await receive({ payload: 1 });
    assert.ok(err instanceof ValidationError);
    assert.match(err.message, /from 16 to 3840/);
    assert.deepEqual(shown.at(-1), { fill: 'red', shape: 'ring', text: 'invalid width' });
  });

  it('keeps quiet about a handler that fails because the node is closing', async () => {
    const { node, shown, receive } = fakeNode();
    let failed = false;
    onInput(
      node,
      new Status(node),
      async () => {
        failed = true;
        throw new CamstackError('the node was closed', { code: 'closed' });
      },
      () => true,
    );
    const outcome = await Promise.race([
      receive({}),
      new Promise<'quiet'>((resolve) => setTimeout(() => resolve('quiet'), 100)),
    ]);
    assert.ok(failed);
    assert.equal(outcome, 'quiet');
    assert.deepEqual(shown, []);
  });
});
