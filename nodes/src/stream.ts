/**
 * `camstack-stream`: keeps cameras' streams warm, so a snapshot or clip that follows starts from
 * a live stream instead of waking the camera (RTSP handshake plus a keyframe: seconds). While a
 * camera is held, the node reads Camstack's progressive MP4 (`GET /api/cameras/:id/stream.mp4`,
 * copied, never transcoded) and throws the bytes away: Camstack counts it as a viewer, so the
 * camera stays pulled however long its on-demand grace period is. A dropped stream is reopened
 * with backoff until `stop`.
 */
import type { CamstackClient } from './client';
import { CamstackError } from './client';
import type { DoneFn, Node, NodeAPI, NodeDef, NodeMessage, SendFn } from './red';
import { asError, errorStatus, serverOf, short, shortReason } from './server';
import { backoffDelay, sleep, TimeoutError } from './signals';
import { resolveAction, resolveCamera } from './validate';

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

export type HoldState = 'connecting' | 'warm' | 'retrying' | 'stopped';

/** `msg.payload` of everything the node sends. */
export interface StreamInfo {
  camera: string;
  state: HoldState;
  /** When the stream last became warm (ISO 8601). */
  warmSince: string | null;
  /** Bitrate over the last few seconds, kbit/s. */
  kbps: number | null;
  /** Bytes read since the hold began. */
  bytes: number;
  error: string | null;
}

interface Waiting {
  msg: NodeMessage;
  send: SendFn;
  done: DoneFn;
}

interface Hold {
  camera: string;
  ctrl: AbortController;
  state: HoldState;
  warmSince: number | null;
  bytes: number;
  windowBytes: number;
  windowStart: number;
  kbps: number | null;
  attempt: number;
  waiting: Waiting[];
  error: string | null;
  /** A few words on the last failure, for the status. */
  reason: string | null;
  loop: Promise<void> | null;
}

/** No media for this long on a fresh connection, or in the middle of one: reconnect. */
const FIRST_BYTES_MS = 30_000;
const IDLE_MS = 20_000;
const RATE_WINDOW_MS = 5_000;

