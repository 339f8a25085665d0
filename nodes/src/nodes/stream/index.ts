/**
 * `camstack-stream`: keeps cameras' streams warm, so a snapshot or clip that follows starts from
 * a live stream instead of waking the camera (RTSP handshake plus a keyframe: seconds). While a
 * camera is held, the node reads Camstack's progressive MP4 (`GET /api/cameras/:id/stream.mp4`,
 * copied, never transcoded) and throws the bytes away: Camstack counts it as a viewer, so the
 * camera stays pulled however long its on-demand grace period is. A dropped stream is reopened
 * with backoff until `stop`.
 */
import type { CamstackClient } from '../../client';
import { CamstackError } from '../../client';
import type { DoneFn, Node, NodeAPI, NodeDef, NodeMessage, SendFn } from '../../red';
import { backoffDelay, sleep } from '../../signals';
import { onInput, Status, shortReason } from '../../status';
import { resolveAction, resolveCamera } from '../../validate';
import { serverOf } from '../server';
import { countBytes, type Hold, type HoldState, info, newHold, readOnce, type Waiting } from './hold';

export type { HoldState, StreamInfo } from './hold';

export const STREAM_TYPE = 'camstack-stream';

export type StreamAction = 'start' | 'stop' | 'status';
export const STREAM_ACTIONS: readonly StreamAction[] = ['start', 'stop', 'status'];

export interface StreamDef extends NodeDef {
  server?: string;
  camera?: string;
  action?: StreamAction;
  /** Hold the node's camera from deploy on, without a message. */
  autoStart?: boolean;
}

