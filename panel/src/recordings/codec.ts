/**
 * Recordings in a codec this browser cannot decode (H.265 in Chrome without hardware decoding, in
 * Firefox): the recording browser says so and offers playback transcoded to H.264 by the server
 * (`export.mp4?…&transcode=h264`); the span download can be H.264 too.
 */
import { html } from 'lit';

/** Whether the camera's codec (from its status: "h265", "H265", "hevc") is H.265. */
export function isH265(codec: string | null | undefined): boolean {
  return /265|hevc/i.test(codec ?? '');
}

let hevc: boolean | null = null;

/** Whether this browser plays H.265 in MP4 (asked once). */
export function browserPlaysH265(): boolean {
  if (hevc === null) {
    const type = 'video/mp4; codecs="hvc1.1.6.L93.B0"';
    hevc = document.createElement('video').canPlayType(type) !== '';
  }
  return hevc;
}

/** The notice above the video: why it cannot play as recorded, and the way out. */
export function codecNotice(transcoding: boolean, useTranscode: () => void) {
  return transcoding
    ? html`<p class="codec-notice muted" role="status">
        Playing H.264, transcoded from H.265 by the server (this browser cannot decode H.265).
      </p>`
    : html`<p class="codec-notice" role="alert">
        This camera records H.265, which this browser cannot play.
        <button class="button transcode" @click=${useTranscode}>Play as H.264 (transcoded by the server)</button>
      </p>`;
}
