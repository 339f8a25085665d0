/**
 * `npm run bench [name]`: runs the benchmarks in this folder. Each prints ratios against an anchor
 * measured in the same run; results are recorded in docs/benchmarks.md.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
const names = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .map((f) => f.replace(/\.bench\.ts$/, ''));
const wanted = process.argv.slice(2);
const selected = wanted.length ? names.filter((n) => wanted.includes(n)) : names;
if (selected.length === 0) {
  process.stdout.write(
    `no benchmarks${wanted.length ? ` named ${wanted.join(', ')}` : ''} (available: ${names.join(', ') || 'none yet'})\n`,
  );
}
for (const name of selected) {
  process.stdout.write(`\n== ${name}\n`);
  await import(`./${name}.bench.ts`);
}
