/**
 * A transparent HTTP proxy in front of Camstack's direct port, for the Node-RED tests: it records
 * every request (so a test proves that a rejected message sent nothing), counts the requests
 * still open (so a test proves a closed node left no stream or subscription behind), and can cut
 * every connection or refuse new ones (a network outage, without restarting Camstack).
 * Requests and responses pass through unchanged, streamed.
 */
import { createServer, request, type Server } from 'node:http';
import type { Socket } from 'node:net';

export interface SeenRequest {
  method: string;
  path: string;
  authorization: string | undefined;
  /** The request body as text (its first 64 KiB), so a test can check what a node sent. */
  body: string;
}

export class CamstackProxy {
  readonly requests: SeenRequest[] = [];
  readonly #targetPort: number;
  readonly #sockets = new Set<Socket>();
  readonly #openPaths = new Map<number, string>();
  #seq = 0;
  #open = 0;
  #server: Server | null = null;
  port = 0;

  constructor(targetPort: number) {
    this.#targetPort = targetPort;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Requests whose response has not ended: streams and subscriptions in progress. */
  get openRequests(): number {
    return this.#open;
  }

  /** Method and path of every request still open (for a failing test's message). */
  get openPaths(): string[] {
    return [...this.#openPaths.values()];
  }

  /** Requests seen so far whose path starts with `prefix`. */
  seen(prefix = '/'): SeenRequest[] {
    return this.requests.filter((r) => r.path.startsWith(prefix));
  }

  async start(port = 0): Promise<void> {
    const server = createServer((req, res) => {
      const seen: SeenRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        authorization: req.headers.authorization,
        body: '',
      };
      this.requests.push(seen);
      req.on('data', (chunk: Buffer) => {
        if (seen.body.length < 65_536) seen.body += chunk.toString('utf8');
      });
      this.#open += 1;
      const seq = ++this.#seq;
      this.#openPaths.set(seq, `${req.method ?? ''} ${req.url ?? ''}`);
      let counted = true;
      const finish = () => {
        if (counted) this.#open -= 1;
        counted = false;
        this.#openPaths.delete(seq);
      };
      res.once('close', finish);
      const upstream = request(
        { host: '127.0.0.1', port: this.#targetPort, method: req.method, path: req.url, headers: req.headers },
        (ures) => {
          res.writeHead(ures.statusCode ?? 502, ures.headers);
          ures.pipe(res);
          ures.once('error', () => res.destroy());
        },
      );
      upstream.once('error', () => res.destroy());
      res.once('close', () => upstream.destroy());
      req.pipe(upstream);
    });
    server.keepAliveTimeout = 2000;
    server.on('connection', (socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    this.port = typeof address === 'object' && address ? address.port : port;
    this.#server = server;
  }

  /** Cuts every open connection; new ones are still accepted. */
  dropConnections(): void {
    for (const s of this.#sockets) s.destroy();
  }

  /** An outage: stops listening and cuts every connection. `start(proxy.port)` ends it. */
  async down(): Promise<void> {
    const server = this.#server;
    this.#server = null;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    this.dropConnections();
    await closed;
  }

  async stop(): Promise<void> {
    await this.down();
  }
}
