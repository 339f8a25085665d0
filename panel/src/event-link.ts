/** Follows a notification's link to an event (see `deep-link.ts`): reads the page, asks the API. */
import { api } from './api.js';
import { eventIdFromSearch, eventRoute } from './deep-link.js';

/** The event the page was opened for: the panel's own URL, else Home Assistant's page around it. */
function requestedEvent(): string | null {
  const own = eventIdFromSearch(location.search);
  if (own) return own;
  try {
    // Same origin behind ingress; a foreign embedder throws, and then there is no link to follow.
    if (window.parent !== window) return eventIdFromSearch(window.parent.location.search);
  } catch {
    // not readable
  }
  return null;
}

/**
 * Follows the link once per event and tab (Home Assistant keeps its URL while the user moves
 * about in the panel; a reload must not pull them back). Returns the route it went to.
 */
export async function followEventLink(go: (route: string) => void): Promise<string | null> {
  const id = requestedEvent();
  if (!id) return null;
  const key = `camstack-followed-${id}`;
  try {
    if (sessionStorage.getItem(key)) return null;
    sessionStorage.setItem(key, '1');
  } catch {
    // storage unavailable: follow it each time
  }
  try {
    const event = await api.cameraEvent(id);
    const route = eventRoute(event.camera, event.start);
    go(route);
    return route;
  } catch {
    return null; // deleted or expired: the panel opens where it would anyway
  }
}
