/** The part of node-red-node-test-helper (no published types for 0.3.6) the node tests use. */
declare module 'node-red-node-test-helper' {
  import type { EventEmitter } from 'node:events';

  /** A sinon spy call, as the helper emits it with `call:<method>`. */
  export interface SpyCall {
    args: unknown[];
  }

  export interface TestNode extends EventEmitter {
    id: string;
    type: string;
    receive(msg: Record<string, unknown>): void;
    credentials?: Record<string, unknown>;
    [key: string]: unknown;
  }

  export interface AdminResponse {
    status: number;
    body: unknown;
  }

  export interface AdminTest extends PromiseLike<AdminResponse> {
    set(name: string, value: string): AdminTest;
    query(query: Record<string, string>): AdminTest;
  }

  interface NodeTestHelper {
    init(runtimePath?: string, settings?: Record<string, unknown>): void;
    settings(settings?: Record<string, unknown>): Record<string, unknown>;
    load(
      nodes: unknown,
      flow: Record<string, unknown>[],
      credentials?: Record<string, Record<string, string>>,
    ): Promise<void>;
    unload(): Promise<void>;
    getNode(id: string): TestNode | null;
    setFlows(
      flow: Record<string, unknown>[],
      type?: string,
      credentials?: Record<string, Record<string, string>>,
    ): Promise<void>;
    startServer(): Promise<void>;
    stopServer(): Promise<void>;
    request(): { get(path: string): AdminTest };
  }

  const helper: NodeTestHelper;
  export default helper;
}
