import type { ShareStore } from '../backend/shareStore';
import type { SnapshotRecord } from '../backend/records';
import { checkIdentifier, idFromName } from '../backend/ids';
import { alreadyExists, invalidArgument } from '../grpc/csiError';
import { RecordCorruptError } from '../backend/recordErrors';
import { clampInt64 } from '../int64';
import { paginate } from '../grpc/pageToken';
import type { CreateSnapshotRequest__Output } from '../gen/csi/v1/CreateSnapshotRequest';
import type { CreateSnapshotResponse } from '../gen/csi/v1/CreateSnapshotResponse';
import type { ListSnapshotsRequest__Output } from '../gen/csi/v1/ListSnapshotsRequest';
import type { ListSnapshotsResponse } from '../gen/csi/v1/ListSnapshotsResponse';
import type { Snapshot } from '../grpc/csiTypes';

function isIdentifier(value: string): boolean {
  try {
    checkIdentifier('snapshot_id', value);
    return true;
  } catch {
    return false;
  }
}

/** The CSI Snapshot message for a record. */
export function toCsiSnapshot(rec: SnapshotRecord): Snapshot {
  const ms = Date.parse(rec.createdAt);
  return {
    snapshot_id: rec.id,
    source_volume_id: rec.sourceVolumeId,
    size_bytes: String(clampInt64(rec.sizeBytes)),
    creation_time: { seconds: String(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1e6 },
    ready_to_use: true,
    ...(rec.groupSnapshotId ? { group_snapshot_id: rec.groupSnapshotId } : {}),
  };
}

/** CreateSnapshot: idempotent by name; the same name for another source volume is ALREADY_EXISTS. */
export async function createSnapshot(
  store: ShareStore,
  requireSource: (volumeId: string) => Promise<unknown>,
  req: CreateSnapshotRequest__Output,
): Promise<CreateSnapshotResponse> {
  checkIdentifier('name', req.name);
  checkIdentifier('source_volume_id', req.source_volume_id);
  for (const k of Object.keys(req.parameters)) {
    if (!k.startsWith('csi.storage.k8s.io/')) throw invalidArgument(`unknown snapshot parameter "${k}"`);
  }
  const id = idFromName(req.name);
  const existing = await store.snapshots.get(id);
  if (existing) {
    if (existing.name !== req.name || existing.sourceVolumeId !== req.source_volume_id) {
      throw alreadyExists(`snapshot "${req.name}" exists for another source volume`);
    }
    return { snapshot: toCsiSnapshot(existing) };
  }
  await requireSource(req.source_volume_id);
  const rec = await store.snapshots.create({
    id,
    name: req.name,
    sourceVolumeId: req.source_volume_id,
    sizeBytes: 0n,
    createdAt: new Date().toISOString(),
    parameters: {},
  });
  return { snapshot: toCsiSnapshot(rec) };
}

/** ListSnapshots: by snapshot id, by source volume, or all, paginated. */
export async function listSnapshots(
  store: ShareStore,
  req: ListSnapshotsRequest__Output,
  signal?: AbortSignal,
): Promise<ListSnapshotsResponse> {
  if (req.max_entries < 0) throw invalidArgument('max_entries must not be negative');
  let all: SnapshotRecord[];
  if (req.snapshot_id) {
    // An id this driver could never have made simply matches nothing; a failure to read is no "nothing".
    let rec: SnapshotRecord | undefined;
    if (isIdentifier(req.snapshot_id)) {
      try {
        rec = await store.snapshots.get(req.snapshot_id);
      } catch (err) {
        // A corrupt record is no snapshot to list (GetSnapshot says what is wrong with it).
        if (!(err instanceof RecordCorruptError)) throw err;
      }
    }
    all = rec ? [rec] : [];
  } else {
    all = await store.snapshots.list(signal);
  }
  if (req.source_volume_id) all = all.filter((s) => s.sourceVolumeId === req.source_volume_id);
  const { page, nextToken } = paginate(all, req.max_entries, req.starting_token);
  return { entries: page.map((s) => ({ snapshot: toCsiSnapshot(s) })), next_token: nextToken };
}
