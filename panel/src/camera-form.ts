/** Pure: the settings' camera form values and the API requests made from them. */
import type { CameraInput, CameraView } from './api-types.js';

export interface FormValues {
  id: string;
  name: string;
  source: string;
  substream: string;
  username: string;
  password: string;
  enabled: boolean;
  continuous: boolean;
  retainDays: string;
  clipRetainDays: string;
  preRollSeconds: string;
  clipSeconds: string;
}

/**
 * Pure: what "Test connection" sends — the form as it would be saved; when editing, with the
 * camera's id so fields left "unchanged" (the password) are the stored ones.
 */
export function formToTestInput(v: FormValues, editing: CameraView | null): CameraInput {
  const input = formToInput(v, editing);
  if (editing) input.id = editing.id;
  else delete input.id;
  return input;
}

/** What the form holds besides its text fields: the camera's events, ONVIF and motion blocks. */
export interface FormExtras {
  events?: CameraInput['events'];
  /** ONVIF on (its address; empty host: the stream's) or off. */
  onvif?: { enabled: boolean; host: string; port: string };
  motion?: CameraInput['motion'];
}

const num = (s: string) => (s.trim() !== '' && Number.isFinite(Number(s)) ? Number(s) : (s as unknown as number));

/** Pure: what the form sends. Numbers stay as typed when they are not numbers (the API says why). */
export function formToInput(v: FormValues, editing: CameraView | null, extras: FormExtras = {}): CameraInput {
  const input: CameraInput = {
    name: v.name,
    source: v.source,
    enabled: v.enabled,
    recording: {
      continuous: v.continuous,
      retainDays: num(v.retainDays),
      clipRetainDays: num(v.clipRetainDays),
      preRollSeconds: num(v.preRollSeconds),
      clipSeconds: num(v.clipSeconds),
    },
  };
  if (!editing) input.id = v.id;
  if (v.substream.trim() !== '') input.substream = v.substream.trim();
  else if (editing?.substream) input.substream = null;
  if (v.username !== '') input.username = v.username;
  if (v.password !== '') input.password = v.password;
  if (extras.events) input.events = extras.events;
  if (extras.motion) input.motion = extras.motion;
  if (extras.onvif?.enabled) {
    input.onvif = {
      host: extras.onvif.host.trim() === '' ? null : extras.onvif.host.trim(),
      port: num(extras.onvif.port),
    };
  } else if (extras.onvif && editing?.onvif) {
    input.onvif = null;
  }
  return input;
}
