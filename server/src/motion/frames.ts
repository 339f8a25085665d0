/**
 * PURE: the per-frame work of the detector. FFmpeg writes fixed-size raw grey frames to a pipe;
 * {@link RawFrameReader} cuts the byte stream into frames, {@link FrameComparer} scores each
 * frame against the one before it: the percentage of watched pixels (mask) whose grey level moved
 * by at least the pixel threshold.
 */

/** Cuts a byte stream into frames of `frameBytes` bytes, reusing one buffer (no allocation per frame). */
export class RawFrameReader {
  readonly frameBytes: number;
  readonly #frame: Uint8Array;
  #filled = 0;

  constructor(frameBytes: number) {
    if (!Number.isInteger(frameBytes) || frameBytes <= 0) throw new RangeError('frameBytes must be a positive integer');
    this.frameBytes = frameBytes;
    this.#frame = new Uint8Array(frameBytes);
  }

  /** Calls `onFrame` for each frame completed by `chunk`; the frame is only valid during the call. */
  push(chunk: Uint8Array, onFrame: (frame: Uint8Array) => void): void {
    let offset = 0;
    while (offset < chunk.length) {
      const n = Math.min(this.frameBytes - this.#filled, chunk.length - offset);
      this.#frame.set(chunk.subarray(offset, offset + n), this.#filled);
      this.#filled += n;
      offset += n;
      if (this.#filled === this.frameBytes) {
        this.#filled = 0;
        onFrame(this.#frame);
      }
    }
  }

  /** Drops a partial frame (a new FFmpeg run starts on a frame boundary). */
  reset(): void {
    this.#filled = 0;
  }
}

/** Scores frames against the previous one, over the watched pixels of `mask` (1 = watched). */
export class FrameComparer {
  readonly #mask: Uint8Array;
  readonly #watched: number;
  readonly #pixelDelta: number;
  readonly #previous: Uint8Array;
  #hasPrevious = false;

  constructor(mask: Uint8Array, pixelDelta: number) {
    this.#mask = mask;
    let watched = 0;
    for (let i = 0; i < mask.length; i++) watched += mask[i] === 0 ? 0 : 1;
    this.#watched = watched;
    this.#pixelDelta = pixelDelta;
    this.#previous = new Uint8Array(mask.length);
  }

  /**
   * Percentage (0..100) of watched pixels that changed since the previous frame; null for the
   * first frame after construction or reset(). Keeps a copy of `frame` for the next call.
   */
  compare(frame: Uint8Array): number | null {
    if (frame.length !== this.#mask.length) {
      throw new RangeError(`frame has ${frame.length} bytes, the mask ${this.#mask.length}`);
    }
    let score: number | null = null;
    if (this.#hasPrevious && this.#watched > 0) {
      const mask = this.#mask;
      const prev = this.#previous;
      const delta = this.#pixelDelta;
      let changed = 0;
      for (let i = 0; i < frame.length; i++) {
        if (mask[i] === 0) continue;
        const d = (frame[i] as number) - (prev[i] as number);
        if (d >= delta || d <= -delta) changed++;
      }
      score = (changed * 100) / this.#watched;
    } else if (this.#hasPrevious) {
      score = 0;
    }
    this.#previous.set(frame);
    this.#hasPrevious = true;
    return score;
  }

  /** Forgets the previous frame (after a reconnect the next frame is not comparable). */
  reset(): void {
    this.#hasPrevious = false;
  }
}
