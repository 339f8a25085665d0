/**
 * PURE: the time of each analysed frame. FFmpeg's `fps` filter emits exactly `fps` frames per
 * second of stream time, so frame n of a run happened 1/fps after frame n−1, however the frames
 * reach us: a CPU-starved FFmpeg (a busy Pi) delivers seconds of frames in one burst, and timing
 * them by arrival would squeeze a 4 s motion into 0.1 s or stretch a pause past the end-of-event
 * hold. So frames are timed by their index from an anchor, and the anchor follows the arrival times:
 *
 * - a frame can not arrive before it happened: a frame timed later than its arrival moves the
 *   anchor back to the arrival (so the clock tracks the least-delayed frames);
 * - it is pulled a little (1 % of the lag per frame, at most 5 % of a frame interval) towards the
 *   arrivals, so a camera whose clock runs slower than ours does not drift away over the hours,
 *   while a burst keeps its spacing to within 5 %;
 * - a lag beyond `maxLagMs` (a long stall) is cut to `maxLagMs`: the frame is timed that long
 *   before its arrival, and the frames after it keep their spacing from there. Cutting rather than
 *   snapping to the arrival matters for a backlog just over the limit: snapped, every frame of the
 *   burst would be timed by arrival and a 4 s motion would shrink to a fraction of a second.
 */
export class FrameClock {
  readonly #frameMs: number;
  readonly #maxLagMs: number;
  /** Time of frame #anchorFrame; null before the first frame of a run. */
  #anchorMs: number | null = null;
  #anchorFrame = 0;
  #frame = 0;
  /** Arrival minus time of the latest frame (≥ 0). */
  #lag = 0;

  constructor(fps: number, maxLagMs = 15_000) {
    this.#frameMs = 1000 / fps;
    this.#maxLagMs = maxLagMs;
  }

  /** The time of the next frame, which arrived at `arrivalMs`. */
  frame(arrivalMs: number): number {
    let t = this.#anchorMs === null ? arrivalMs : this.#anchorMs + (this.#frame - this.#anchorFrame) * this.#frameMs;
    if (this.#anchorMs === null || t > arrivalMs) {
      t = arrivalMs;
    } else if (arrivalMs - t > this.#maxLagMs) {
      t = arrivalMs - this.#maxLagMs;
    } else {
      t += Math.min((arrivalMs - t) * 0.01, this.#frameMs * 0.05);
    }
    this.#anchorMs = t;
    this.#anchorFrame = this.#frame;
    this.#frame++;
    this.#lag = arrivalMs - t;
    return t;
  }

  /** "Now" on this clock at wall time `nowMs`: as far behind as the latest frame was. */
  now(nowMs: number): number {
    return nowMs - this.#lag;
  }

  /** A new run (FFmpeg restarted): the next frame starts a new anchor. */
  reset(): void {
    this.#anchorMs = null;
    this.#lag = 0;
  }
}
