/** The API's limits, the same for every client (the panel's forms, the Node-RED editors and nodes). */

/** A clip's pre-roll (`preRoll`), seconds. */
export const MAX_PRE_ROLL_SECONDS = 300;
/** A clip's length (`duration`), seconds: the longest clip. */
export const MAX_CLIP_SECONDS = 3600;
/** A snapshot's `width`, pixels. */
export const MIN_SNAPSHOT_WIDTH = 16;
export const MAX_SNAPSHOT_WIDTH = 3840;
