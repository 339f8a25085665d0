// Builds the Node-RED package: every module of src/ compiled by esbuild into CommonJS in dist/ (one
// file each, requiring each other as before, so the nodes share one client module and its error
// classes), with the server's contract (limits, event types, camera-id pattern) inlined where it
// is imported: the published package has no runtime dependency. Each node's editor HTML (editor/)
// goes beside its .js with the same contract values in front of it; the icons in dist/icons.
import { execFileSync } from 'node:child_process';
import { cpSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(pkgDir, 'dist');
const contractEntry = join(pkgDir, '..', 'server', 'src', 'contract', 'index.ts');
const require = createRequire(import.meta.url);
const tsc = require.resolve('typescript/bin/tsc');

// Type-check first: esbuild only strips types.
execFileSync(process.execPath, [tsc, '-p', join(pkgDir, 'tsconfig.build.json')], { cwd: pkgDir, stdio: 'inherit' });

rmSync(dist, { recursive: true, force: true });
const src = join(pkgDir, 'src');
const modules = readdirSync(src, { recursive: true }).filter((f) => f.endsWith('.ts'));
/** Our own modules stay separate files (required at run time); everything else is inlined. */
const ownModulesExternal = {
  name: 'own-modules-external',
  setup(b) {
    b.onResolve({ filter: /^\./ }, (args) => {
      if (args.kind === 'entry-point') return undefined;
      const target = resolve(args.resolveDir, args.path);
      return target.startsWith(src + sep) ? { path: args.path, external: true } : undefined;
    });
  },
};
const result = await build({
  entryPoints: modules.map((f) => join(src, f)),
  outbase: src,
  outdir: dist,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node18',
  metafile: true,
  plugins: [ownModulesExternal],
  logLevel: 'warning',
});
const entries = modules.filter((f) => /^camstack-[a-z]+\.ts$/.test(f));
// Only our own sources may be bundled: anything from node_modules would be a hidden dependency.
const foreign = Object.keys(result.metafile.inputs).filter((p) => p.split(/[\\/]/).includes('node_modules'));
if (foreign.length) throw new Error(`the Node-RED package must not bundle dependencies: ${foreign.join(', ')}`);

// The contract's values for the editors (browser scripts): evaluated from the same source.
const bundled = await build({
  entryPoints: [contractEntry],
  bundle: true,
  format: 'cjs',
  platform: 'neutral',
  write: false,
});
const mod = { exports: {} };
new Function('module', 'exports', bundled.outputFiles[0].text)(mod, mod.exports);
const c = mod.exports;
const facts = {
  CAMERA_ID_PATTERN: c.CAMERA_ID_PATTERN,
  EVENT_DESCRIPTIONS: c.EVENT_DESCRIPTIONS,
  DEFAULT_EVENT_TYPES: c.DEFAULT_EVENT_TYPES,
  MAX_PRE_ROLL_SECONDS: c.MAX_PRE_ROLL_SECONDS,
  MAX_CLIP_SECONDS: c.MAX_CLIP_SECONDS,
  MIN_SNAPSHOT_WIDTH: c.MIN_SNAPSHOT_WIDTH,
  MAX_SNAPSHOT_WIDTH: c.MAX_SNAPSHOT_WIDTH,
};
const prelude = `<script type="text/javascript">window.CamstackContract = ${JSON.stringify(facts)};</script>\n`;
for (const file of readdirSync(join(pkgDir, 'editor'))) {
  if (!file.endsWith('.html')) continue;
  const html = readFileSync(join(pkgDir, 'editor', file), 'utf8');
  writeFileSync(
    join(dist, file),
    prelude + html.replace(/\{\{(\w+)\}\}/g, (m, k) => (k in facts ? String(facts[k]) : m)),
  );
}
cpSync(join(pkgDir, 'icons'), join(dist, 'icons'), { recursive: true });
process.stdout.write(`built ${entries.length} nodes into ${relative(process.cwd(), dist) || '.'}${sep}\n`);
