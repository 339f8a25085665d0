/**
 * Home Assistant's commands (the recording switch, the clip and snapshot buttons) turned into the
 * same service calls the HTTP API makes. A retained command, an unexpected payload or an unknown
 * camera is logged and ignored; a failed call is logged and the camera's state sent again, so HA
 * shows the truth whatever it assumed.
 */
import type { IPublishPacket } from 'mqtt';
import type { Camera } from '../config/load.js';
import { type BridgeContext, errorMessage } from './bridge-context.js';
import { type Command, parseCommand } from './commands.js';

export class CommandHandler {
  readonly #b: BridgeContext;
  readonly #republish: (cameraId: string) => void;

  /** `republish`: sends the camera's state again, even if unchanged. */
  constructor(bridge: BridgeContext, republish: (cameraId: string) => void) {
    this.#b = bridge;
    this.#republish = republish;
  }

  onMessage(topic: string, payload: Buffer, packet: IPublishPacket): void {
    const log = this.#b.log;
    if (packet.retain) {
      log.warn({ topic }, 'MQTT: ignoring a retained command (commands must not be retained)');
      return;
    }
    const command = parseCommand(this.#b.ctx, topic, payload);
    if (command.kind === 'rejected') {
      log.warn({ topic }, `MQTT: ignoring a command: ${command.reason}`);
      return;
    }
    const camera = this.#b.d.cameras.get(command.camera);
    if (camera === undefined) {
      log.warn({ topic }, `MQTT: ignoring a command for unknown camera "${command.camera}"`);
      return;
    }
    void this.#execute(command, camera);
  }

  async #execute(command: Command, camera: Camera): Promise<void> {
    const d = this.#b.d;
    const log = this.#b.log.child({ camera: camera.id, command: command.kind });
    try {
      switch (command.kind) {
        case 'recording':
          log.info(`Home Assistant turns continuous recording ${command.continuous ? 'on' : 'off'}`);
          await d.cameras.update(camera.id, { recording: { continuous: command.continuous } });
          break;
        case 'save_clip':
          if (!d.clips) {
            log.warn('Home Assistant asked for a clip, but recordings are not available');
            return;
          }
          log.info('Home Assistant saves a clip');
          // The camera's default pre-roll and length, exactly as POST /api/cameras/:id/clips without a body.
          await d.clips.startClip(camera.id, { trigger: 'mqtt' });
          break;
        case 'snapshot':
          if (!d.snapshots) {
            log.warn('Home Assistant asked for a snapshot, but snapshots are not available');
            return;
          }
          log.info('Home Assistant saves a snapshot');
          await d.snapshots.save(camera.id, { trigger: 'mqtt' });
          break;
      }
    } catch (err) {
      log.warn({ err: errorMessage(err) }, `MQTT command failed: ${errorMessage(err)}`);
      // Whatever HA assumed (an optimistic switch), show the truth again.
      this.#republish(camera.id);
    }
  }
}
