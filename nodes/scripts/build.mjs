// Builds the Node-RED package: TypeScript (src/) → CommonJS in dist/, with each node's editor
// HTML (editor/) beside its .js and the icons in dist/icons, where Node-RED looks for them.
import { execFileSync } from 'node:child_process';
import { cpSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(pkgDir, 'dist');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

rmSync(dist, { recursive: true, force: true });
execFileSync(process.execPath, [tsc, '-p', join(pkgDir, 'tsconfig.build.json')], { cwd: pkgDir, stdio: 'inherit' });
for (const file of readdirSync(join(pkgDir, 'editor'))) {
  if (file.endsWith('.html')) cpSync(join(pkgDir, 'editor', file), join(dist, file));
}
cpSync(join(pkgDir, 'icons'), join(dist, 'icons'), { recursive: true });
