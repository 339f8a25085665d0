/**
 * `<camstack-confirm>`: a modal confirmation on the native `<dialog>` (focus trapped, Escape
 * cancels, screen readers announce it). `await el.ask('Delete …?', 'Delete')` → true/false.
 */
import { css, html, LitElement } from 'lit';
import { customElement, query, state } from 'lit/decorators.js';
import { shared, tokens } from '../theme.js';

@customElement('camstack-confirm')
export class CamstackConfirm extends LitElement {
  @state() private message = '';
  @state() private ok = 'OK';
  @query('dialog') private dialog!: HTMLDialogElement;
  #resolve: ((v: boolean) => void) | null = null;

  static override styles = [
    tokens,
    shared,
    css`
      dialog {
        border: none;
        border-radius: var(--cs-radius);
        background: var(--cs-card);
        color: var(--cs-text);
        padding: 20px;
        max-width: min(420px, calc(100vw - 32px));
        box-shadow: 0 8px 30px rgba(0, 0, 0, 0.35);
      }
      dialog::backdrop {
        background: rgba(0, 0, 0, 0.45);
      }
      p {
        margin: 0 0 20px;
        line-height: 1.4;
      }
      .buttons {
        display: flex;
        justify-content: flex-end;
        gap: 8px;
      }
    `,
  ];

  async ask(message: string, ok = 'OK'): Promise<boolean> {
    this.#resolve?.(false);
    this.message = message;
    this.ok = ok;
    await this.updateComplete;
    this.dialog.showModal();
    return new Promise<boolean>((resolve) => {
      this.#resolve = resolve;
    });
  }

  #close(value: boolean): void {
    if (this.dialog.open) this.dialog.close();
    this.#resolve?.(value);
    this.#resolve = null;
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#resolve?.(false);
    this.#resolve = null;
  }

  protected override render() {
    return html`<dialog aria-labelledby="confirm-text" @cancel=${() => this.#close(false)}>
      <p id="confirm-text">${this.message}</p>
      <div class="buttons">
        <button class="cancel" @click=${() => this.#close(false)}>Cancel</button>
        <button class="primary danger-ok" @click=${() => this.#close(true)}>${this.ok}</button>
      </div>
    </dialog>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'camstack-confirm': CamstackConfirm;
  }
}
