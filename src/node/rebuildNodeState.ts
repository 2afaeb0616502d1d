import * as path from 'node:path';
import type { VolumeSource } from '../backend/records';
import type { MountRegistration } from '../health/mountRegistration';
import type { MountEntry } from '../mount/mountTable';

/** What a rebuild needs to know besides the mount table. */
export interface RebuildDeps {
  /** Only mounts under it can be ours. */
  kubeletDir: string;
  /** How this node would mount a provisioned volume; undefined when it cannot tell. */
  sourceOf: (volumeId: string) => VolumeSource | undefined;
}

/** `.../volumes/<id>/data`, as the share layout puts it (the kernel appends `//deleted` once the directory is gone). */
const volumeDataPattern = /\/volumes\/([^/]+)\/data(?:\/\/deleted)?$/;

function volumeIdOf(e: MountEntry): string | undefined {
  return volumeDataPattern.exec(e.root)?.[1] ?? volumeDataPattern.exec(e.source)?.[1];
}

function expectedSourceOf(src: VolumeSource | undefined, e: MountEntry): string {
  if (!src) return e.fsType.startsWith('nfs') ? e.source : '';
  return src.kind === 'bind' || src.fsType === 'efs' ? '' : src.device;
}

/**
 * Rebuilds the node's records from the mount table alone, for when the state file is lost or
 * corrupt. A mount is taken as ours when it is under the kubelet dir and mounts a volume's data
 * directory of the share layout. Of the mounts of one volume, the oldest is the staging mount (the
 * node stages before it publishes) and the others are publishes bound from it. Oldest means first
 * in the table: mountinfo lists a namespace's mounts in the order they were made. Mount ids are no
 * clock: the kernel hands out the lowest free one, so a publish made after other mounts went away
 * can have a lower id than its staging mount. Static volumes (EFS handles, static NFS shares) have
 * no such directory and are not recovered.
 */
export function rebuildNodeState(table: readonly MountEntry[], deps: RebuildDeps): MountRegistration[] {
  // The mount on top at each mount point, with its place in the table.
  const top = new Map<string, { e: MountEntry; at: number }>();
  table.forEach((e, at) => {
    if (e.mountPoint.startsWith(deps.kubeletDir + path.sep)) {
      top.delete(e.mountPoint);
      top.set(e.mountPoint, { e, at });
    }
  });
  const byVolume = new Map<string, Array<{ e: MountEntry; at: number }>>();
  for (const m of top.values()) {
    const id = volumeIdOf(m.e);
    if (id === undefined) continue;
    byVolume.set(id, [...(byVolume.get(id) ?? []), m]);
  }
  const out: MountRegistration[] = [];
  for (const [volumeId, found] of byVolume) {
    const [staging, ...publishes] = [...found].sort((a, b) => a.at - b.at).map((m) => m.e);
    if (!staging) continue;
    const source = deps.sourceOf(volumeId);
    const expectedSource = expectedSourceOf(source, staging);
    out.push({ volumeId, path: staging.mountPoint, kind: 'staging', readOnly: false, expectedSource, ...(source ? { source } : {}) });
    for (const p of publishes) {
      out.push({
        volumeId,
        path: p.mountPoint,
        kind: 'publish',
        readOnly: p.options.includes('ro'),
        expectedSource,
        stagingPath: staging.mountPoint,
      });
    }
  }
  return out;
}
