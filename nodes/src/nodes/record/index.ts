/**
 * `camstack-record`: starts and stops clips. `clip` records a clip (optional pre-roll, a duration
 * that ends it by itself), `start` records until `stop` (at most Camstack's one hour), `stop` ends
 * the camera's open clip. Each clip this node started or stopped is sent on once, when its MP4
 * is saved, with its id, path, URL and times.
 */
import type { CamstackClient, RecordingView } from '../../client';
import { CamstackError } from '../../client';
import type { ClipWatcher } from '../../clips';
import { MAX_CLIP_SECONDS } from '../../constants';
import type { DoneFn, Node, NodeAPI, NodeDef, NodeMessage, SendFn } from '../../red';
import { onInput, Status } from '../../status';
import { RECORD_ACTIONS, type RecordAction, resolveAction, resolveCamera, resolveClipRequest } from '../../validate';
import { serverOf } from '../server';

export const RECORD_TYPE = 'camstack-record';

export interface RecordDef extends NodeDef {
  server?: string;
  camera?: string;
  action?: RecordAction;
  preRoll?: string | number;
  duration?: string | number;
}

/** What a saved clip looks like in `msg.payload`. */
export interface ClipInfo {
  id: string;
  camera: string;
  /** Relative to the add-on's media folder (Home Assistant: Media › Local media). */
  path: string | null;
  /** Absolute URL that plays or downloads the MP4 (needs the token, like every API call). */
  url: string | null;
  start: string;
  end: string;
  durationSeconds: number;
  size: number;
  trigger: string | null;
  protected: boolean;
}

export function clipInfo(view: RecordingView, client: CamstackClient): ClipInfo {
  return {
    id: view.id,
    camera: view.camera,
    path: view.path,
    url: view.url ? client.url(view.url) : null,
    start: view.start,
    end: view.end,
    durationSeconds: view.durationSeconds,
    size: view.size,
    trigger: view.trigger,
    protected: view.protected,
  };
}

interface Tracked {
  camera: string;
  msg: NodeMessage;
  send: SendFn;
  done: DoneFn;
  action: RecordAction;
}

export function registerRecord(RED: NodeAPI): void {
  function CamstackRecordNode(this: Node, config: RecordDef): void {
    RED.nodes.createNode(this, config);
    const status = new Status(this);
    const closer = new AbortController();
    /** Clips this node started, by id: the message that started each one. */
    const tracked = new Map<string, Tracked>();
    /**
     * Clips of this node already sent on (newest last, a few kept): a stop whose answer arrives
     * after the clip's `clip.saved` event must not send the clip a second time.
     */
    const sent: string[] = [];

    const idleStatus = () => {
      if (tracked.size === 1) {
        const [[id, t]] = [...tracked.entries()] as [[string, Tracked]];
        status.active(`${t.camera}: recording ${id}`);
      } else if (tracked.size > 1) {
        status.active(`recording ${tracked.size} clips`);
      }
    };

    const finish = (id: string, view: RecordingView, client: CamstackClient) => {
      const t = tracked.get(id);
      if (!t) return;
      tracked.delete(id);
      sent.push(id);
      if (sent.length > 32) sent.shift();
      t.msg.payload = clipInfo(view, client);
      t.msg.camera = t.camera;
      t.msg.action = t.action;
      t.send(t.msg);
      t.done();
      status.ok(`${t.camera}: saved ${id}`);
      idleStatus();
    };

    const track = (view: RecordingView, t: Tracked, client: CamstackClient, clips: ClipWatcher) => {
      tracked.set(view.id, t);
      idleStatus();
      clips.wait(view, closer.signal).then(
        (saved) => finish(view.id, saved, client),
        (err: unknown) => {
          if (closer.signal.aborted || (err instanceof CamstackError && err.code === 'closed')) return;
          if (!tracked.delete(view.id)) return;
          status.failMessage(err, t.done);
          idleStatus();
        },
      );
    };

    const handle = async (msg: NodeMessage, send: SendFn, done: DoneFn): Promise<void> => {
      const camera = resolveCamera(msg.camera, config.camera);
      const action = resolveAction(msg.action, msg.payload, config.action ?? 'clip', RECORD_ACTIONS);
      const request = resolveClipRequest({ preRoll: msg.preRoll, duration: msg.duration }, config);
      const { client, clips } = serverOf(RED, config.server);
      status.busy(`${camera}: ${action === 'stop' ? 'stopping' : 'starting'}…`);
      if (action === 'stop') {
        const view = await client.stopClip(camera, closer.signal);
        if (tracked.has(view.id)) {
          // The message that started it carries the clip; this one is done.
          finish(view.id, view, client);
          clips.saved(view);
          done();
        } else if (sent.includes(view.id)) {
          // Ours, and already sent on by the message that started it (its event came first).
          done();
          idleStatus();
        } else {
          clips.saved(view);
          msg.payload = clipInfo(view, client);
          msg.camera = camera;
          msg.action = action;
          send(msg);
          done();
          status.ok(`${camera}: saved ${view.id}`);
          idleStatus();
        }
        return;
      }
      const body = action === 'start' ? { ...request, duration: request.duration ?? MAX_CLIP_SECONDS } : request;
      const started = await client.startClip(camera, body, closer.signal);
      if (started.extended && tracked.has(started.clip.id)) {
        // An open clip of ours got longer: its first message reports it.
        done();
        idleStatus();
        return;
      }
      track(started.clip, { camera, msg, send, done, action }, client, clips);
    };

    onInput(this, status, handle, () => closer.signal.aborted);
    this.on('close', (_removed, done) => {
      closer.abort(new CamstackError('the node was closed', { code: 'closed' }));
      tracked.clear();
      status.clear();
      done();
    });
  }

  RED.nodes.registerType(RECORD_TYPE, CamstackRecordNode);
}
