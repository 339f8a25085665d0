/**
 * Names every side agrees on. The camera id is the key of the cameras file, the path segment of
 * the API, a part of MQTT topics, entity ids and file names.
 */

/** Camera ids: lowercase letters, digits and `_`, 1–64 characters. */
export const CAMERA_ID_PATTERN = '^[a-z0-9_]{1,64}$';

const CAMERA_ID_RE = new RegExp(CAMERA_ID_PATTERN);

export function isCameraId(value: string): boolean {
  return CAMERA_ID_RE.test(value);
}
