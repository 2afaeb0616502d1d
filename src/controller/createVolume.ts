import type { ShareStore } from '../backend/shareStore';
import type { VolumeRecord } from '../backend/records';
import { checkIdentifier, idFromName } from '../backend/ids';
import { alreadyExists, invalidArgument, notFound, outOfRange } from '../grpc/csiError';
import { capacityFor, requireCapabilities } from '../grpc/validateCommon';
import type { CreateVolumeRequest__Output } from '../gen/csi/v1/CreateVolumeRequest';
import type { CreateVolumeResponse } from '../gen/csi/v1/CreateVolumeResponse';
import { volumeContextFor, type VolumeContextSource } from './volumeContext';
import { validateParameters } from './parameters';
import { validateMutableParameters } from './mutableParameters';

export const defaultCapacityBytes = 1024 ** 3;

interface ValidCreate {
  name: string;
  id: string;
  bytes: number;
  limit: number;
  parameters: Record<string, string>;
  source: VolumeRecord['contentSource'];
}

/** Checks a CreateVolumeRequest before anything is touched. */
export function validateCreateVolume(req: CreateVolumeRequest__Output): ValidCreate {
  checkIdentifier('name', req.name);
  requireCapabilities('volume_capabilities', req.volume_capabilities);
  const { bytes, limit } = capacityFor(req.capacity_range, defaultCapacityBytes);
  // CSI: mutable_parameters take precedence over parameters.
  const parameters = validateMutableParameters(req.mutable_parameters, validateParameters(req.parameters));
  let source: VolumeRecord['contentSource'];
  const cs = req.volume_content_source;
  if (cs) {
    if (cs.snapshot) {
      checkIdentifier('volume_content_source.snapshot.snapshot_id', cs.snapshot.snapshot_id);
      source = { snapshotId: cs.snapshot.snapshot_id };
    } else if (cs.volume) {
      checkIdentifier('volume_content_source.volume.volume_id', cs.volume.volume_id);
      source = { volumeId: cs.volume.volume_id };
    } else {
      throw invalidArgument('volume_content_source has neither a snapshot nor a volume');
    }
  }
  return { name: req.name, id: idFromName(req.name), bytes, limit, parameters, source };
}

function sameSource(a: VolumeRecord['contentSource'], b: VolumeRecord['contentSource']): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

/** CreateVolume: idempotent by name; a retry with compatible arguments returns the same volume. */
export async function createVolume(store: ShareStore, ctx: VolumeContextSource, req: CreateVolumeRequest__Output): Promise<CreateVolumeResponse> {
  const v = validateCreateVolume(req);
  const existing = await store.getVolume(v.id);
  if (existing) {
    // CSI: same name with an incompatible size or source is ALREADY_EXISTS.
    if (existing.name !== v.name) throw alreadyExists(`volume id ${v.id} is taken by volume "${existing.name}"`);
    if (existing.capacityBytes < v.bytes || (v.limit > 0 && existing.capacityBytes > v.limit)) {
      throw alreadyExists(`volume "${v.name}" exists with capacity ${existing.capacityBytes}`);
    }
    if (!sameSource(existing.contentSource, v.source)) throw alreadyExists(`volume "${v.name}" exists with another content source`);
    return { volume: toCsiVolume(existing, ctx) };
  }
  const required = Number(req.capacity_range?.required_bytes ?? 0);
  const capacity = required > 0 ? await store.capacity() : undefined;
  if (capacity && required > capacity.totalBytes) throw outOfRange(`requested ${required} bytes, more than the whole share (${capacity.totalBytes})`);
  let fill: ((dataDir: string) => Promise<void>) | undefined;
  if (v.source && 'snapshotId' in v.source) {
    const snap = await store.getSnapshot(v.source.snapshotId);
    if (!snap) throw notFound(`snapshot ${v.source.snapshotId} does not exist`);
    const id = v.source.snapshotId;
    fill = (dir) => store.restoreSnapshotInto(id, dir);
  } else if (v.source && 'volumeId' in v.source) {
    const src = await store.getVolume(v.source.volumeId);
    if (!src) throw notFound(`volume ${v.source.volumeId} does not exist`);
    if (src.capacityBytes > v.bytes && v.limit > 0 && src.capacityBytes > v.limit) {
      throw outOfRange(`source volume is larger (${src.capacityBytes}) than limit_bytes`);
    }
    const id = v.source.volumeId;
    fill = (dir) => store.cloneVolumeInto(id, dir);
  }
  const rec: VolumeRecord = {
    id: v.id,
    name: v.name,
    capacityBytes: v.bytes,
    parameters: v.parameters,
    ...(v.source ? { contentSource: v.source } : {}),
    createdAt: new Date().toISOString(),
  };
  await store.createVolume(rec, fill);
  return { volume: toCsiVolume(rec, ctx) };
}

/** The CSI Volume message for a record. */
export function toCsiVolume(rec: VolumeRecord, ctx: VolumeContextSource): NonNullable<CreateVolumeResponse['volume']> {
  const cs = rec.contentSource;
  return {
    volume_id: rec.id,
    capacity_bytes: String(rec.capacityBytes),
    volume_context: volumeContextFor(rec, ctx),
    ...(cs
      ? { content_source: 'snapshotId' in cs ? { snapshot: { snapshot_id: cs.snapshotId } } : { volume: { volume_id: cs.volumeId } } }
      : {}),
  };
}
