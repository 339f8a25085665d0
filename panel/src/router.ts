/**
 * Client routes, relative to the panel's root (the document's base: `/` on the direct port,
 * `/api/hassio_ingress/<token>/` behind ingress). The server answers every such path with
 * index.html, so a reload or a shared link lands on the same view.
 *
 *   ''                 live wall
 *   camera/<id>        one camera
 *   recordings?camera=&day=&clips=1&protected=1&at=<ms>
 *   settings
 *   embed/<id>         the player alone (for a dashboard iframe)
 */
export type Route =
  | { view: 'wall' }
  | { view: 'camera'; id: string }
  | { view: 'recordings'; params: URLSearchParams }
  | { view: 'settings' }
  | { view: 'embed'; id: string };

function basePath(): string {
  return new URL(document.baseURI).pathname;
}

/** Pure: the route of a path relative to the root. */
export function parseRoute(relative: string, search: string): Route {
  const parts = relative.split('/').filter(Boolean).map(decodeURIComponent);
  const [head, arg] = parts;
  if (head === 'camera' && arg) return { view: 'camera', id: arg };
  if (head === 'embed' && arg) return { view: 'embed', id: arg };
  if (head === 'recordings') return { view: 'recordings', params: new URLSearchParams(search) };
  if (head === 'settings') return { view: 'settings' };
  return { view: 'wall' };
}

export function currentRoute(): Route {
  const base = basePath();
  const path = location.pathname.startsWith(base) ? location.pathname.slice(base.length) : '';
  return parseRoute(path, location.search);
}

/** Goes to a route given relative to the root (`camera/porch`, `recordings?camera=porch`). */
export function navigate(to: string, replace = false): void {
  const url = new URL(to, document.baseURI);
  if (url.href === location.href) return;
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  window.dispatchEvent(new Event('camstack-route'));
}

/** Same-document navigation for plain links inside the panel (keeps modifier-clicks and downloads). */
export function interceptLinks(root: EventTarget): () => void {
  const onClick = (ev: Event) => {
    const e = ev as MouseEvent;
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    const a = e.composedPath().find((n): n is HTMLAnchorElement => n instanceof HTMLAnchorElement);
    if (!a || a.hasAttribute('download') || a.target || !a.href) return;
    const url = new URL(a.href);
    if (url.origin !== location.origin || !url.pathname.startsWith(basePath()) || url.pathname.includes('/api/')) {
      return;
    }
    e.preventDefault();
    navigate(url.href);
  };
  root.addEventListener('click', onClick);
  return () => root.removeEventListener('click', onClick);
}
