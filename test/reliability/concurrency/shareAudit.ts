import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { readMountTable, type MountEntry } from '../../../src/mount/mountTable';
import type { SnapshotRecord as SnapshotRecordInMemory, VolumeRecord as VolumeRecordInMemory } from '../../../src/backend/records';

/** Records as the files hold them: byte counts as JSON numbers while they are safe integers. */
type VolumeRecord = Omit<VolumeRecordInMemory, 'capacityBytes'> & { capacityBytes: number };
type SnapshotRecord = Omit<SnapshotRecordInMemory, 'sizeBytes'> & { sizeBytes: number };
import type { MountRegistration } from '../../../src/health/mountRegistration';

/** What is on the share, read straight from disk, and everything wrong with it. */
export interface ShareAudit {
  volumes: Map<string, VolumeRecord>;
  snapshots: Map<string, SnapshotRecord>;
  /** Half-written or missing records, stray (temp) files, directories without a record. */
  problems: string[];
}

const isIsoTime = (v: unknown): boolean => typeof v === 'string' && !Number.isNaN(Date.parse(v));

function parseRecord<T>(file: string, problems: string[]): T | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch (err) {
    problems.push(`${file} does not parse: ${(err as Error).message}`);
    return undefined;
  }
}

/** Entries of a record directory other than the expected ones (temp files of an interrupted write, leftovers). */
function strayEntries(dir: string, expected: string[], problems: string[]): string[] {
  const names = readdirSync(dir).sort();
  for (const n of names) if (!expected.includes(n)) problems.push(`${path.join(dir, n)} is a stray entry`);
  return names;
}

function auditVolume(dir: string, id: string, problems: string[]): VolumeRecord | undefined {
  const names = strayEntries(dir, ['data', 'volume.json'], problems);
  if (!names.includes('volume.json')) {
    problems.push(`${dir} has no volume.json (an orphaned or unfinished volume)`);
    return undefined;
  }
  if (!names.includes('data') || !lstatSync(path.join(dir, 'data')).isDirectory())
    problems.push(`${dir}/data is missing or not a directory`);
  const rec = parseRecord<VolumeRecord>(path.join(dir, 'volume.json'), problems);
  if (!rec) return undefined;
  const bad: string[] = [];
  if (rec.id !== id) bad.push(`id ${JSON.stringify(rec.id)}`);
  if (typeof rec.name !== 'string' || rec.name === '') bad.push('name');
  if (!Number.isSafeInteger(rec.capacityBytes) || rec.capacityBytes <= 0) bad.push(`capacityBytes ${rec.capacityBytes}`);
  if (typeof rec.parameters !== 'object' || rec.parameters === null) bad.push('parameters');
  if (!isIsoTime(rec.createdAt)) bad.push(`createdAt ${JSON.stringify(rec.createdAt)}`);
  if (bad.length > 0) problems.push(`${dir}/volume.json has bad fields: ${bad.join(', ')}`);
  return rec;
}

function auditSnapshot(dir: string, id: string, problems: string[]): SnapshotRecord | undefined {
  const names = strayEntries(dir, ['data.tar.gz', 'snapshot.json'], problems);
  if (!names.includes('snapshot.json')) {
    problems.push(`${dir} has no snapshot.json (an orphaned or unfinished snapshot)`);
    return undefined;
  }
  const rec = parseRecord<SnapshotRecord>(path.join(dir, 'snapshot.json'), problems);
  if (!rec) return undefined;
  const bad: string[] = [];
  if (rec.id !== id) bad.push(`id ${JSON.stringify(rec.id)}`);
  if (typeof rec.name !== 'string' || rec.name === '') bad.push('name');
  if (typeof rec.sourceVolumeId !== 'string' || rec.sourceVolumeId === '') bad.push('sourceVolumeId');
  if (!isIsoTime(rec.createdAt)) bad.push(`createdAt ${JSON.stringify(rec.createdAt)}`);
  const archive = path.join(dir, 'data.tar.gz');
  if (!names.includes('data.tar.gz')) bad.push('no data.tar.gz');
  else if (lstatSync(archive).size !== rec.sizeBytes) bad.push(`sizeBytes ${rec.sizeBytes} but the archive has ${lstatSync(archive).size}`);
  if (bad.length > 0) problems.push(`${dir}/snapshot.json has bad fields: ${bad.join(', ')}`);
  return rec;
}

/**
 * Reads every volume and snapshot directory on the share and checks each: a record that parses
 * and names its directory, the expected files and nothing else (no temp file of an interrupted
 * write), a data directory or an archive of the recorded size.
 */
export function auditShare(share: string): ShareAudit {
  const problems: string[] = [];
  const volumes = new Map<string, VolumeRecord>();
  const snapshots = new Map<string, SnapshotRecord>();
  for (const [kind, audit, into] of [
    ['volumes', auditVolume, volumes],
    ['snapshots', auditSnapshot, snapshots],
  ] as const) {
    const top = path.join(share, kind);
    if (!existsSync(top)) continue;
    for (const name of readdirSync(top).sort()) {
      const dir = path.join(top, name);
      if (!lstatSync(dir).isDirectory()) {
        problems.push(`${dir} is not a directory`);
        continue;
      }
      const rec = audit(dir, name, problems);
      if (rec) (into as Map<string, VolumeRecord | SnapshotRecord>).set(name, rec);
    }
  }
  return { volumes, snapshots, problems };
}

/** The files in a snapshot archive (tar must be able to read all of it). */
export function archiveListing(share: string, snapshotId: string): string[] {
  const out = execFileSync('tar', ['-tzf', path.join(share, 'snapshots', snapshotId, 'data.tar.gz')], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l !== '' && l !== './');
}

/** The node's mount records (state-dir/node-mounts.json) and any other file in the state dir. */
export function readNodeState(stateDir: string): { records: MountRegistration[]; strayFiles: string[] } {
  const file = path.join(stateDir, 'node-mounts.json');
  const records = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as MountRegistration[]) : [];
  const strayFiles = existsSync(stateDir) ? readdirSync(stateDir).filter((n) => n !== 'node-mounts.json') : [];
  return { records, strayFiles };
}

/** Every mount at or under `dir`, grouped by mount point (more than one entry is a stacked mount). */
export async function mountsByPath(dir: string): Promise<Map<string, MountEntry[]>> {
  const out = new Map<string, MountEntry[]>();
  for (const e of await readMountTable()) {
    if (e.mountPoint !== dir && !e.mountPoint.startsWith(dir + '/')) continue;
    out.set(e.mountPoint, [...(out.get(e.mountPoint) ?? []), e]);
  }
  return out;
}

/** Does this mount show the data directory of `volumeId` (a bind of share/volumes/<id>/data)? */
export function showsVolume(e: MountEntry, volumeId: string): boolean {
  return e.root.endsWith(`/volumes/${volumeId}/data`);
}

/**
 * The monitor answers for a mount with its condition: healthy, or at worst a probe that overstayed
 * its deadline on a loaded machine. Anything else (NotMounted, a stale or broken mount) is a finding.
 */
export function assertHealthyCondition(cond: { abnormal: boolean; message: string } | null | undefined, where: string): void {
  if (!cond) throw new Error(`${where}: no volume_condition in the answer`);
  const reasons = cond.abnormal ? cond.message.split('; ').map((m) => m.split(':')[0]) : [];
  if (reasons.some((r) => r !== 'MountUnresponsive')) throw new Error(`${where} is abnormal: ${cond.message}`);
}
