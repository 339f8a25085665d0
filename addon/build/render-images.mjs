#!/usr/bin/env node
// Renders the add-on store images from the SVG below with headless Chromium (Debian's, installed
// by `npm run setup`): addon/icon.png (128×128) and addon/logo.png (250×100), transparent
// background. Run it after changing the drawing: node addon/build/render-images.mjs
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const addonDir = join(dirname(fileURLToPath(import.meta.url)), '..');

// A CCTV camera on its wall mount, on a rounded tile (viewBox 128×128).
const camera = `
  <rect x="4" y="4" width="120" height="120" rx="26" fill="#12324f"/>
  <rect x="4" y="4" width="120" height="120" rx="26" fill="url(#shine)"/>
  <g transform="rotate(18 64 52)">
    <rect x="22" y="34" width="72" height="34" rx="8" fill="#f2f5f8"/>
    <rect x="90" y="40" width="14" height="22" rx="3" fill="#c9d3dc"/>
    <circle cx="97" cy="51" r="6" fill="#12324f"/>
    <circle cx="97" cy="51" r="2.6" fill="#4fc3f7"/>
    <rect x="28" y="30" width="60" height="6" rx="3" fill="#c9d3dc"/>
    <circle cx="34" cy="51" r="3.5" fill="#ef5350"/>
  </g>
  <rect x="40" y="70" width="8" height="30" rx="3" fill="#c9d3dc"/>
  <rect x="26" y="96" width="36" height="9" rx="4" fill="#f2f5f8"/>`;

const defs = `<defs><linearGradient id="shine" x1="0" y1="0" x2="0" y2="1">
  <stop offset="0" stop-color="#ffffff" stop-opacity="0.14"/><stop offset="1" stop-color="#ffffff" stop-opacity="0"/>
</linearGradient></defs>`;

const icon = `<svg xmlns="http://www.w3.org/2000/svg" width="128" height="128" viewBox="0 0 128 128">${defs}${camera}</svg>`;
const logo = `<svg xmlns="http://www.w3.org/2000/svg" width="250" height="100" viewBox="0 0 250 100">${defs}
  <g transform="translate(6 10) scale(0.625)">${camera}</g>
  <text x="94" y="58" font-family="DejaVu Sans, Verdana, sans-serif" font-size="25" font-weight="bold" fill="#12324f">Camstack</text>
  <text x="95" y="76" font-family="DejaVu Sans, Verdana, sans-serif" font-size="9" fill="#4a6378">cameras for Home Assistant</text>
</svg>`;

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox'] });
try {
  for (const [name, svg, width, height] of [
    ['icon.png', icon, 128, 128],
    ['logo.png', logo, 250, 100],
  ]) {
    const page = await browser.newPage({ viewport: { width, height }, deviceScaleFactor: 1 });
    await page.setContent(`<html><body style="margin:0;background:transparent">${svg}</body></html>`);
    await page.screenshot({ path: join(addonDir, name), omitBackground: true, clip: { x: 0, y: 0, width, height } });
    await page.close();
    process.stdout.write(`wrote addon/${name} (${width}×${height})\n`);
  }
} finally {
  await browser.close();
}
