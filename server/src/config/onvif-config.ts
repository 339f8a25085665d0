/**
 * A camera's `onvif` block: where its ONVIF service answers and with which account, so Camstack
 * can follow the camera's own events (motion, person, line crossing…). Every key may be left out:
 * `onvif: {}` means the source's host on port 80 with the camera's own user name and password.
 * The file form with its defaults, and the conversions. No I/O.
 */
import Type from 'typebox';
import { NO_CONTROL_PATTERN } from './text.js';

/** What Camstack uses to reach the camera's ONVIF service (credentials resolved, never shown). */
export interface OnvifSettings {
  /** null: the host of the camera's source URL. */
  host: string | null;
  port: number;
  /** null: the camera's own user name (and then its password). */
  username: string | null;
  password: string | null;
  /** Follow the camera's events (PullPoint). */
  events: boolean;
}

export const ONVIF_DEFAULTS = Object.freeze({ port: 80, events: true });

export const OnvifConfigSchema = Type.Object(
  {
    host: Type.Optional(
      Type.Union([Type.String({ minLength: 1, maxLength: 253, pattern: '^[A-Za-z0-9.:\\[\\]_-]+$' }), Type.Null()], {
        description: "The camera's address for ONVIF. Default: the host of its source URL.",
      }),
    ),
    port: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 65535,
        default: ONVIF_DEFAULTS.port,
        description: 'ONVIF port. Default 80.',
      }),
    ),
    username: Type.Optional(
      Type.Union([Type.String({ maxLength: 256, pattern: NO_CONTROL_PATTERN }), Type.Null()], {
        description: "ONVIF user name. Default: the camera's user name (and password).",
      }),
    ),
    password: Type.Optional(
      Type.Union([Type.String({ maxLength: 256 }), Type.Null()], {
        description: 'ONVIF password, kept apart and never returned by the API.',
      }),
    ),
    events: Type.Optional(
      Type.Boolean({ default: ONVIF_DEFAULTS.events, description: "Follow the camera's ONVIF events. Default true." }),
    ),
  },
  { additionalProperties: false, description: "The camera's ONVIF service (its own events). Every key is optional." },
);

export type OnvifConfig = Type.Static<typeof OnvifConfigSchema>;

export function toOnvifSettings(raw: OnvifConfig | null | undefined): OnvifSettings | null {
  if (raw === null || raw === undefined) return null;
  const username = typeof raw.username === 'string' && raw.username.trim() !== '' ? raw.username.trim() : null;
  return {
    host: typeof raw.host === 'string' && raw.host !== '' ? raw.host : null,
    port: raw.port ?? ONVIF_DEFAULTS.port,
    username,
    password: username === null ? null : (raw.password ?? null),
    events: raw.events ?? ONVIF_DEFAULTS.events,
  };
}

export function onvifToFileForm(s: OnvifSettings): OnvifConfig {
  return {
    ...(s.host === null ? {} : { host: s.host }),
    port: s.port,
    ...(s.username === null ? {} : { username: s.username }),
    ...(s.password === null ? {} : { password: s.password }),
    events: s.events,
  };
}

/** API field → file key, for the store's updates. */
export const ONVIF_KEYS: Readonly<Record<keyof OnvifSettings, keyof OnvifConfig>> = {
  host: 'host',
  port: 'port',
  username: 'username',
  password: 'password',
  events: 'events',
};

/** Where and as whom to reach the camera's ONVIF service: its own settings, else the camera's. */
export function onvifEndpoint(camera: {
  source: string;
  username: string | null;
  password: string | null;
  onvif: OnvifSettings | null;
}): { host: string; port: number; user?: string; password?: string } | null {
  const o = camera.onvif;
  if (o === null) return null;
  let host = o.host;
  if (host === null) {
    try {
      host = new URL(camera.source).hostname.replace(/^\[|\]$/g, '');
    } catch {
      return null;
    }
  }
  const user = o.username ?? camera.username;
  const password = o.username !== null ? o.password : camera.password;
  return {
    host,
    port: o.port,
    ...(user !== null && user !== '' ? { user, password: password ?? '' } : {}),
  };
}
