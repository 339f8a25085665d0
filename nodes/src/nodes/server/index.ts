/**
 * `camstack-server`, the config node: where Camstack is (its direct API port) and the token. It
 * owns the one {@link CamstackClient} and {@link ClipWatcher} that every node using it shares, and
 * closes both on redeploy. The editor's admin route that fills the camera dropdowns is in
 * `cameras-route.ts`.
 */
import { CamstackClient, CamstackError } from '../../client';
import { ClipWatcher } from '../../clips';
import { DEFAULT_BASE_URL } from '../../constants';
import type { Node, NodeAPI, NodeDef } from '../../red';
import { asError } from '../../status';
import { describe } from '../../validate';
import { registerCamerasRoute } from './cameras-route';

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
      this.configError = asError(err).message;
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

  registerCamerasRoute(RED, (id) => {
    const found = RED.nodes.getNode(id);
    return isServerNode(found) ? found : null;
  });
}
