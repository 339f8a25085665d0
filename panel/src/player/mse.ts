/**
 * MSE over our WebSocket (`api/cameras/:id/ws`, go2rtc's protocol): the browser offers the codecs
 * its MediaSource decodes, go2rtc answers with a MIME type and sends fMP4 fragments, which are
 * appended while following the live edge. Our server closes with 4503 when go2rtc is down.
 */
import { urls } from '../api.js';
import { followEdge } from './live-edge.js';
import { errorText, Failure, failureSignal, type Session, waitEvent } from './session.js';
import { codecName, TIMEOUTS, type Transport, type TransportHost } from './transport.js';
import { newVideo, watchFrames } from './video.js';

/** The codecs go2rtc's own player offers, kept to those this browser's MSE decodes. */
const MSE_CODECS = [
  'avc1.640029',
  'avc1.64002A',
  'avc1.640033',
  'hvc1.1.6.L153.B0',
  'mp4a.40.2',
  'mp4a.40.5',
  'flac',
  'opus',
];

function mseFailure(host: TransportHost, why: string): Failure {
  if (/go2rtc/i.test(why)) return new Failure('go2rtc not running', 'server');
  if (/codec/i.test(why)) return new Failure(`this browser cannot decode ${codecName(host.codec, why)}`, 'codec');
  return new Failure(why);
}

/** Joins what arrived while the SourceBuffer was busy into one chunk. */
function concat(parts: ArrayBuffer[]): ArrayBuffer {
  if (parts.length === 1) return parts[0] as ArrayBuffer;
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let off = 0;
  for (const p of parts) {
    out.set(new Uint8Array(p), off);
    off += p.byteLength;
  }
  return out.buffer;
}

async function connect(host: TransportHost, s: Session): Promise<void> {
  if (typeof MediaSource === 'undefined') throw new Failure('unsupported in this browser', 'browser');
  const codecs = MSE_CODECS.filter((c) => MediaSource.isTypeSupported(`video/mp4; codecs="${c}"`));
  const video = newVideo(host, s);
  const ms = new MediaSource();
  const objectUrl = URL.createObjectURL(ms);
  s.add(() => URL.revokeObjectURL(objectUrl));
  const opened = waitEvent(ms, 'sourceopen');
  video.src = objectUrl;
  const edge = { shown: false };
  const firstFrame = watchFrames(host, s, video).then(() => {
    edge.shown = true;
  });
  const ws = new WebSocket(urls.ws(host.camera, host.transcode));
  ws.binaryType = 'arraybuffer';
  s.add(() => {
    ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
    if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close();
  });
  const closed = failureSignal();
  let serverError: string | null = null;
  let playing = false;
  ws.onclose = (ev) => {
    // Our server closes with 4503 when go2rtc is down and 4404 for an unknown camera.
    const why =
      serverError ??
      (ev.code === 4503
        ? 'go2rtc is not running'
        : `socket closed${ev.code !== 1000 && ev.code !== 1005 ? ` (${ev.code})` : ''}`);
    if (playing) host.lost(s, why);
    else closed.fail(mseFailure(host, why));
  };
  let resolveMime: (m: string) => void = () => {};
  const mime = new Promise<string>((resolve) => {
    resolveMime = resolve;
  });
  let sb: SourceBuffer | null = null;
  const queue: ArrayBuffer[] = [];
  const pump = () => {
    if (!sb || sb.updating || queue.length === 0 || ms.readyState !== 'open') return;
    try {
      sb.appendBuffer(concat(queue.splice(0)));
    } catch (err) {
      host.lost(s, `decoder refused data: ${errorText(err)}`);
    }
  };
  ws.onmessage = (ev: MessageEvent<string | ArrayBuffer>) => {
    if (typeof ev.data === 'string') {
      try {
        const msg = JSON.parse(ev.data) as { type?: string; value?: string };
        if (msg.type === 'mse' && msg.value) resolveMime(msg.value);
        else if (msg.type === 'error') {
          serverError = msg.value ?? 'error';
          // go2rtc may say so and keep the socket open (e.g. "codecs not matched").
          if (!playing) closed.fail(mseFailure(host, serverError));
        }
      } catch {
        // not JSON
      }
      return;
    }
    if (queue.length > 200) queue.splice(0, queue.length - 100); // a stuck decoder must not eat memory
    queue.push(ev.data);
    pump();
  };
  // Handlers are in place before waiting: a refusal sent right after the upgrade is not missed.
  await s.within(Promise.race([waitEvent(ws, 'open'), closed.promise]), TIMEOUTS.socketOpen, 'the stream socket');
  await s.within(Promise.race([opened, closed.promise]), TIMEOUTS.socketOpen, 'MediaSource');
  ws.send(JSON.stringify({ type: 'mse', value: codecs.join(',') }));
  const type = await s.within(Promise.race([mime, closed.promise]), TIMEOUTS.mseAnswer, 'the MSE answer');
  if (s.closed) return;
  if (!MediaSource.isTypeSupported(type)) throw new Failure(`this browser cannot decode ${type}`, 'codec');
  // go2rtc sends what matched: audio alone when none of our video codecs is the camera's (H.265).
  if (!/avc1|hvc1|hev1|av01|vp0?[89]/.test(type)) {
    throw new Failure(`this browser cannot decode ${codecName(host.codec, '')}`, 'codec');
  }
  sb = ms.addSourceBuffer(type);
  sb.mode = 'segments';
  host.hasAudio(/mp4a|opus|flac/.test(type));
  followLiveEdge(s, video, sb, pump, edge);
  pump();
  video.play().catch(() => {});
  await s.within(Promise.race([firstFrame, closed.promise]), TIMEOUTS.firstFrame, 'the first frame');
  playing = true;
}

/**
 * After each append: start at the first buffered frame (the relay's cached keyframe, shown at
 * once), then catch up with the live edge (`followEdge`); keep about 10 s.
 */
function followLiveEdge(
  s: Session,
  video: HTMLVideoElement,
  buffer: SourceBuffer,
  pump: () => void,
  edge: { shown: boolean },
): void {
  buffer.addEventListener('updateend', () => {
    if (s.closed) return;
    const b = video.buffered;
    if (b.length) {
      const start = b.start(0);
      const end = b.end(b.length - 1);
      const act = followEdge({
        currentTime: video.currentTime,
        start,
        end,
        shown: edge.shown,
        playbackRate: video.playbackRate,
      });
      if (act.seek !== null) video.currentTime = act.seek;
      if (video.playbackRate !== act.playbackRate) video.playbackRate = act.playbackRate;
      if (video.paused) video.play().catch(() => {});
      if (!buffer.updating && end - start > 30) {
        try {
          buffer.remove(start, end - 10);
          return;
        } catch {
          // removing is an optimisation
        }
      }
    }
    pump();
  });
}

export const mse: Transport = {
  label: 'MSE',
  video: true,
  transcodes: true,
  unavailable: 'MSE unsupported in this browser',
  connect,
};
