/** Patterns shared by every schema that takes such a value (imports only the contract). */

/** Camera id: a stable slug used in entity ids, MQTT topics and file paths (the contract's). */
export { CAMERA_ID_PATTERN } from '../contract/index.js';

/**
 * Free text a person reads (names, labels): not blank, and no control characters (C0, DEL, C1),
 * which would reach MQTT, Home Assistant and the log as they are.
 */
export const TEXT_PATTERN = '^(?=[\\s\\S]*\\S)[^\\u0000-\\u001f\\u007f-\\u009f]*$';
/** Free text that may be blank but holds no control characters. */
export const NO_CONTROL_PATTERN = '^[^\\u0000-\\u001f\\u007f-\\u009f]*$';
