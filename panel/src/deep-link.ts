/**
 * A tap on a Camstack notification opens the panel at the event's moment. Home Assistant's
 * ingress view loads the add-on at its root whatever the URL says, so the notification's link
 * carries the event in the query of Home Assistant's own page (`/hassio/ingress/<slug>?camstack_event=evt_12`);
 * the panel, served from the same origin inside that page's iframe, reads it there (or from its
 * own URL on the direct port) and goes to the recording, playing from just before the event.
 * The pure part is here; `event-link.ts` reads the page and follows it.
 */
import { dayOf } from './format.js';

/** The query parameter the notifications put on the panel's link. */
export const EVENT_PARAM = 'camstack_event';

/** Seconds of video shown before the event's start (as a click on the event strip). */
const LEAD_MS = 3000;

/** Pure: the event id a query string asks for (`evt_<n>`), or null. */
export function eventIdFromSearch(search: string): string | null {
  const id = new URLSearchParams(search).get(EVENT_PARAM);
  return id !== null && /^evt_\d{1,15}$/.test(id) ? id : null;
}

/** Pure: the panel route (relative) that plays an event's camera from just before `start`. */
export function eventRoute(camera: string, startIso: string): string {
  const start = Date.parse(startIso);
  const p = new URLSearchParams({ camera, day: dayOf(new Date(start)), at: String(start - LEAD_MS) });
  return `recordings?${p}`;
}
