/** Writing the cameras file: the cameras of origin `file`, as YAML, atomically. */
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Document } from 'yaml';
import { syncDir } from '../fs-sync.js';
import { eventsToFileForm } from './events-config.js';
import { motionToFileForm } from './motion.js';
import { onvifToFileForm } from './onvif-config.js';
import type { CameraConfig } from './schema.js';
import type { Camera } from './types.js';

/** A camera in the file form (snake_case, credentials apart from the URL, defaults spelled out). */
export function cameraToFileForm(camera: Camera): CameraConfig {
  const out: CameraConfig = { id: camera.id, name: camera.name, source: camera.source };
  if (camera.substream !== null) out.substream = camera.substream;
  if (camera.username !== null) out.username = camera.username;
  if (camera.password !== null) out.password = camera.password;
  out.enabled = camera.enabled;
  out.recording = {
    continuous: camera.recording.continuous,
    retain_days: camera.recording.retainDays,
    clip_retain_days: camera.recording.clipRetainDays,
    pre_roll_seconds: camera.recording.preRollSeconds,
    clip_seconds: camera.recording.clipSeconds,
  };
  out.events = eventsToFileForm(camera.events);
  if (camera.onvif !== null) out.onvif = onvifToFileForm(camera.onvif);
  out.motion = motionToFileForm(camera.motion) as CameraConfig['motion'];
  return out;
}

/**
 * Write the cameras whose origin is `file` to `path` as YAML, atomically: a temporary file in
 * the same directory (mode 0600: it may hold passwords), fsync, rename over the target, fsync
 * the directory. On failure the temporary file is removed and the old file is left untouched.
 */
export async function saveCamerasFile(path: string, cameras: readonly Camera[]): Promise<void> {
  const doc = new Document({ cameras: cameras.filter((c) => c.origin === 'file').map(cameraToFileForm) });
  doc.commentBefore =
    ' Camstack cameras. Written by Camstack when cameras are changed in its UI or API;\n' +
    ' hand edits are fine while the add-on is stopped. Camera ids must stay stable.';
  const text = doc.toString({ lineWidth: 0 });

  const dir = dirname(path);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  let renamed = false;
  try {
    const fh = await open(tmp, 'wx', 0o600);
    try {
      await fh.writeFile(text, 'utf8');
      await fh.chmod(0o600);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
    renamed = true;
    await syncDir(dir);
  } finally {
    if (!renamed) await unlink(tmp).catch(() => undefined);
  }
}