export function registerStream(RED: NodeAPI): void {
  function CamstackStreamNode(this: Node, config: StreamDef): void {
    RED.nodes.createNode(this, config);
    const holds = new Map<string, Hold>();
    let closed = false;

    const info = (hold: Hold, state: HoldState = hold.state): StreamInfo => ({
      camera: hold.camera,
      state,
      warmSince: hold.warmSince === null ? null : new Date(hold.warmSince).toISOString(),
      kbps: hold.kbps,
      bytes: hold.bytes,
      error: hold.error,
    });

    const showStatus = () => {
      if (closed) return;
      const all = [...holds.values()];
      if (all.length === 0) {
        this.status({ fill: 'grey', shape: 'ring', text: 'idle' });
        return;
      }
      if (all.length > 1) {
        const warm = all.filter((h) => h.state === 'warm').length;
        this.status({
          fill: warm === all.length ? 'green' : 'yellow',
          shape: warm === all.length ? 'dot' : 'ring',
          text: `warm ${warm}/${all.length} cameras`,
        });
        return;
      }
      const [h] = all as [Hold];
      if (h.state === 'warm') {
        const rate =
          h.kbps === null ? '' : ` ${h.kbps >= 1000 ? `${(h.kbps / 1000).toFixed(1)} Mb/s` : `${h.kbps} kb/s`}`;
        this.status({ fill: 'green', shape: 'dot', text: short(`${h.camera}: warm${rate}`) });
      } else if (h.state === 'connecting') {
        this.status({ fill: 'yellow', shape: 'ring', text: short(`${h.camera}: connecting…`) });
      } else {
        this.status({ fill: 'yellow', shape: 'ring', text: short(`${h.camera}: retrying (${h.reason ?? ''})`, 40) });
      }
    };

    const emit = (hold: Hold, state: HoldState = hold.state) => {
      if (!closed) this.send({ topic: hold.camera, camera: hold.camera, payload: info(hold, state) });
    };

    const countBytes = (hold: Hold, n: number) => {
      hold.bytes += n;
      hold.windowBytes += n;
      const now = Date.now();
      if (now - hold.windowStart >= RATE_WINDOW_MS) {
        hold.kbps = Math.round((hold.windowBytes * 8) / (now - hold.windowStart));
        hold.windowBytes = 0;
        hold.windowStart = now;
        showStatus();
      }
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

    /** One attempt: open the stream and read until it fails. Always rejects (with why it ended). */
    const readOnce = async (hold: Hold, client: CamstackClient): Promise<never> => {
      const conn = new AbortController();
      const onAbort = () => conn.abort(hold.ctrl.signal.reason);
      hold.ctrl.signal.addEventListener('abort', onAbort, { once: true });
      let watchdog: NodeJS.Timeout | null = null;
      const feed = (ms: number) => {
        if (watchdog) clearTimeout(watchdog);
        watchdog = setTimeout(() => conn.abort(new TimeoutError(ms)), ms);
      };
      try {
        feed(FIRST_BYTES_MS);
        const { res, signal, dispose } = await client.fetch(
          'GET',
          `/api/cameras/${encodeURIComponent(hold.camera)}/stream.mp4`,
          { accept: 'video/mp4', timeoutMs: null, signal: conn.signal },
        );
        try {
          const reader = res.body?.getReader();
          if (!reader) throw new CamstackError('Camstack sent no stream');
          try {
            for (;;) {
              const { done, value } = await reader.read();
              if (done) break;
              feed(IDLE_MS);
              countBytes(hold, value.byteLength);
              if (hold.state !== 'warm') becameWarm(hold);
            }
          } catch (err) {
            throw client.networkError(err, signal);
          } finally {
            reader.cancel().catch(() => {});
          }
          throw new CamstackError(`Camstack ended the stream of "${hold.camera}"`, { code: 'ended' });
        } finally {
          dispose();
        }
      } catch (err) {
        throw err instanceof CamstackError ? err : client.networkError(err, conn.signal);
      } finally {
        if (watchdog) clearTimeout(watchdog);
        hold.ctrl.signal.removeEventListener('abort', onAbort);
      }
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
      if (holds.size === 0 && !closed) this.status(errorStatus(error));
      else showStatus();
    };

    const run = async (hold: Hold, client: CamstackClient): Promise<void> => {
      while (!hold.ctrl.signal.aborted) {
        let error: CamstackError;
        try {
          await readOnce(hold, client);
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
      const hold: Hold = {
        camera,
        ctrl: new AbortController(),
        state: 'connecting',
        warmSince: null,
        bytes: 0,
        windowBytes: 0,
        windowStart: Date.now(),
        kbps: null,
        attempt: 0,
        waiting: waiting ? [waiting] : [],
        error: null,
        reason: null,
        loop: null,
      };
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
      let camera: string;
      let action: StreamAction;
      try {
        camera = resolveCamera(msg.camera, config.camera);
        action = resolveAction(msg.action, msg.payload, config.action ?? 'start', STREAM_ACTIONS);
      } catch (err) {
        this.status(errorStatus(err));
        done(asError(err));
        return;
      }
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
      let client: CamstackClient;
      try {
        client = serverOf(RED, config.server).client;
      } catch (err) {
        this.status(errorStatus(err));
        done(asError(err));
        return;
      }
      start(camera, client, { msg, send, done });
    };

    this.on('input', (msg, send, done) => {
      void handle(msg, send, done);
    });
    this.on('close', (_removed, done) => {
      closed = true;
      const all = [...holds.values()];
      holds.clear();
      for (const h of all) {
        h.ctrl.abort(new CamstackError('the node was closed', { code: 'closed' }));
        h.waiting.splice(0);
      }
      this.status({});
      void Promise.allSettled(all.map((h) => h.loop)).then(() => done());
    });

    if (config.autoStart) {
      try {
        const camera = resolveCamera(undefined, config.camera);
        start(camera, serverOf(RED, config.server).client, null);
      } catch (err) {
        this.status(errorStatus(err));
        this.error(asError(err).message);
      }
    }
  }

  RED.nodes.registerType(STREAM_TYPE, CamstackStreamNode);
}
