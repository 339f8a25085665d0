/**
 * The part of the Node-RED runtime API this package uses (Node-RED ≥ 3.1), typed here rather than
 * through `@types/node-red`, which trails the runtime and pulls in Express' types.
 */

export type StatusFill = 'red' | 'green' | 'yellow' | 'blue' | 'grey';

export interface NodeStatus {
  fill?: StatusFill;
  shape?: 'ring' | 'dot';
  text?: string;
}

/** A message: `_msgid` and `payload` plus whatever the flow put on it. */
export interface NodeMessage {
  _msgid?: string;
  payload?: unknown;
  topic?: string;
  [key: string]: unknown;
}

export type SendFn = (msg: NodeMessage | null | (NodeMessage | null)[]) => void;
export type DoneFn = (err?: Error) => void;

/** Properties every node definition has in a flow. */
export interface NodeDef {
  id: string;
  type: string;
  name?: string;
  z?: string;
}

/** A runtime node, as `RED.nodes.createNode` leaves `this`. */
export interface Node<TCreds extends object = Record<string, never>> {
  id: string;
  type: string;
  name?: string;
  z?: string;
  credentials: Partial<TCreds>;
  on(event: 'input', listener: (msg: NodeMessage, send: SendFn, done: DoneFn) => void): void;
  on(event: 'close', listener: (removed: boolean, done: () => void) => void): void;
  send(msg: NodeMessage | null | (NodeMessage | null)[]): void;
  status(status: NodeStatus): void;
  log(text: string): void;
  warn(text: string): void;
  /** With a message, the error reaches Catch nodes; without one it is only logged. */
  error(err: unknown, msg?: NodeMessage): void;
  debug(text: string): void;
  trace(text: string): void;
}

/** The slice of Express' request and response the admin route uses. */
export interface AdminRequest {
  params: Record<string, string>;
  query: Record<string, unknown>;
  get(header: string): string | undefined;
}

export interface AdminResponse {
  status(code: number): AdminResponse;
  json(body: unknown): void;
}

export type AdminHandler = (req: AdminRequest, res: AdminResponse, next: (err?: unknown) => void) => void;

export type NodeConstructor<TConfig extends NodeDef> = (this: Node, config: TConfig) => void;

export interface TypeOptions {
  credentials?: Record<string, { type: 'text' | 'password' }>;
  settings?: Record<string, { value: unknown; exportable?: boolean }>;
}

export interface NodeAPI {
  nodes: {
    createNode(node: object, config: NodeDef): void;
    // biome-ignore lint/suspicious/noExplicitAny: each node type has its own config shape; Node-RED calls the constructor with it.
    registerType(type: string, nodeConstructor: (this: any, config: any) => void, options?: TypeOptions): void;
    getNode(id: string): unknown;
  };
  httpAdmin: { get(path: string, ...handlers: AdminHandler[]): void };
  auth: { needsPermission(permission: string): AdminHandler };
  settings: Record<string, unknown>;
  version?: () => string;
}
