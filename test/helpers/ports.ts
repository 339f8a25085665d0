import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import type { EnginePorts } from '../../server/src/engines/ports.js';

/**
 * Ports are taken below the kernel's ephemeral range (32768–60999 here): a port the OS hands out
 * for "port 0" is also what it hands to outgoing connections, so on a busy machine a client socket
 * could take it between our check and the engine's bind (seen in CI: go2rtc's WebRTC TCP listener
 * missing while its UDP one was there). Random, so parallel test processes rarely pick alike.
 */
const LOW = 20_000;
const HIGH = 32_700;
const handedOut = new Set<number>();

function tcpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, '0.0.0.0', () => srv.close(() => resolve(true)));
  });
}

function udpFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createSocket('udp4');
    sock.unref();
    sock.once('error', () => {
      sock.close();
      resolve(false);
    });
    sock.bind(port, '0.0.0.0', () => sock.close(() => resolve(true)));
  });
}

/** A port free for TCP and UDP on every address right now, outside the ephemeral range. */
export async function freePort(): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = LOW + Math.floor(Math.random() * (HIGH - LOW));
    if (handedOut.has(port)) continue;
    if ((await tcpFree(port)) && (await udpFree(port))) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no free port found between ${LOW} and ${HIGH}`);
}

/** n distinct free ports. */
export async function freePorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < n) ports.add(await freePort());
  return [...ports];
}

export async function freeEnginePorts(): Promise<EnginePorts> {
  const [go2rtcApi, go2rtcRtsp, webrtc, mediamtxApi, mediamtxRtsp, mediamtxPlayback, mediamtxHls] = (await freePorts(
    7,
  )) as [number, number, number, number, number, number, number];
  return { go2rtcApi, go2rtcRtsp, webrtc, mediamtxApi, mediamtxRtsp, mediamtxPlayback, mediamtxHls };
}
