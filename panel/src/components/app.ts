/**
 * `<camstack-app>`: the panel's shell in Home Assistant's style — a top app bar with the views
 * (Live, Recordings, Settings), the engines' state ("go2rtc not running" is said, not
 * hidden), and the current view. Inside HA's ingress iframe the menu button asks HA to toggle its
 * sidebar (`home-assistant/toggle-menu`), as HA's own app panels do.
 */
import { css, html, LitElement, nothing } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import { followEventLink } from '../event-link.js';
import { icon, mdiAlertCircleOutline, mdiCctv, mdiCog, mdiFilmstrip, mdiMenu, mdiViewGrid } from '../icons.js';
import { currentRoute, interceptLinks, navigate, type Route } from '../router.js';
import { StoreController, store } from '../store.js';
import { shared, tokens } from '../theme.js';
import './camera-view.js';
import './player.js';
import './recordings.js';
import './settings.js';
import './wall.js';

const TABS = [
  { view: 'wall', href: './', label: 'Live', icon: mdiViewGrid },
  { view: 'recordings', href: 'recordings', label: 'Recordings', icon: mdiFilmstrip },
  { view: 'settings', href: 'settings', label: 'Settings', icon: mdiCog },
] as const;

@customElement('camstack-app')
export class CamstackApp extends LitElement {
  readonly #store = new StoreController(this);
  @state() private route: Route = currentRoute();
  #unintercept: (() => void) | null = null;
  readonly #framed = window.parent !== window;

  static override styles = [
    tokens,
    shared,
    css`
      :host {
        display: flex;
        flex-direction: column;
        min-height: 100vh;
        background: var(--cs-bg);
        color: var(--cs-text);
      }
      header.top {
        position: sticky;
        top: 0;
        z-index: 2;
        display: flex;
        align-items: center;
        gap: 4px;
        min-height: 56px;
        padding: 0 8px 0 12px;
        background: var(--cs-header-bg);
        color: var(--cs-header-text);
        box-shadow: 0 1px 3px rgba(0, 0, 0, 0.25);
      }
      header.top h1 {
        font-size: 20px;
        font-weight: 400;
        margin: 0 12px 0 4px;
        display: flex;
        align-items: center;
        gap: 8px;
      }
      header.top button.icon-button {
        color: inherit;
      }
      nav {
        display: flex;
        gap: 2px;
        flex: 1;
        overflow-x: auto;
      }
      nav a {
        color: inherit;
        text-decoration: none;
        display: inline-flex;
        align-items: center;
        gap: 6px;
        padding: 0 12px;
        min-height: 56px;
        border-bottom: 2px solid transparent;
        opacity: 0.8;
      }
      nav a[aria-current='page'] {
        border-bottom-color: currentColor;
        opacity: 1;
      }
      .banner {
        display: flex;
        gap: 8px;
        align-items: flex-start;
        padding: 10px 16px;
        background: color-mix(in srgb, var(--cs-warning) 22%, var(--cs-bg));
        border-bottom: 1px solid var(--cs-divider);
      }
      .banner.offline {
        background: color-mix(in srgb, var(--cs-error) 20%, var(--cs-bg));
      }
      .banner ul {
        margin: 0;
        padding-left: 18px;
      }
      main {
        flex: 1;
        padding: 16px;
        width: 100%;
        max-width: 1600px;
        margin: 0 auto;
      }
      main.embed {
        padding: 0;
        max-width: none;
      }
      @media (max-width: 600px) {
        main {
          padding: 8px;
        }
        header.top h1 .title,
        nav a .label {
          display: none;
        }
        nav a {
          padding: 0 14px;
        }
      }
    `,
  ];

  override connectedCallback(): void {
    super.connectedCallback();
    window.addEventListener('popstate', this.#onRoute);
    window.addEventListener('camstack-route', this.#onRoute);
    this.#unintercept = interceptLinks(this.renderRoot);
    void followEventLink((route) => navigate(route, true));
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    window.removeEventListener('popstate', this.#onRoute);
    window.removeEventListener('camstack-route', this.#onRoute);
    this.#unintercept?.();
  }

  #onRoute = () => {
    this.route = currentRoute();
    window.scrollTo(0, 0);
  };

  #toggleHaMenu(): void {
    window.parent.postMessage({ type: 'home-assistant/toggle-menu' }, location.origin);
  }

  #view() {
    const r = this.route;
    switch (r.view) {
      case 'camera':
        return html`<camstack-camera-view camera=${r.id}></camstack-camera-view>`;
      case 'recordings':
        return html`<camstack-recordings .params=${r.params}></camstack-recordings>`;
      case 'settings':
        return html`<camstack-settings></camstack-settings>`;
      case 'embed':
        return html`<camstack-player camera=${r.id} label=${store.camera(r.id)?.name ?? r.id}></camstack-player>`;
      default:
        return html`<camstack-wall></camstack-wall>`;
    }
  }

  #banner() {
    if (store.loaded && !store.live && store.loadError) {
      return html`<div class="banner offline" role="alert">${icon(mdiAlertCircleOutline)} The add-on cannot be reached: ${store.loadError}</div>`;
    }
    const h = store.health;
    if (!h || h.status === 'ok') return nothing;
    return html`<div class="banner" role="status" data-health="degraded">
      ${icon(mdiAlertCircleOutline)}
      <div>
        <strong>${h.engines.go2rtc.state !== 'running' ? 'go2rtc not running — live view uses MJPEG' : 'Degraded'}</strong>
        <ul>
          ${h.reasons.map((r) => html`<li>${r}</li>`)}
        </ul>
      </div>
    </div>`;
  }

  protected override render() {
    void this.#store;
    const r = this.route;
    if (r.view === 'embed') return html`<main class="embed">${this.#view()}</main>`;
    const active = r.view === 'camera' ? 'wall' : r.view;
    return html`
      <header class="top">
        ${
          this.#framed
            ? html`<button class="icon-button" aria-label="Home Assistant menu" title="Menu" @click=${this.#toggleHaMenu}>
              ${icon(mdiMenu)}
            </button>`
            : nothing
        }
        <h1>${icon(mdiCctv)}<span class="title">Camstack</span></h1>
        <nav aria-label="Views">
          ${TABS.map(
            (t) =>
              html`<a href=${t.href} aria-label=${t.label} aria-current=${active === t.view ? 'page' : 'false'}
                >${icon(t.icon)}<span class="label">${t.label}</span></a
              >`,
          )}
        </nav>
      </header>
      ${this.#banner()}
      <main>${this.#view()}</main>
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'camstack-app': CamstackApp;
  }
}
