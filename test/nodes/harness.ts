/**
 * Shared set-up of the Node-RED node tests: the real Camstack server (its own process, real
 * engines) with its token-protected direct API port, a synthetic camera added through the API,
 * the transparent proxy the nodes talk through, and helpers to build test flows and wait for
 * what the nodes send, report and raise.
 */
import assert from 'node:assert/strict';
import helper, { type SpyCall, type TestNode } from 'node-red-node-test-helper';
import registerEvents from '../../nodes/src/camstack-events.js';
import registerRecord from '../../nodes/src/camstack-record.js';
import registerServer from '../../nodes/src/camstack-server.js';
import registerSnapshot from '../../nodes/src/camstack-snapshot.js';
import registerStream from '../../nodes/src/camstack-stream.js';
import { SyntheticCameraServer } from '../../scripts/synthetic-cameras.js';
import { freePorts } from '../helpers/ports.js';
import { waitUntil } from '../helpers/processes.js';
import { type ServerProcess, startServerProcess } from '../helpers/server-process.js';
import { CamstackProxy } from './proxy.js';

export { helper };
export const NODE_MODULES = [registerServer, registerRecord, registerSnapshot, registerStream, registerEvents];
export const TOKEN = 'node-red-test-token-0123456789';
export const CAMERA = 'porch';

export interface Camstack {
  sp: ServerProcess;
  sim: SyntheticCameraServer;
  /** The direct API port itself. */
  directUrl: string;
  /** The proxy in front of it, which the nodes use. */
  proxy: CamstackProxy;
  /** A JSON request to the direct API with the token. */
  api: <T>(method: string, path: string, body?: unknown) => Promise<{ status: number; body: T }>;
  stop: () => Promise<void>;
}

export async function startCamstack(): Promise<Camstack> {
  const [rtspPort, apiPort, directPort] = (await freePorts(3)) as [number, number, number];
  const sim = new SyntheticCameraServer({ rtspPort, apiPort });
  await sim.start();
  let sp: ServerProcess | null = null;
  let proxy: CamstackProxy | null = null;
  try {
    await sim.addCamera({ name: 'cam_a', width: 320, height: 240, fps: 10, audio: false });
    sp = await startServerProcess({
      options: { api_port: directPort, api_token: TOKEN, on_demand_grace_seconds: 2 },
      env: { CAMSTACK_STATUS_POLL_MS: '300' },
      waitHealthy: false,
    });
    const server = sp;
    const directUrl = `http://127.0.0.1:${directPort}`;
    // Its own wait, longer than the helper's: a busy CI machine starts the engines slowly.
    await waitUntil(
      async () => {
        if (server.proc.exitCode !== null) throw new Error(`Camstack exited:\n${server.output()}`);
        return fetch(`${directUrl}/api/health/ready`, {
          headers: { authorization: `Bearer ${TOKEN}` },
          signal: AbortSignal.timeout(2000),
        }).then(
          (r) => r.ok,
          () => false,
        );
      },
      120_000,
      'Camstack ready on its direct port',
    );
    const api = async <T>(method: string, path: string, body?: unknown) => {
      const res = await fetch(`${directUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${TOKEN}`,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(30_000),
      });
      const text = await res.text();
      return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
    };
    const created = await api('POST', '/api/cameras', { id: CAMERA, name: 'Porch', source: sim.url('cam_a') });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    proxy = new CamstackProxy(directPort);
    await proxy.start();
    const started = { sp, proxy };
    return {
      sp,
      sim,
      directUrl,
      proxy,
      api,
      stop: async () => {
        await started.proxy.stop();
        await started.sp.cleanup();
        await sim.stop();
      },
    };
  } catch (err) {
    await proxy?.stop();
    await sp?.cleanup();
    await sim.stop();
    throw err;
  }
}

/**
 * A flow on one tab: the camstack-server `s1` (URL given), the node under test `n1` wired to the
 * helper node `out`, and a Catch node sending to `caught`.
 */
