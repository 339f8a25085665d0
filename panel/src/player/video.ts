/** The <video> of the WebRTC and MSE transports: created on the stage, frames counted, stalls caught. */
import type { Session } from './session.js';
import { TIMEOUTS, type TransportHost } from './transport.js';

/** A muted-as-the-player, inline, autoplaying <video> on the stage, torn down with the session. */
export function newVideo(host: TransportHost, s: Session): HTMLVideoElement {
  const video = document.createElement('video');
  video.muted = host.muted;
  video.autoplay = true;
  video.playsInline = true;
  video.disablePictureInPicture = false;
  video.setAttribute('aria-label', `Live view of ${host.label || host.camera}`);
  host.stage.append(video);
  host.showVideo(video);
  s.add(() => {
    if (document.pictureInPictureElement === video) void document.exitPictureInPicture().catch(() => {});
    video.pause();
    video.srcObject = null;
    video.removeAttribute('src');
    video.load();
    video.remove();
  });
  return video;
}

/** Counts frames and resolves at the first one; watches for stalls while playing. */
export function watchFrames(host: TransportHost, s: Session, video: HTMLVideoElement): Promise<void> {
  return new Promise<void>((resolve) => {
    let first = true;
    let lastFrameAt = 0;
    const onFrame = () => {
      if (s.closed) return;
      host.frame();
      lastFrameAt = performance.now();
      if (first) {
        first = false;
        resolve();
      }
      handle = video.requestVideoFrameCallback(onFrame);
    };
    let handle = video.requestVideoFrameCallback(onFrame);
    s.add(() => video.cancelVideoFrameCallback(handle));
    const stallCheck = setInterval(() => {
      if (first || s.closed || document.hidden || !host.playing) return;
      if (performance.now() - lastFrameAt > TIMEOUTS.stall) host.lost(s, 'no frames');
    }, 2000);
    s.add(() => clearInterval(stallCheck));
  });
}
