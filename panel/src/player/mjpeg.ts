/**
 * MJPEG: an <img> on `api/cameras/:id/mjpeg`, which our server serves from FFmpeg (transcoded),
 * so it plays while go2rtc is down and for codecs the browser cannot decode.
 */
import { urls } from '../api.js';
import { Failure, failureSignal, type Session } from './session.js';
import { TIMEOUTS, type Transport, type TransportHost } from './transport.js';

async function connect(host: TransportHost, s: Session): Promise<void> {
  const img = document.createElement('img');
  img.alt = `Live view of ${host.label || host.camera} (MJPEG)`;
  img.decoding = 'async';
  host.stage.append(img);
  s.add(() => {
    img.onerror = null;
    img.src = '';
    img.remove();
  });
  const error = failureSignal();
  let playing = false;
  img.onerror = () => {
    if (playing) host.lost(s, 'MJPEG stream ended');
    else error.fail(new Failure('the MJPEG stream failed'));
  };
  img.src = urls.mjpeg(host.camera);
  await s.within(
    Promise.race([
      new Promise<void>((resolve) => {
        const poll = setInterval(() => {
          if (img.naturalWidth > 0) {
            clearInterval(poll);
            resolve();
          }
        }, 50);
        s.add(() => clearInterval(poll));
      }),
      error.promise,
    ]),
    TIMEOUTS.mjpegFirstImage,
    'the first MJPEG picture',
  );
  playing = true;
}

export const mjpeg: Transport = {
  label: 'MJPEG',
  video: false,
  unavailable: 'MJPEG unavailable',
  connect,
};
