/** Durable writes: a file is renamed into place only after its bytes, and then its folder, are on disk. */
import { open } from 'node:fs/promises';

/** fsyncs a folder so a rename into it survives a power cut; a no-op where the file system refuses. */
export async function syncDir(dir: string): Promise<void> {
  try {
    const fh = await open(dir, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    // Some file systems refuse fsync on a directory; the rename is still atomic.
  }
}