export function testFlow(node: Record<string, unknown>, baseUrl: string): Record<string, unknown>[] {
  return [
    { id: 'f1', type: 'tab', label: 'camstack test' },
    { id: 's1', type: 'camstack-server', baseUrl, name: 'camstack' },
    // x and y: a node on a tab without them counts as a config node.
    { server: 's1', ...node, id: 'n1', z: 'f1', x: 100, y: 100, wires: [['out']] },
    { id: 'out', type: 'helper', z: 'f1', x: 300, y: 100 },
    { id: 'catch', type: 'catch', z: 'f1', x: 100, y: 200, scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper', z: 'f1', x: 300, y: 200 },
  ];
}

export type Msg = Record<string, unknown>;

/** Everything a node sends, in order, and a way to wait for the next one that matches. */
export class Collector {
  readonly list: Msg[] = [];
  #taken = 0;

  constructor(node: TestNode, event = 'input') {
    node.on(event, (value: unknown) => {
      this.list.push(value as Msg);
    });
  }

  /**
   * The next message (after those already taken) that matches, waiting up to `timeoutMs`.
   * `failFast` is called while waiting and may throw (e.g. when the node raised an error instead).
   */
  async next(timeoutMs = 30_000, match: (m: Msg) => boolean = () => true, failFast?: () => void): Promise<Msg> {
    let found: Msg | undefined;
    await waitUntil(
      () => {
        failFast?.();
        for (let i = this.#taken; i < this.list.length; i++) {
          const m = this.list[i] as Msg;
          if (match(m)) {
            this.#taken = i + 1;
            found = m;
            return true;
          }
        }
        return false;
      },
      timeoutMs,
      'a message from the node',
    );
    return found as Msg;
  }

  /** Nothing more arrives within `ms`. */
  async none(ms: number): Promise<void> {
    const count = this.list.length;
    await new Promise((r) => setTimeout(r, ms));
    assert.equal(this.list.length, count, `no further message, got ${JSON.stringify(this.list.slice(count))}`);
  }
}

/** Every `node.status()` of a node, in order. */
export function statuses(node: TestNode): { fill?: string; shape?: string; text?: string }[] {
  const list: { fill?: string; shape?: string; text?: string }[] = [];
  node.on('call:status', (call: SpyCall) => list.push(call.args[0] as { text?: string }));
  return list;
}

export function mustGet(id: string): TestNode {
  const node = helper.getNode(id);
  assert.ok(node, `node ${id} is loaded`);
  return node;
}

export interface Loaded {
  n1: TestNode;
  out: Collector;
  caught: Collector;
  status: { fill?: string; shape?: string; text?: string }[];
  /** The next output message; fails at once, with its message, if the node raises an error instead. */
  output: (timeoutMs?: number, match?: (m: Msg) => boolean) => Promise<Msg>;
}

/** Loads a one-node flow (see {@link testFlow}) with the token, and collectors on it. */
export async function loadNode(node: Record<string, unknown>, baseUrl: string, token = TOKEN): Promise<Loaded> {
  await helper.load(NODE_MODULES, testFlow(node, baseUrl), { s1: { token } });
  const n1 = mustGet('n1');
  const out = new Collector(mustGet('out'));
  const caught = new Collector(mustGet('caught'));
  const output = (timeoutMs = 30_000, match?: (m: Msg) => boolean) => {
    const seen = caught.list.length;
    return out.next(timeoutMs, match, () => {
      const err = caught.list[seen];
      if (err) throw new Error(`the node raised an error instead of sending: ${caughtMessage(err)}`);
    });
  };
  return { n1, out, caught, status: statuses(n1), output };
}

/** The error a Catch node received, as `msg.error.message`. */
export function caughtMessage(msg: Msg): string {
  const error = msg.error as { message?: string; source?: { type?: string } } | undefined;
  return error?.message ?? '';
}

/** The width and height in a JPEG's SOF marker. */
export function jpegSize(jpeg: Buffer): { width: number; height: number } {
  assert.equal(jpeg.readUInt16BE(0), 0xffd8, 'starts with SOI');
  let i = 2;
  while (i + 9 < jpeg.length) {
    if (jpeg[i] !== 0xff) throw new Error(`bad JPEG marker at ${i}`);
    const marker = jpeg[i + 1] as number;
    const length = jpeg.readUInt16BE(i + 2);
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { height: jpeg.readUInt16BE(i + 5), width: jpeg.readUInt16BE(i + 7) };
    }
    i += 2 + length;
  }
  throw new Error('no SOF marker');
}
