/**
 * The Supervisor's ingress proxy, as the add-on sees it: a container at 172.30.32.2 on the test's
 * Supervisor-like network that forwards every request, streams and WebSocket upgrades included,
 * to the add-on's ingress port, adding the headers Home Assistant adds (`X-Ingress-Path`,
 * `X-Remote-User-*`, `X-Forwarded-For`). Plain JavaScript with no dependency: it runs under the
 * add-on image's own Node (`docker run --entrypoint node … /proxy/ingress-proxy.mjs`).
 *
 * Env: TARGET (e.g. http://172.30.32.30:8099), PORT (default 8080).
 */
import { createServer, request } from 'node:http';
import { connect } from 'node:net';

const target = new URL(process.env.TARGET ?? 'http://127.0.0.1:8099');
const port = Number(process.env.PORT ?? 8080);
const INGRESS_PATH = '/api/hassio_ingress/camstack-test-token';

function forwardedHeaders(req) {
  return {
    ...req.headers,
    host: target.host,
    'x-ingress-path': INGRESS_PATH,
    'x-forwarded-for': req.socket.remoteAddress ?? '',
    'x-remote-user-id': 'test-user-id',
    'x-remote-user-name': 'tester',
    'x-remote-user-display-name': 'Image Tester',
  };
}

const server = createServer((req, res) => {
  const upstream = request(
    { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: forwardedHeaders(req) },
    (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    },
  );
  upstream.on('error', (err) => {
    if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
    res.end(`ingress proxy: ${err.message}`);
  });
  res.on('close', () => upstream.destroy());
  req.pipe(upstream);
});

// WebSocket (and any other upgrade): replay the request head, then pipe both ways.
server.on('upgrade', (req, socket, head) => {
  const up = connect(Number(target.port), target.hostname, () => {
    const headers = forwardedHeaders(req);
    const lines = [`${req.method} ${req.url} HTTP/1.1`];
    for (const [name, value] of Object.entries(headers)) {
      for (const v of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${v}`);
    }
    up.write(`${lines.join('\r\n')}\r\n\r\n`);
    if (head.length > 0) up.write(head);
    up.pipe(socket);
    socket.pipe(up);
  });
  const close = () => {
    up.destroy();
    socket.destroy();
  };
  up.on('error', close);
  socket.on('error', close);
  up.on('close', close);
  socket.on('close', close);
});

server.listen(port, '0.0.0.0', () => {
  process.stdout.write(`ingress proxy on :${port} -> ${target.href}\n`);
});
process.on('SIGTERM', () => process.exit(0));
