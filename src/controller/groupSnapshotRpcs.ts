import type { ShareStore } from '../backend/shareStore';
import type { ShareRecordStore } from '../backend/shareRecordStore';
import type { GroupSnapshotRecord } from '../backend/shareRecords';
import type { SnapshotRecord } from '../backend/records';
import { checkIdentifier, idFromName } from '../backend/ids';
import { alreadyExists, invalidArgument, notFound } from '../grpc/csiError';
import type { CreateVolumeGroupSnapshotRequest__Output } from '../gen/csi/v1/CreateVolumeGroupSnapshotRequest';
import type { VolumeGroupSnapshot } from '../gen/csi/v1/VolumeGroupSnapshot';
import { toCsiSnapshot } from './snapshotRpcs';

/** Most volumes in one group snapshot: each is archived in turn within one call. */
export const maxGroupMembers = 64;

/** The id of the member snapshot of `volumeId` in group `groupId`: derived, so a retry finds it. */
export function memberSnapshotId(groupId: string, volumeId: string): string {
  return idFromName(`group:${groupId}:${volumeId}`);
}

/** The CSI VolumeGroupSnapshot for a record and its member snapshots. */
export function toCsiGroupSnapshot(rec: GroupSnapshotRecord, members: SnapshotRecord[]): VolumeGroupSnapshot {
  const ms = Date.parse(rec.createdAt);
  return {
    group_snapshot_id: rec.id,
    snapshots: members.map((m) => ({ ...toCsiSnapshot(m), group_snapshot_id: rec.id })),
    creation_time: { seconds: String(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1e6 },
    ready_to_use: true,
  };
}

interface ValidGroupCreate {
  id: string;
  name: string;
  sourceVolumeIds: string[];
}

/** Checks a CreateVolumeGroupSnapshotRequest before anything is touched. */
export function validateCreateGroupSnapshot(req: CreateVolumeGroupSnapshotRequest__Output): ValidGroupCreate {
  checkIdentifier('name', req.name);
  if (req.source_volume_ids.length === 0) throw invalidArgument('source_volume_ids is required');
  if (req.source_volume_ids.length > maxGroupMembers) throw invalidArgument(`source_volume_ids has more than ${maxGroupMembers} volumes`);
  const seen = new Set<string>();
  for (const [i, id] of req.source_volume_ids.entries()) {
    checkIdentifier(`source_volume_ids[${i}]`, id);
    if (seen.has(id)) throw invalidArgument(`source_volume_ids names volume ${id} twice`);
    seen.add(id);
  }
  for (const k of Object.keys(req.parameters)) {
    if (!k.startsWith('csi.storage.k8s.io/')) throw invalidArgument(`unknown group snapshot parameter "${k}"`);
  }
  return { id: idFromName(req.name), name: req.name, sourceVolumeIds: [...req.source_volume_ids] };
}

const sameSet = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && [...a].sort().join('\0') === [...b].sort().join('\0');

/** The member records of a group, every one required. */
async function membersOf(store: ShareStore, rec: GroupSnapshotRecord): Promise<SnapshotRecord[]> {
  const out: SnapshotRecord[] = [];
  for (const id of rec.snapshotIds) {
    const m = await store.snapshots.get(id);
    if (!m) throw notFound(`member snapshot ${id} of group snapshot ${rec.id} is missing from the share`);
    out.push(m);
  }
  return out;
}

/**
 * CreateVolumeGroupSnapshot: idempotent by name; the same name for other source volumes is
 * ALREADY_EXISTS. The group record is written first (incomplete, naming every member), then each
 * member is archived, then the record is marked complete: a crash at any point leaves a record
 * from which a retry redoes the members, or a delete removes them.
 */
export async function createGroupSnapshot(
  store: ShareStore,
  records: ShareRecordStore,
  req: CreateVolumeGroupSnapshotRequest__Output,
): Promise<VolumeGroupSnapshot> {
  const v = validateCreateGroupSnapshot(req);
  const existing = await records.getGroupSnapshot(v.id);
  if (existing && (existing.name !== v.name || !sameSet(existing.sourceVolumeIds, v.sourceVolumeIds))) {
    throw alreadyExists(`group snapshot "${v.name}" exists for other source volumes`);
  }
  if (existing?.complete) return toCsiGroupSnapshot(existing, await membersOf(store, existing));
  for (const id of v.sourceVolumeIds) {
    if (!(await store.getVolume(id))) throw notFound(`source volume ${id} does not exist`);
  }
  const rec: GroupSnapshotRecord = existing ?? {
    id: v.id,
    name: v.name,
    sourceVolumeIds: v.sourceVolumeIds,
    snapshotIds: v.sourceVolumeIds.map((vol) => memberSnapshotId(v.id, vol)),
    createdAt: new Date().toISOString(),
    complete: false,
  };
  if (!existing) await records.putGroupSnapshot(rec);
  const members: SnapshotRecord[] = [];
  for (const [i, volumeId] of rec.sourceVolumeIds.entries()) {
    const id = rec.snapshotIds[i] as string;
    members.push(
      await store.snapshots.create({
        id,
        name: `${rec.name}/${volumeId}`,
        sourceVolumeId: volumeId,
        sizeBytes: 0n,
        createdAt: rec.createdAt,
        parameters: {},
        groupSnapshotId: rec.id,
      }),
    );
  }
  const done = { ...rec, complete: true };
  await records.putGroupSnapshot(done);
  return toCsiGroupSnapshot(done, members);
}

/** An id this driver could have made; anything else names no group (and never reaches a path). */
function couldBeGroupId(id: string): boolean {
  if (!id) throw invalidArgument('group_snapshot_id is required');
  try {
    checkIdentifier('group_snapshot_id', id);
    return true;
  } catch {
    return false;
  }
}

/**
 * GetVolumeGroupSnapshot: NOT_FOUND for an unknown or unfinished group, and for an id this
 * driver could never have made (csi-sanity's "invalid id"); snapshot_ids, when given, must be the group's.
 */
export async function getGroupSnapshot(
  store: ShareStore,
  records: ShareRecordStore,
  groupId: string,
  snapshotIds: string[],
): Promise<VolumeGroupSnapshot> {
  if (!couldBeGroupId(groupId)) throw notFound(`group snapshot ${JSON.stringify(groupId.slice(0, 200))} does not exist`);
  const rec = await records.getGroupSnapshot(groupId);
  if (!rec || !rec.complete) throw notFound(`group snapshot ${groupId} does not exist`);
  if (snapshotIds.length > 0 && !sameSet(snapshotIds, rec.snapshotIds)) {
    throw invalidArgument(`snapshot_ids do not match the members of group snapshot ${groupId}`);
  }
  return toCsiGroupSnapshot(rec, await membersOf(store, rec));
}

/**
 * DeleteVolumeGroupSnapshot: members first, the group record last, so that an interrupted delete
 * is finished by the retry. CSI: an unknown id (or one this driver could never have made)
 * succeeds; snapshot_ids that are not the group's members are INVALID_ARGUMENT and delete nothing.
 */
export async function deleteGroupSnapshot(
  store: ShareStore,
  records: ShareRecordStore,
  groupId: string,
  snapshotIds: string[],
): Promise<void> {
  if (!couldBeGroupId(groupId)) return;
  for (const [i, id] of snapshotIds.entries()) checkIdentifier(`snapshot_ids[${i}]`, id);
  const rec = await records.getGroupSnapshot(groupId);
  if (!rec) return;
  if (snapshotIds.length > 0 && !sameSet(snapshotIds, rec.snapshotIds)) {
    throw invalidArgument(`snapshot_ids do not match the members of group snapshot ${groupId}`);
  }
  for (const id of rec.snapshotIds) await store.snapshots.delete(id);
  await records.deleteGroupSnapshot(groupId);
}

/** DeleteSnapshot of a member of a group that still exists is refused (CSI: FAILED_PRECONDITION). */
export async function groupHolding(records: ShareRecordStore, snap: SnapshotRecord | undefined): Promise<string | undefined> {
  if (!snap?.groupSnapshotId) return undefined;
  const group = await records.getGroupSnapshot(snap.groupSnapshotId);
  return group && group.snapshotIds.includes(snap.id) ? group.id : undefined;
}
