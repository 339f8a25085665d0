import { createServer } from 'node:net';
import type { EnginePorts } from '../../server/src/engines/ports.js';

/** A TCP port free on 127.0.0.1 right now (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** n distinct free ports. */
export async function freePorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < n) ports.add(await freePort());
  return [...ports];
}

export async function freeEnginePorts(): Promise<EnginePorts> {
  const [go2rtcApi, go2rtcRtsp, webrtc, mediamtxApi, mediamtxRtsp, mediamtxPlayback] = (await freePorts(6)) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  return { go2rtcApi, go2rtcRtsp, webrtc, mediamtxApi, mediamtxRtsp, mediamtxPlayback };
}
