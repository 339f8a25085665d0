/**
 * The map of docs/architecture.md, checked: capability folders of the server import each other
 * without a cycle (type-only imports included: a cycle of types is still a cycle a reader has to
 * follow); the panel and the Node-RED package take nothing from the server but its contract; the
 * contract imports nothing; no source module is over 600 lines.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const serverSrc = join(root, 'server', 'src');

function sources(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .map((f) => join(dir, f));
}

/** Relative imports and re-exports of a module (static `import … from`, `export … from`, `import('…')`). */
function relativeImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [
    ...text.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+'([^']+)'/gms),
    ...text.matchAll(/import\(\s*'([^']+)'\s*\)/g),
  ].map((m) => m[1] ?? '');
  return specs.filter((s) => s.startsWith('.')).map((s) => resolve(dirname(file), s).replace(/\.js$/, '.ts'));
}

/** The capability folder of a server module (`cameras`, `http`…), or null for a top-level file. */
function folderOf(file: string): string | null {
  const parts = relative(serverSrc, file).split(sep);
  return parts.length > 1 ? (parts[0] ?? null) : null;
}

/** Strongly connected components of more than one folder (Tarjan). */
function cycles(edges: Map<string, Set<string>>): string[][] {
  let index = 0;
  const stack: string[] = [];
  const onStack = new Set<string>();
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) ?? 0, low.get(w) ?? 0));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v) ?? 0, idx.get(w) ?? 0));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string | undefined;
      do {
        w = stack.pop();
        if (w === undefined) break;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1) found.push(scc.sort());
    }
  };
  for (const v of edges.keys()) if (!idx.has(v)) visit(v);
  return found;
}

describe('architecture', () => {
  it('server capability folders import each other without a cycle', () => {
    const edges = new Map<string, Set<string>>();
    const why = new Map<string, string>();
    for (const file of sources(serverSrc)) {
      const from = folderOf(file);
      if (from === null) continue;
      for (const target of relativeImports(file)) {
        const to = folderOf(target);
        if (to === null || to === from) continue;
        if (!edges.has(from)) edges.set(from, new Set());
        edges.get(from)?.add(to);
        why.set(`${from}>${to}`, `${relative(serverSrc, file)} → ${relative(serverSrc, target)}`);
      }
    }
    const found = cycles(edges);
    const explain = found.map((scc) =>
      scc
        .flatMap((a) => scc.filter((b) => edges.get(a)?.has(b)).map((b) => `  ${a} → ${b}: ${why.get(`${a}>${b}`)}`))
        .join('\n'),
    );
    assert.deepEqual(found, [], `import cycles between folders:\n${explain.join('\n\n')}`);
    assert.ok(edges.size >= 10, `the folders were read (${edges.size})`);
  });

  it('the contract imports nothing but itself', () => {
    for (const file of sources(join(serverSrc, 'contract'))) {
      for (const target of relativeImports(file)) {
        assert.equal(folderOf(target), 'contract', `${relative(root, file)} imports ${relative(root, target)}`);
      }
      assert.doesNotMatch(
        readFileSync(file, 'utf8'),
        /from 'node:|from '[a-z@]/,
        `${relative(root, file)}: no package`,
      );
    }
  });

  it('the panel and the Node-RED package take only the contract from the server', () => {
    for (const dir of ['panel/src', 'nodes/src']) {
      for (const file of sources(join(root, dir))) {
        for (const target of relativeImports(file)) {
          if (!target.startsWith(serverSrc + sep)) continue;
          assert.equal(folderOf(target), 'contract', `${relative(root, file)} imports ${relative(root, target)}`);
        }
      }
    }
  });

  it('no source module is over 600 lines', () => {
    const long: string[] = [];
    for (const dir of ['server/src', 'panel/src', 'nodes/src']) {
      for (const file of sources(join(root, dir))) {
        const lines = readFileSync(file, 'utf8').split('\n').length;
        if (lines > 600) long.push(`${relative(root, file)}: ${lines}`);
      }
    }
    assert.deepEqual(long, []);
  });
});
