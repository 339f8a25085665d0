/**
 * Reading V8 heap snapshots of the server (taken with `--heapsnapshot-signal`): the live heap
 * (a snapshot runs a full GC first), and the constructors that grew between two snapshots.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export interface HeapSummary {
  file: string;
  /** Sum of every node's self size: the live heap after the snapshot's full GC. */
  totalBytes: number;
  /** Self size and count per "type:name" (e.g. "object:Socket", "closure:onData", "string:"). */
  byName: Map<string, { bytes: number; count: number }>;
}

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

export function summarizeHeap(file: string): HeapSummary {
  const snap = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const fields = snap.snapshot.meta.node_fields;
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const types = snap.snapshot.meta.node_types[0];
  const byName = new Map<string, { bytes: number; count: number }>();
  let totalBytes = 0;
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + typeAt] ?? 0] ?? '?';
    const size = snap.nodes[i + sizeAt] ?? 0;
    totalBytes += size;
    // Strings and code are grouped by type only: their "name" is their content.
    const name = type === 'object' || type === 'closure' ? (snap.strings[snap.nodes[i + nameAt] ?? 0] ?? '') : '';
    const key = `${type}:${name.slice(0, 60)}`;
    const entry = byName.get(key) ?? { bytes: 0, count: 0 };
    entry.bytes += size;
    entry.count += 1;
    byName.set(key, entry);
  }
  return { file, totalBytes, byName };
}

/** Sends the signal and waits for the new .heapsnapshot file in `dir` to be complete. */
export async function takeHeapSnapshot(pid: number, dir: string, signal: NodeJS.Signals = 'SIGUSR2'): Promise<string> {
  const before = new Set(readdirSync(dir).filter((f) => f.endsWith('.heapsnapshot')));
  process.kill(pid, signal);
  const deadline = Date.now() + 180_000;
  let last = -1;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 1000));
    const fresh = readdirSync(dir).find((f) => f.endsWith('.heapsnapshot') && !before.has(f));
    if (!fresh) continue;
    const size = statSync(join(dir, fresh)).size;
    // Complete when its size stopped changing and the JSON document is closed.
    if (size > 0 && size === last && readFileSync(join(dir, fresh), 'utf8').trimEnd().endsWith('}')) {
      return join(dir, fresh);
    }
    last = size;
  }
  throw new Error(`no heap snapshot appeared in ${dir}`);
}

/** The constructors whose live bytes grew the most from `a` to `b`. */
export function heapGrowth(a: HeapSummary, b: HeapSummary, top = 12): { key: string; bytes: number; count: number }[] {
  const keys = new Set([...a.byName.keys(), ...b.byName.keys()]);
  return [...keys]
    .map((key) => ({
      key,
      bytes: (b.byName.get(key)?.bytes ?? 0) - (a.byName.get(key)?.bytes ?? 0),
      count: (b.byName.get(key)?.count ?? 0) - (a.byName.get(key)?.count ?? 0),
    }))
    .sort((x, y) => y.bytes - x.bytes)
    .slice(0, top);
}
