import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The signal the soak's driver is started with (`--heapsnapshot-signal`): on it, node collects
 * all garbage and writes a heap snapshot to its `--diagnostic-dir`. What the snapshot holds is
 * what survived a full collection, so unlike RSS it does not swell when a busy machine puts
 * collections off.
 */
export const heapSnapshotSignal = 'SIGUSR2';

/** The driver's node options that make `takeHeapSnapshot` work. */
export function heapSnapshotNodeArgs(dir: string): string[] {
  return [`--heapsnapshot-signal=${heapSnapshotSignal}`, `--diagnostic-dir=${dir}`];
}

/** Live heap after a full collection: the total and the bytes per constructor (or node type). */
export interface LiveHeap {
  bytes: number;
  objects: number;
  byName: Map<string, number>;
}

interface SnapshotJson {
  snapshot: { meta: { node_fields: string[]; node_types: unknown[] } };
  nodes: number[];
  strings: string[];
}

/** Sums the self sizes of a heap snapshot's nodes, grouped by constructor name for objects and by type otherwise. */
export function liveHeapOf(text: string): LiveHeap {
  const s = JSON.parse(text) as SnapshotJson;
  const fields = s.snapshot.meta.node_fields;
  const types = s.snapshot.meta.node_types[0] as string[];
  const width = fields.length;
  const iType = fields.indexOf('type');
  const iName = fields.indexOf('name');
  const iSize = fields.indexOf('self_size');
  const byName = new Map<string, number>();
  let bytes = 0;
  let objects = 0;
  for (let i = 0; i < s.nodes.length; i += width) {
    const size = s.nodes[i + iSize] as number;
    const type = types[s.nodes[i + iType] as number] ?? 'unknown';
    const key = type === 'object' || type === 'closure' ? `${type}:${s.strings[s.nodes[i + iName] as number]}` : type;
    byName.set(key, (byName.get(key) ?? 0) + size);
    bytes += size;
    objects++;
  }
  return { bytes, objects, byName };
}

/** The names whose live bytes grew most from `a` to `b`, largest first. */
export function topGrowth(a: LiveHeap, b: LiveHeap, n = 6): { name: string; bytes: number }[] {
  return [...b.byName]
    .map(([name, v]) => ({ name, bytes: v - (a.byName.get(name) ?? 0) }))
    .sort((x, y) => y.bytes - x.bytes)
    .slice(0, n);
}

const snapshotFiles = (dir: string): string[] => readdirSync(dir).filter((f) => f.endsWith('.heapsnapshot'));

/**
 * Asks the driver for a heap snapshot and reads it once node has written it whole (it writes the
 * file as it walks the heap, so a file counts only when it parses). The driver's event loop is
 * held while node writes: about a second for the soak's heap.
 */
export async function takeHeapSnapshot(pid: number, dir: string, timeoutMs = 120_000): Promise<LiveHeap> {
  const before = new Set(snapshotFiles(dir));
  process.kill(pid, heapSnapshotSignal);
  const deadline = Date.now() + timeoutMs;
  let lastSize = -1;
  for (;;) {
    await new Promise((r) => setTimeout(r, 250));
    const file = snapshotFiles(dir).find((f) => !before.has(f));
    if (file) {
      const path = join(dir, file);
      const size = statSync(path).size;
      if (size > 0 && size === lastSize) {
        try {
          return liveHeapOf(readFileSync(path, 'utf8'));
        } catch {
          // Not whole yet: node is still writing.
        }
      }
      lastSize = size;
    }
    if (Date.now() > deadline) throw new Error(`no whole heap snapshot of pid ${pid} in ${dir} after ${timeoutMs} ms`);
  }
}
