/**
 * WebRTC: an offer to `POST api/cameras/:id/webrtc` (go2rtc behind our server), receive-only
 * video and audio. A 503 means go2rtc is down; an answer without video means this browser lacks
 * the camera's codec (H.265 in most browsers).
 */
import { urls } from '../api.js';
import { errorText, Failure, type Session } from './session.js';
import { codecName, TIMEOUTS, type Transport, type TransportHost } from './transport.js';
import { newVideo, watchFrames } from './video.js';

async function connect(host: TransportHost, s: Session): Promise<void> {
  let pc: RTCPeerConnection;
  try {
    pc = new RTCPeerConnection({ iceServers: [] });
  } catch (err) {
    throw new Failure(`unavailable in this browser (${errorText(err)})`, 'browser');
  }
  s.add(() => {
    pc.ontrack = null;
    pc.onconnectionstatechange = null;
    pc.close();
  });
  const video = newVideo(host, s);
  const stream = new MediaStream();
  pc.addTransceiver('video', { direction: 'recvonly' });
  pc.addTransceiver('audio', { direction: 'recvonly' });
  pc.ontrack = (e) => {
    stream.addTrack(e.track);
    if (e.track.kind === 'audio') host.hasAudio(true);
  };
  video.srcObject = stream;
  const firstFrame = watchFrames(host, s, video);
  await pc.setLocalDescription(await pc.createOffer());
  await s
    .within(
      new Promise<void>((resolve) => {
        if (pc.iceGatheringState === 'complete') return resolve();
        pc.addEventListener('icegatheringstatechange', () => {
          if (pc.iceGatheringState === 'complete') resolve();
        });
      }),
      TIMEOUTS.iceGathering,
      'ICE gathering',
    )
    .catch(() => {}); // send what was gathered so far
  if (s.closed) return;
  const res = await s.within(
    fetch(urls.webrtc(host.camera, host.transcode), {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ type: 'offer', sdp: pc.localDescription?.sdp ?? '' }),
      signal: s.abort.signal,
    }),
    TIMEOUTS.signalling,
    'the WebRTC answer',
  );
  const body = (await res.json().catch(() => ({}))) as { sdp?: string; code?: string; message?: string };
  if (!res.ok) {
    if (res.status === 503) throw new Failure('go2rtc not running', 'server');
    const message = body.message ?? `signalling answered ${res.status}`;
    if (/codecs? not matched/i.test(message)) {
      throw new Failure(`this browser cannot receive ${codecName(host.codec, message)}`, 'codec');
    }
    throw new Failure(message);
  }
  const sdp = body.sdp ?? '';
  // No video codec in common: the video section refused (port 0), or go2rtc's `a=inactive` (H.265).
  const videoSection = sdp.split(/^(?=m=)/m).find((m) => m.startsWith('m=video ')) ?? '';
  if (/^m=video 0 /m.test(sdp) || /^a=inactive/m.test(videoSection)) {
    throw new Failure(`this browser cannot receive ${codecName(host.codec, '')}`, 'codec');
  }
  await pc.setRemoteDescription({ type: 'answer', sdp });
  await s.within(
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (pc.connectionState === 'connected') resolve();
        else if (pc.connectionState === 'failed') reject(new Failure('could not connect (media port unreachable)'));
      };
      pc.addEventListener('connectionstatechange', check);
      check();
    }),
    TIMEOUTS.webrtcConnect,
    'the peer connection (media port unreachable?)',
  );
  video.play().catch(() => {});
  await s.within(firstFrame, TIMEOUTS.firstFrame, "the first frame (the browser may lack the camera's codec)");
  watchConnection(host, s, pc);
}

/** While playing: a failed or closed connection is lost at once, one `disconnected` for a few seconds. */
function watchConnection(host: TransportHost, s: Session, pc: RTCPeerConnection): void {
  let disconnectedTimer: ReturnType<typeof setTimeout> | null = null;
  s.add(() => {
    if (disconnectedTimer) clearTimeout(disconnectedTimer);
  });
  pc.onconnectionstatechange = () => {
    if (pc.connectionState === 'failed' || pc.connectionState === 'closed') host.lost(s, 'connection failed');
    else if (pc.connectionState === 'disconnected') {
      disconnectedTimer ??= setTimeout(() => host.lost(s, 'connection dropped'), TIMEOUTS.disconnected);
    } else if (pc.connectionState === 'connected' && disconnectedTimer) {
      clearTimeout(disconnectedTimer);
      disconnectedTimer = null;
    }
  };
}

export const webrtc: Transport = {
  label: 'WebRTC',
  video: true,
  transcodes: true,
  unavailable: 'WebRTC unavailable in this browser',
  connect,
};
