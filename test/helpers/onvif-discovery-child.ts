// Run by test/integration/onvif-discovery.test.ts inside a network namespace of its own (unshare -rn:
// only a loopback interface, with multicast on and the multicast range routed to it). Starts the
// oxvif mock as a discoverable camera, probes by multicast and by unicast, prints what was found.
import { spawn } from 'node:child_process';
import { probe } from '../../server/src/onvif/discovery.js';

const [bin, name] = process.argv.slice(2) as [string, string];
const mock = spawn(bin, ['18080', '--discoverable', name], { stdio: ['ignore', 'pipe', 'inherit'] });
await new Promise<void>((resolve, reject) => {
  let out = '';
  mock.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
    if (out.includes('listening ')) resolve();
  });
  mock.once('exit', (code) => reject(new Error(`the mock exited with ${code}`)));
});
try {
  // Loopback named as the interface, and the default (no interface but loopback: the route decides).
  const multicast = await probe({ timeoutMs: 1_500, multicastInterface: '127.0.0.1' });
  const multicastDefault = await probe({ timeoutMs: 1_500 });
  const unicast = await probe({ address: '127.0.0.1', timeoutMs: 1_500 });
  process.stdout.write(`${JSON.stringify({ multicast, multicastDefault, unicast })}\n`);
} finally {
  mock.kill('SIGTERM');
}
