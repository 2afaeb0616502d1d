import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic as writeAtomic } from '../src/isolation/writeFileAtomic';

/**
 * The file work of one CreateVolume and DeleteVolume of an empty 1 GiB volume on the local
 * backend, done directly in this process with synchronous calls: what a driver pays that
 * touches the share from its own process and has no isolation. Look for the registry entry and
 * the record, statfs for the capacity, clear leftovers, make the data directory, write the
 * record and the registry entry; then remove the record, the tree and the entry.
 */
export function directCreateDelete(share: string, id: string): void {
  const volume = path.join(share, 'volumes', id);
  const entry = path.join(share, 'registry', 'volumes', `${id}.json`);
  fs.mkdirSync(path.dirname(entry), { recursive: true });
  for (const f of [entry, path.join(volume, 'volume.json')]) if (fs.existsSync(f)) throw new Error(`${f} exists`);
  fs.statfsSync(share);
  fs.rmSync(volume, { recursive: true, force: true });
  fs.mkdirSync(path.join(volume, 'data'), { recursive: true, mode: 0o777 });
  const rec = JSON.stringify({ id, name: id, capacityBytes: '1073741824', parameters: {}, createdAt: new Date().toISOString() });
  writeAtomic(path.join(volume, 'volume.json'), rec);
  writeAtomic(entry, rec);
  fs.rmSync(path.join(volume, 'volume.json'));
  fs.rmSync(volume, { recursive: true });
  fs.rmSync(entry);
}
