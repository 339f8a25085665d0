/** Limits of clips and exports (the API schemas and the Node-RED nodes use the same numbers). */
export const MAX_PRE_ROLL_SECONDS = 300;
export const MAX_CLIP_SECONDS = 3600;
/** An open clip extended again and again is closed at this length; the next request starts a new one. */
export const MAX_CLIP_TOTAL_MS = 4 * 3600_000;
export const MAX_EXPORT_MS = 24 * 3600_000;
