/** The editor's admin route of the camstack-server node: the cameras for its dropdowns. */
import { CamstackClient, CamstackError, normalizeBaseUrl } from '../../client';
import type { AdminRequest, AdminResponse, NodeAPI } from '../../red';
import type { ServerNode } from './index';

/** The deployed camstack-server node with this id, if any. */
export type FindServer = (id: string) => ServerNode | null;

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
async function listCameras(find: FindServer, req: AdminRequest, res: AdminResponse): Promise<void> {
  const id = req.params.server ?? '';
  const url = typeof req.query.url === 'string' && req.query.url.trim() !== '' ? req.query.url.trim() : undefined;
  const token = req.get('x-camstack-token') || undefined;
  const deployed = find(id);
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

export function registerCamerasRoute(RED: NodeAPI, find: FindServer): void {
  RED.httpAdmin.get('/camstack/:server/cameras', RED.auth.needsPermission('camstack.read'), (req, res) => {
    void listCameras(find, req, res);
  });
}
