/**
 * Builds the panel into server/public/ (served by server/src/http/static.ts). `base: './'` keeps
 * every asset URL relative, so the panel works under Home Assistant's ingress prefix; hashed file
 * names let the server mark assets immutable. One JS chunk, one CSS file: no framework but Lit.
 */
import { defineConfig } from 'vite';

export default defineConfig({
  base: './',
  build: {
    outDir: '../server/public',
    emptyOutDir: true,
    target: 'es2022',
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    reportCompressedSize: true,
  },
});
