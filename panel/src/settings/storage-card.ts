/**
 * The storage card of `<camstack-settings>`: the media disk as a bar (recordings, protected,
 * other files, with the storage cap and the minimum free space marked) and a bar per camera.
 * Rendered in the settings' shadow root, styled by `styles.ts`.
 */
import { html, nothing } from 'lit';
import type { StorageReport } from '../api.js';
import { fmtBytes } from '../format.js';
import { icon, mdiHarddisk, mdiRefresh } from '../icons.js';
import { cameraBars, diskPicture } from '../storage.js';
import { styleProps } from '../style-props.js';

/** One camera's tiers in words: what each holds and how long it is kept. */
function tiers(
  b: { bytes: number; protectedBytes: number; clipBytes: number },
  days: { retainDays: number; clipRetainDays: number } | null,
): string {
  const video = fmtBytes(Math.max(0, b.bytes - b.protectedBytes - b.clipBytes));
  const keep = (n: number | undefined) => (n === undefined ? '' : ` (${n} d)`);
  return `24/7 ${video}${keep(days?.retainDays)} · clips ${fmtBytes(b.clipBytes)}${keep(days?.clipRetainDays)} · protected ${fmtBytes(b.protectedBytes)} (kept)`;
}

export function storageCard(
  r: StorageReport | null,
  error: string,
  refresh: () => void,
  retention: (camera: string) => { retainDays: number; clipRetainDays: number } | null = () => null,
) {
  const disk = r ? diskPicture(r) : null;
  const bars = r ? cameraBars(r) : [];
  const lim = r?.limits;
  return html`<section class="card" aria-labelledby="storage-h">
    <div class="section-head">${icon(mdiHarddisk)}<h2 id="storage-h">Storage</h2>
      <span class="muted">${r ? `${fmtBytes(r.totalBytes)} in ${r.recordings} recordings` : ''}</span>
      <button class="icon-button" aria-label="Refresh storage use" title="Refresh" @click=${refresh}>${icon(mdiRefresh)}</button>
    </div>
    ${error ? html`<p class="muted">${error}</p>` : nothing}
    ${
      r && disk
        ? html`<div class="disk" data-testid="disk">
          <div class="disk-bar" role="img"
            aria-label="Media disk: recordings ${fmtBytes(r.totalBytes)} (${fmtBytes(r.protectedBytes)} protected)${r.disk ? `, ${fmtBytes(r.disk.freeBytes)} free of ${fmtBytes(r.disk.totalBytes)}` : ''}${lim?.maxBytes ? `, cap ${fmtBytes(lim.maxBytes)}` : ''}">
            <span class="bar-fill" style=${barWidth(disk.recordings)}></span>
            <span class="bar-fill protected" style=${barWidth(disk.protected)}></span>
            <span class="bar-fill other" style=${barWidth(disk.other)}></span>
            ${disk.capAt !== null ? html`<span class="mark cap" style=${markAt(disk.capAt)}></span>` : nothing}
            ${disk.minFreeAt !== null ? html`<span class="mark min-free" style=${markAt(disk.minFreeAt)}></span>` : nothing}
          </div>
          <div class="legend">
            <span><span class="swatch"></span>recordings</span>
            <span><span class="swatch protected"></span>protected</span>
            <span><span class="swatch other"></span>other files</span>
            <span class="disk-free">${r.disk ? `${fmtBytes(r.disk.freeBytes)} free of ${fmtBytes(r.disk.totalBytes)}` : 'disk size unknown'}</span>
            ${lim?.maxBytes ? html`<span class="cap-text"><span class="swatch-line cap"></span>cap ${fmtBytes(lim.maxBytes)} (storage_max_gb)</span>` : html`<span>no cap (storage_max_gb)</span>`}
            ${lim && lim.minFreeBytes !== null ? html`<span><span class="swatch-line min-free"></span>keeps ${lim.minFreePercent} % free (${fmtBytes(lim.minFreeBytes)})</span>` : nothing}
          </div>
        </div>
        <div class="legend tiers-legend">
          <span><span class="swatch"></span>24/7 video (kept the camera's days)</span>
          <span><span class="swatch clips"></span>clips (kept the camera's clip days)</span>
          <span><span class="swatch protected"></span>protected (kept until unprotected)</span>
        </div>
        <div class="bars" role="list" aria-label="Storage per camera">
          ${bars.map(
            (b) => html`<div class="bar-row" role="listitem" data-camera=${b.camera}
              aria-label="${b.name}: ${fmtBytes(b.bytes)}: 24/7 ${fmtBytes(b.bytes - b.protectedBytes - b.clipBytes)}, clips ${fmtBytes(b.clipBytes)}, protected ${fmtBytes(b.protectedBytes)}; ${b.recordings} recordings${b.configured ? '' : ' (removed camera)'}">
              <span>${b.name}${b.configured ? '' : html` <span class="muted">(removed)</span>`}</span>
              <span class="bar-track" aria-hidden="true">
                <span class="bar-fill" style=${barWidth(b.plain)}></span>
                <span class="bar-fill clips" style=${barWidth(b.clips)}></span>
                <span class="bar-fill protected" style=${barWidth(b.protected)}></span>
              </span>
              <span class="muted">${fmtBytes(b.bytes)}</span>
              <span class="tiers muted">${tiers(b, retention(b.camera))}</span>
            </div>`,
          )}
        </div>`
        : error
          ? nothing
          : html`<p class="muted">Measuring…</p>`
    }
  </section>`;
}

/** Bars are sized through CSSOM by styleMap (the CSP allows no inline style attributes). */
function barWidth(percent: number) {
  return styleProps({ width: `${Math.max(0, Math.min(100, percent)).toFixed(2)}%` });
}

/** A line across the disk bar (the cap, the minimum free space). */
function markAt(percent: number) {
  return styleProps({ left: `${Math.max(0, Math.min(100, percent)).toFixed(2)}%` });
}
