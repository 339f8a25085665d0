/**
 * `camstack-server`, the config node: where Camstack is (its direct API port) and the token. It
 * owns the one {@link CamstackClient} and {@link ClipWatcher} that every node using it shares, and
 * closes both on redeploy. Also the editor's admin route that fills the camera dropdowns.
 */
import { CamstackClient, CamstackError, normalizeBaseUrl } from './client';
import { ClipWatcher } from './clips';
import { DEFAULT_BASE_URL } from './constants';
import type { AdminRequest, AdminResponse, Node, NodeAPI, NodeDef, NodeStatus } from './red';
import { describe, ValidationError } from './validate';

export const SERVER_TYPE = 'camstack-server';

export interface ServerDef extends NodeDef {
  baseUrl?: string;
}

export interface ServerCredentials {
  token: string;
}

export interface ServerNode extends Node<ServerCredentials> {
  baseUrl: string;
  /** Null when the node's URL is unusable; `configError` says why. */
  client: CamstackClient | null;
  clips: ClipWatcher | null;
  configError: string | null;
}

function isServerNode(value: unknown): value is ServerNode {
  return typeof value === 'object' && value !== null && (value as { type?: unknown }).type === SERVER_TYPE;
}

/**
 * The shared client of the camstack-server a node refers to; throws a message that says what to
 * fix when there is none.
 */
export function serverOf(
  RED: NodeAPI,
  serverId: string | undefined,
): ServerNode & { client: CamstackClient; clips: ClipWatcher } {
  const server = serverId ? RED.nodes.getNode(serverId) : null;
  if (!isServerNode(server)) {
    throw new CamstackError('no Camstack server: choose a camstack-server in the node', { code: 'no_server' });
  }
  if (!server.client || !server.clips) {
    throw new CamstackError(server.configError ?? 'the camstack-server node is not usable', { code: 'bad_config' });
  }
  if (server.client.closed) throw new CamstackError('the camstack-server node was closed', { code: 'closed' });
  return server as ServerNode & { client: CamstackClient; clips: ClipWatcher };
}

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

export function errorStatus(err: unknown): NodeStatus {
  return { fill: 'red', shape: 'ring', text: short(shortReason(err)) };
}

/** An Error for `done(err)`: what was thrown, or a wrapper of a non-Error. */
export function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

function sameUrl(a: string, b: string): boolean {
  try {
    return normalizeBaseUrl(a) === normalizeBaseUrl(b);
  } catch {
    return false;
  }
}

/**
 * `GET /camstack/:server/cameras` (admin API, permission `camstack.read`): the cameras of a
 * camstack-server, for the editor's dropdowns. A deployed config node answers with its own client
 * and token. For one not deployed yet (or being edited), the editor passes `?url=` and the token
 * it has in the `X-Camstack-Token` header; the deployed token is never sent to another URL.
 */
async function listCameras(RED: NodeAPI, req: AdminRequest, res: AdminResponse): Promise<void> {
  const id = req.params.server ?? '';
  const url = typeof req.query.url === 'string' && req.query.url.trim() !== '' ? req.query.url.trim() : undefined;
  const token = req.get('x-camstack-token') || undefined;
  const found = RED.nodes.getNode(id);
  const deployed = isServerNode(found) ? found : null;
  let client: CamstackClient | null = null;
  let temporary = false;
  try {
    if (token !== undefined) {
      const baseUrl = url ?? deployed?.baseUrl;
      if (!baseUrl) {
        res.status(400).json({ error: 'enter the Camstack URL' });
        return;
      }
      client = new CamstackClient({ baseUrl, token, timeoutMs: 10_000 });
      temporary = true;
    } else if (deployed?.client && (url === undefined || sameUrl(url, deployed.client.baseUrl))) {
      client = deployed.client;
    } else if (deployed && !deployed.client) {
      res.status(400).json({ error: deployed.configError ?? 'the camstack-server node is not usable' });
      return;
    } else {
      res.status(409).json({
        error: deployed
          ? 'the URL changed: enter the token again (or deploy) to list the cameras'
          : 'this Camstack server is not deployed yet: enter its token (or deploy) to list the cameras',
      });
      return;
    }
    const cameras = await client.listCameras();
    res.json(
      cameras.map((c) => ({
        id: c.id,
        name: typeof c.name === 'string' ? c.name : c.id,
        enabled: c.enabled !== false,
      })),
    );
  } catch (err) {
    const status = err instanceof CamstackError && (err.code === 'bad_url' || err.code === 'bad_token') ? 400 : 502;
    res.status(status).json({ error: err instanceof Error ? err.message : String(err) });
  } finally {
    if (temporary) client?.close();
  }
}

export function registerServer(RED: NodeAPI): void {
  function CamstackServerNode(this: ServerNode, config: ServerDef): void {
    RED.nodes.createNode(this, config);
    // A hand-edited or imported flow may hold anything here: only text is a URL.
    const rawUrl: unknown = config.baseUrl;
    this.baseUrl = (typeof rawUrl === 'string' ? rawUrl.trim() : '') || DEFAULT_BASE_URL;
    this.client = null;
    this.clips = null;
    this.configError = null;
    try {
      if (rawUrl !== undefined && rawUrl !== null && typeof rawUrl !== 'string') {
        throw new CamstackError(`the Camstack URL must be text like http://host:8098, got ${describe(rawUrl)}`, {
          code: 'bad_url',
        });
      }
      this.client = new CamstackClient({ baseUrl: this.baseUrl, token: this.credentials.token ?? '' });
      this.clips = new ClipWatcher(this.client);
      if (!this.credentials.token) {
        this.warn("no token: Camstack's direct API port refuses requests without the add-on's api_token");
      }
    } catch (err) {
      this.configError = err instanceof Error ? err.message : String(err);
      this.error(this.configError);
    }
    this.on('close', (_removed, done) => {
      const clips = this.clips;
      const client = this.client;
      void (async () => {
        try {
          await clips?.close();
        } finally {
          client?.close();
          done();
        }
      })();
    });
  }

  RED.nodes.registerType(SERVER_TYPE, CamstackServerNode, {
    credentials: { token: { type: 'password' } },
    settings: { camstackServerDefaultUrl: { value: DEFAULT_BASE_URL, exportable: true } },
  });

  RED.httpAdmin.get('/camstack/:server/cameras', RED.auth.needsPermission('camstack.read'), (req, res) => {
    void listCameras(RED, req, res);
  });
}
