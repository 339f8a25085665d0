/**
 * A camera's `events` block: what its events do (which types record a clip, the clip's pre- and
 * post-roll, the cooldown, which types notify). The file form (snake_case) with its defaults, and
 * the conversions to the normalised settings and back. No I/O.
 */
import Type from 'typebox';
import { DETECTION_TYPES, type DetectionType, type EventSettings } from '../contract/index.js';

export { DETECTION_TYPES };

/** Every type records a clip but tamper (a camera knocked or covered); none notifies. */
export const EVENT_DEFAULTS = Object.freeze({
  record: DETECTION_TYPES.filter((t) => t !== 'tamper'),
  post_roll_seconds: 10,
  cooldown_seconds: 0,
  notify: [] as DetectionType[],
  notify_cooldown_seconds: 60,
});

const Types = (description: string) =>
  Type.Array(Type.Enum([...DETECTION_TYPES]), { uniqueItems: true, maxItems: DETECTION_TYPES.length, description });

export const EventsConfigSchema = Type.Object(
  {
    record: Type.Optional(
      Types(
        'Event types that record a clip: motion, person, vehicle, animal, line_crossing, intrusion, tamper, ' +
          'digital_input. Default all but tamper; [] records none.',
      ),
    ),
    pre_roll_seconds: Type.Optional(
      Type.Union([Type.Integer({ minimum: 0, maximum: 60 }), Type.Null()], {
        description: "Seconds before the event in its clip (0–60). Default: the camera's recording pre_roll_seconds.",
      }),
    ),
    post_roll_seconds: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 300,
        default: EVENT_DEFAULTS.post_roll_seconds,
        description:
          'Seconds the clip goes on after the event ends (1–300); another event within them extends the same ' +
          'clip. Default 10.',
      }),
    ),
    cooldown_seconds: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 3600,
        default: EVENT_DEFAULTS.cooldown_seconds,
        description: 'Seconds after an event clip ends before another event starts a new one (0–3600). Default 0.',
      }),
    ),
    notify: Type.Optional(
      Types('Event types that send a notification through the notify_services option. Default none.'),
    ),
    notify_cooldown_seconds: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 86_400,
        default: EVENT_DEFAULTS.notify_cooldown_seconds,
        description: 'Seconds between two notifications of this camera (0–86400). Default 60.',
      }),
    ),
  },
  { additionalProperties: false, description: "What the camera's events do. Every key is optional." },
);

export type EventsConfig = Type.Static<typeof EventsConfigSchema>;

/** The file form (validated) → the settings, defaults filled in. */
export function toEventSettings(raw: EventsConfig | null | undefined): EventSettings {
  const e = raw ?? {};
  return {
    record: [...(e.record ?? EVENT_DEFAULTS.record)],
    preRollSeconds: e.pre_roll_seconds ?? null,
    postRollSeconds: e.post_roll_seconds ?? EVENT_DEFAULTS.post_roll_seconds,
    cooldownSeconds: e.cooldown_seconds ?? EVENT_DEFAULTS.cooldown_seconds,
    notify: [...(e.notify ?? EVENT_DEFAULTS.notify)],
    notifyCooldownSeconds: e.notify_cooldown_seconds ?? EVENT_DEFAULTS.notify_cooldown_seconds,
  };
}

/** The settings → the file form, every key spelled out. */
export function eventsToFileForm(s: EventSettings): EventsConfig {
  return {
    record: [...s.record],
    pre_roll_seconds: s.preRollSeconds,
    post_roll_seconds: s.postRollSeconds,
    cooldown_seconds: s.cooldownSeconds,
    notify: [...s.notify],
    notify_cooldown_seconds: s.notifyCooldownSeconds,
  };
}

/** API field → file key, for the store's updates. */
export const EVENT_KEYS: Readonly<Record<keyof EventSettings, keyof EventsConfig>> = {
  record: 'record',
  preRollSeconds: 'pre_roll_seconds',
  postRollSeconds: 'post_roll_seconds',
  cooldownSeconds: 'cooldown_seconds',
  notify: 'notify',
  notifyCooldownSeconds: 'notify_cooldown_seconds',
};
