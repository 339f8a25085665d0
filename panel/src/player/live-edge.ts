/**
 * Pure: how an MSE player follows the live edge. The relay starts a viewer at the latest keyframe
 * it holds, which may be seconds behind live: the picture shows at once from that keyframe, then
 * playback catches up — a short spell a little faster than real time for a small lag (kept up
 * until the player is back at the target, so it does not settle just under the threshold), a seek
 * to just behind the edge for a large one.
 */

export interface EdgeState {
  currentTime: number;
  /** Buffered range: first start and last end (seconds). */
  start: number;
  end: number;
  /** A frame has been shown: until then the player stays on the keyframe it starts with. */
  shown: boolean;
  /** The video's playback rate now (above 1: catching up). */
  playbackRate?: number;
}

export interface EdgeAction {
  /** Where to seek, or null to stay. */
  seek: number | null;
  playbackRate: number;
}

/** How far behind the edge the player aims to be (s). */
export const EDGE_TARGET_S = 0.2;
/** Above this lag a seek is quicker than catching up (s). */
export const EDGE_JUMP_S = 1.5;
/** Above this lag the player runs a little faster (s). */
export const EDGE_HURRY_S = 0.45;
export const EDGE_HURRY_RATE = 1.25;

export function followEdge(s: EdgeState): EdgeAction {
  if (s.end <= s.start) return { seek: null, playbackRate: 1 };
  // Before the buffered range (the first append, or data removed): start at its keyframe.
  if (s.currentTime < s.start) return { seek: s.start, playbackRate: 1 };
  if (!s.shown) return { seek: null, playbackRate: 1 };
  const lag = s.end - s.currentTime;
  if (lag > EDGE_JUMP_S) return { seek: Math.max(s.start, s.end - EDGE_TARGET_S), playbackRate: 1 };
  const hurrying = (s.playbackRate ?? 1) > 1;
  if (lag > EDGE_HURRY_S || (hurrying && lag > EDGE_TARGET_S)) return { seek: null, playbackRate: EDGE_HURRY_RATE };
  return { seek: null, playbackRate: 1 };
}
