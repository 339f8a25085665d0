// Run by test/integration/onvif.test.ts in its own process: subscribe to the mock at argv[2],
// stop() at the first event, and print what happened. The process must then exit by itself —
// proof that stop() left no timer, socket or pending pull behind.
import { OnvifClient } from '../../server/src/onvif/index.js';

const deviceUrl = process.argv[2] as string;
const client = new OnvifClient({ host: '127.0.0.1', deviceUrl });
let stopping = false;
const sub = client.eventSubscription({
  minPullIntervalMs: 200,
  onEvent: () => {
    if (stopping) return;
    stopping = true;
    const t0 = Date.now();
    void sub.stop().then(() => {
      process.stdout.write(`${JSON.stringify({ stopped: true, stopMs: Date.now() - t0, status: sub.status.state })}\n`);
    });
  },
});
sub.start();
