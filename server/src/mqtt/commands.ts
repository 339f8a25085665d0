/**
 * Commands from Home Assistant (pure parsing). A command is acted on only when its topic, camera
 * id and payload are exactly what the discovery configs promise; anything else is a
 * {@link RejectedCommand} with a reason to log, and nothing happens.
 */
import { isCameraId } from '../contract/index.js';
import type { TopicContext } from './topics.js';

export type Command =
  | { kind: 'recording'; camera: string; continuous: boolean }
  | { kind: 'save_clip'; camera: string }
  | { kind: 'snapshot'; camera: string };

export interface RejectedCommand {
  kind: 'rejected';
  topic: string;
  reason: string;
}

/** Longest command payload looked at (ON/OFF/PRESS are a few bytes). */
export const MAX_COMMAND_BYTES = 64;

/** A short, printable rendering of a payload for logs. */
export function describePayload(payload: Uint8Array): string {
  if (payload.length === 0) return '(empty)';
  const text = Buffer.from(payload.subarray(0, 32)).toString('utf8');
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is masked
  const printable = text.replace(/[\u0000-\u001f\u007f-\u009f\ufffd]/g, '?');
  return `${JSON.stringify(printable)}${payload.length > 32 ? `… (${payload.length} bytes)` : ''}`;
}

export function parseCommand(ctx: TopicContext, topic: string, payload: Uint8Array): Command | RejectedCommand {
  const reject = (reason: string): RejectedCommand => ({ kind: 'rejected', topic, reason });
  const base = `${ctx.topicPrefix}/camera/`;
  if (!topic.startsWith(base)) return reject('not a Camstack command topic');
  const parts = topic.slice(base.length).split('/');
  if (parts.length !== 3) return reject('not a Camstack command topic');
  const [camera = '', what, verb] = parts;
  if (!isCameraId(camera)) return reject(`invalid camera id ${JSON.stringify(camera.slice(0, 70))}`);
  if (payload.length > MAX_COMMAND_BYTES) return reject(`payload too long (${payload.length} bytes)`);
  const text = Buffer.from(payload).toString('utf8');
  if (what === 'recording' && verb === 'set') {
    if (text === 'ON') return { kind: 'recording', camera, continuous: true };
    if (text === 'OFF') return { kind: 'recording', camera, continuous: false };
    return reject(`expected ON or OFF, got ${describePayload(payload)}`);
  }
  if ((what === 'clip' || what === 'snapshot') && verb === 'save') {
    if (text !== 'PRESS') return reject(`expected PRESS, got ${describePayload(payload)}`);
    return what === 'clip' ? { kind: 'save_clip', camera } : { kind: 'snapshot', camera };
  }
  return reject('unknown command');
}
