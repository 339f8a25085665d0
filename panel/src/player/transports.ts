/**
 * Every transport by mode: a module beside these that exports a `Transport`, its mode added to
 * `PlayerMode`; the player needs no other change.
 */
import { hls } from './hls.js';
import { mjpeg } from './mjpeg.js';
import { mse } from './mse.js';
import type { PlayerMode, Transport } from './transport.js';
import { webrtc } from './webrtc.js';

export const TRANSPORTS: Readonly<Record<PlayerMode, Transport>> = { webrtc, mse, hls, mjpeg };

export function isPlayerMode(value: string): value is PlayerMode {
  return Object.hasOwn(TRANSPORTS, value);
}