export function registerStream(RED: NodeAPI): void {
  function CamstackStreamNode(this: Node, config: StreamDef): void {
    RED.nodes.createNode(this, config);
    const status = new Status(this);
    const holds = new Map<string, Hold>();
    let closed = false;

    const showStatus = () => {
      if (closed) return;
      const all = [...holds.values()];
      if (all.length === 0) {
        status.idle('idle');
        return;
      }
      if (all.length > 1) {
        const warm = all.filter((h) => h.state === 'warm').length;
        status.show(warm === all.length ? 'ok' : 'busy', `warm ${warm}/${all.length} cameras`);
        return;
      }
      const [h] = all as [Hold];
      if (h.state === 'warm') {
        const rate =
          h.kbps === null ? '' : ` ${h.kbps >= 1000 ? `${(h.kbps / 1000).toFixed(1)} Mb/s` : `${h.kbps} kb/s`}`;
        status.ok(`${h.camera}: warm${rate}`);
      } else if (h.state === 'connecting') {
        status.busy(`${h.camera}: connecting…`);
      } else {
        status.busy(`${h.camera}: retrying (${h.reason ?? ''})`, 40);
      }
    };

    const emit = (hold: Hold, state: HoldState = hold.state) => {
      if (!closed) this.send({ topic: hold.camera, camera: hold.camera, payload: info(hold, state) });
    };

    const becameWarm = (hold: Hold) => {
      const recovered = hold.state === 'retrying';
      hold.state = 'warm';
      hold.warmSince = Date.now();
      hold.attempt = 0;
      hold.error = null;
      hold.windowStart = Date.now();
      hold.windowBytes = 0;
      for (const w of hold.waiting.splice(0)) {
        w.msg.payload = info(hold);
        w.msg.camera = hold.camera;
        w.send(w.msg);
        w.done();
      }
      if (recovered) emit(hold);
      showStatus();
    };

    const drop = (hold: Hold, error: CamstackError) => {
      if (holds.get(hold.camera) === hold) holds.delete(hold.camera);
      hold.error = error.message;
      const waiting = hold.waiting.splice(0);
      for (const w of waiting) w.done(error);
      if (waiting.length === 0) {
        // It was warm once and cannot come back (camera removed or disabled): say so.
        emit(hold, 'stopped');
        this.error(error, { topic: hold.camera, camera: hold.camera, payload: info(hold, 'stopped') });
      }
      if (holds.size === 0 && !closed) status.failed(error);
      else showStatus();
    };

    const run = async (hold: Hold, client: CamstackClient): Promise<void> => {
      while (!hold.ctrl.signal.aborted) {
        let error: CamstackError;
        try {
          await readOnce(hold, client, (n) => {
            if (countBytes(hold, n)) showStatus();
            if (hold.state !== 'warm') becameWarm(hold);
          });
          return; // unreachable: readOnce always rejects
        } catch (err) {
          error = err instanceof CamstackError ? err : new CamstackError(String(err));
        }
        if (hold.ctrl.signal.aborted) return;
        // Never warm for the messages that asked, or the camera is gone: give up.
        const permanent =
          error.status === 400 || error.status === 404 || error.status === 409 || error.code === 'closed';
        if (hold.waiting.length > 0 || permanent || client.closed) {
          drop(hold, error);
          return;
        }
        hold.error = error.message;
        hold.reason = shortReason(error);
        if (hold.state === 'warm') {
          hold.state = 'retrying';
          hold.kbps = null;
          emit(hold);
          this.warn(`${hold.camera}: the stream dropped (${error.message}); reconnecting`);
        }
        hold.state = 'retrying';
        showStatus();
        hold.attempt += 1;
        try {
          await sleep(backoffDelay(hold.attempt, 1000, 30_000), hold.ctrl.signal);
        } catch {
          return;
        }
      }
    };

    const start = (camera: string, client: CamstackClient, waiting: Waiting | null) => {
      const existing = holds.get(camera);
      if (existing) {
        if (waiting && existing.state === 'warm') {
          waiting.msg.payload = info(existing);
          waiting.msg.camera = camera;
          waiting.send(waiting.msg);
          waiting.done();
        } else if (waiting) {
          existing.waiting.push(waiting);
        }
        return;
      }
      const hold = newHold(camera, waiting);
      holds.set(camera, hold);
      showStatus();
      hold.loop = run(hold, client);
    };

    const stop = async (camera: string): Promise<Hold | null> => {
      const hold = holds.get(camera);
      if (!hold) return null;
      holds.delete(camera);
      hold.ctrl.abort(new CamstackError('stopped', { code: 'stopped' }));
      for (const w of hold.waiting.splice(0)) w.done(new Error(`${camera}: stopped before the stream was warm`));
      await hold.loop;
      showStatus();
      return hold;
    };

    const handle = async (msg: NodeMessage, send: SendFn, done: DoneFn): Promise<void> => {
      const camera = resolveCamera(msg.camera, config.camera);
      const action = resolveAction(msg.action, msg.payload, config.action ?? 'start', STREAM_ACTIONS);
      if (action === 'stop') {
        const hold = await stop(camera);
        msg.payload = hold
          ? info(hold, 'stopped')
          : { camera, state: 'stopped', warmSince: null, kbps: null, bytes: 0, error: null };
        msg.camera = camera;
        send(msg);
        done();
        return;
      }
      if (action === 'status') {
        const hold = holds.get(camera);
        msg.payload = hold
          ? info(hold)
          : { camera, state: 'stopped', warmSince: null, kbps: null, bytes: 0, error: null };
        msg.camera = camera;
        send(msg);
        done();
        return;
      }
      start(camera, serverOf(RED, config.server).client, { msg, send, done });
    };

    onInput(this, status, handle);
    this.on('close', (_removed, done) => {
      closed = true;
      const all = [...holds.values()];
      holds.clear();
      for (const h of all) {
        h.ctrl.abort(new CamstackError('the node was closed', { code: 'closed' }));
        h.waiting.splice(0);
      }
      status.clear();
      void Promise.allSettled(all.map((h) => h.loop)).then(() => done());
    });

    if (config.autoStart) {
      try {
        const camera = resolveCamera(undefined, config.camera);
        start(camera, serverOf(RED, config.server).client, null);
      } catch (err) {
        status.report(err);
      }
    }
  }

  RED.nodes.registerType(STREAM_TYPE, CamstackStreamNode);
}
