/** Limits of clips and exports; those clients see too are in the contract. */
export { MAX_CLIP_SECONDS, MAX_PRE_ROLL_SECONDS } from '../contract/index.js';
/** An open clip extended again and again is closed at this length; the next request starts a new one. */
export const MAX_CLIP_TOTAL_MS = 4 * 3600_000;
export const MAX_EXPORT_MS = 24 * 3600_000;
