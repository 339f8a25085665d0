/**
 * `camstack-snapshot`: the camera's latest frame as a JPEG Buffer in `msg.payload`, optionally
 * scaled, optionally also saved: in the add-on's media folder (Home Assistant's media browser) or
 * in a folder on the Node-RED machine.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { CamstackError } from '../../client';
import type { DoneFn, Node, NodeAPI, NodeDef, NodeMessage, SendFn } from '../../red';
import { onInput, Status } from '../../status';
import { resolveCamera, resolveWidth, ValidationError } from '../../validate';
import { serverOf } from '../server';

export const SNAPSHOT_TYPE = 'camstack-snapshot';

export type SaveMode = 'none' | 'media' | 'file';
const SAVE_MODES: readonly SaveMode[] = ['none', 'media', 'file'];

export interface SnapshotDef extends NodeDef {
  server?: string;
  camera?: string;
  width?: string | number;
  save?: SaveMode;
  directory?: string;
}

/** `front_door_20250102-030405-678.jpg`, local time, like Camstack's own snapshot files. */
export function snapshotFileName(camera: string, at: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const stamp = `${at.getFullYear()}${p(at.getMonth() + 1)}${p(at.getDate())}-${p(at.getHours())}${p(at.getMinutes())}${p(at.getSeconds())}-${p(at.getMilliseconds(), 3)}`;
  return `${camera}_${stamp}.jpg`;
}

export function registerSnapshot(RED: NodeAPI): void {
  function CamstackSnapshotNode(this: Node, config: SnapshotDef): void {
    RED.nodes.createNode(this, config);
    const status = new Status(this);
    const closer = new AbortController();
    const save: SaveMode = SAVE_MODES.includes(config.save as SaveMode) ? (config.save as SaveMode) : 'none';
    const directory = (config.directory ?? '').trim();

    const handle = async (msg: NodeMessage, send: SendFn, done: DoneFn): Promise<void> => {
      const camera = resolveCamera(msg.camera, config.camera);
      const width = resolveWidth(msg.width, config.width);
      if (save === 'file' && !isAbsolute(directory)) {
        throw new ValidationError('directory', 'saving to a file needs an absolute folder path in the node');
      }
      const { client } = serverOf(RED, config.server);
      status.busy(`${camera}: taking…`);
      const opts = width !== undefined ? { width } : {};
      let saved: { path: string; takenAt: string } | null = null;
      if (save === 'media') {
        saved = await client.saveSnapshot(camera, closer.signal);
        // The same frame, from Camstack's cache: at most as old as the saved one.
        const age = Math.max(0, Date.now() - Date.parse(saved.takenAt));
        Object.assign(opts, { maxAge: Math.min(600_000, Math.ceil(age) + 1000) });
      }
      const shot = await client.snapshot(camera, opts, closer.signal);
      const takenAt = shot.takenAt ?? saved?.takenAt ?? new Date().toISOString();
      msg.payload = shot.jpeg;
      msg.camera = camera;
      msg.takenAt = takenAt;
      msg.snapshot = { source: shot.source, width: width ?? null, bytes: shot.jpeg.length };
      if (saved) msg.saved = { path: saved.path };
      if (save === 'file') {
        const file = join(directory, snapshotFileName(camera, new Date(takenAt)));
        try {
          await mkdir(directory, { recursive: true });
          const tmp = `${file}.part`;
          await writeFile(tmp, shot.jpeg);
          await rename(tmp, file);
        } catch (err) {
          throw new Error(`could not save the snapshot as ${file}: ${(err as Error).message}`);
        }
        msg.filename = file;
      }
      if (closer.signal.aborted) return;
      send(msg);
      done();
      status.ok(`${camera}: ${new Date(takenAt).toLocaleTimeString()}`);
    };

    onInput(this, status, handle, () => closer.signal.aborted);
    this.on('close', (_removed, done) => {
      closer.abort(new CamstackError('the node was closed', { code: 'closed' }));
      status.clear();
      done();
    });
  }

  RED.nodes.registerType(SNAPSHOT_TYPE, CamstackSnapshotNode);
}
