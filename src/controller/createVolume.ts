import type { ShareStore } from '../backend/shareStore';
import type { VolumeRecord } from '../backend/records';
import { checkIdentifier, idFromName } from '../backend/ids';
import { alreadyExists, failedPrecondition, invalidArgument, notFound, outOfRange } from '../grpc/csiError';
import { capacityFor, requireCapabilities } from '../grpc/validateCommon';
import type { CreateVolumeRequest__Output } from '../gen/csi/v1/CreateVolumeRequest';
import type { CreateVolumeResponse } from '../gen/csi/v1/CreateVolumeResponse';
import { volumeContextFor, type VolumeContextSource } from './volumeContext';
import type { CatalogEntry, MakeIfNew, VolumeCatalog } from './volumeCatalog';
import { IsolatedFsError } from '../isolation/isolationErrors';
import { RecordCorruptError } from '../backend/recordErrors';
import { clampInt64, parseInt64 } from '../int64';
import { validateParameters } from './parameters';
import { validateMutableParameters } from './mutableParameters';

export const defaultCapacityBytes = 1024n ** 3n;

interface ValidCreate {
  name: string;
  id: string;
  bytes: bigint;
  limit: bigint;
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

/** The parameter keys whose values differ between two parameter sets (keys of either side). */
function differingParameters(a: Record<string, string>, b: Record<string, string>): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].filter((k) => a[k] !== b[k]).sort();
}

/**
 * The volume already made under this id, if any. A registered volume counts even when its
 * directory or volume.json was damaged out of band: it is answered (and reported damaged), never
 * silently made again over what is left of it.
 */
async function existingVolume(catalog: VolumeCatalog, id: string, entry: CatalogEntry | undefined): Promise<VolumeRecord | undefined> {
  if (!entry) return undefined;
  if (!entry.rec) throw new RecordCorruptError(`volume ${id}`, `volumes/${id}/volume.json`, 'is unusable and its registry entry is too');
  // A volume finished before its registration (an earlier attempt failed between the two): register it now.
  if (!entry.registered) await catalog.register(entry.rec);
  return entry.rec;
}

/** CSI: the same name with an incompatible size, source or parameters is ALREADY_EXISTS. */
function checkCompatible(existing: VolumeRecord, v: ValidCreate): void {
  if (existing.name !== v.name) throw alreadyExists(`volume id ${v.id} is taken by volume "${existing.name}"`);
  if (existing.capacityBytes < v.bytes || (v.limit > 0n && existing.capacityBytes > v.limit)) {
    throw alreadyExists(`volume "${v.name}" exists with capacity ${existing.capacityBytes}`);
  }
  if (!sameSource(existing.contentSource, v.source)) throw alreadyExists(`volume "${v.name}" exists with another content source`);
  const differing = differingParameters(existing.parameters, v.parameters);
  if (differing.length > 0) throw alreadyExists(`volume "${v.name}" exists with other parameters (${differing.join(', ')})`);
}

/** CreateVolume: idempotent by name; a retry with compatible arguments returns the same volume. */
export async function createVolume(
  store: ShareStore,
  catalog: VolumeCatalog,
  ctx: VolumeContextSource,
  req: CreateVolumeRequest__Output,
): Promise<CreateVolumeResponse> {
  const v = validateCreateVolume(req);
  // Validated above: an int64 or empty.
  const required = parseInt64(String(req.capacity_range?.required_bytes || '0')) ?? 0n;
  const rec: VolumeRecord = {
    id: v.id,
    name: v.name,
    capacityBytes: v.bytes,
    parameters: v.parameters,
    ...(v.source ? { contentSource: v.source } : {}),
    createdAt: new Date().toISOString(),
  };
  // One round trip reads the records and the share's size (looked at for a new volume only)
  // and, for an empty volume that turns out new and fits, makes it and registers it (last).
  const capacityRead = required > 0n ? await store.capacityStep() : undefined;
  const ifNew: MakeIfNew | undefined = v.source
    ? undefined
    : {
        ...(await store.newEmptyVolume(rec, [await catalog.registerStep(rec)])),
        ...(capacityRead ? { alsoHolds: (step: number) => ({ step, totalBytesAtLeast: String(required) }) } : {}),
      };
  const found = await catalog.entryAlong(v.id, capacityRead, ifNew).catch(async (err: unknown) => {
    // The reads tolerate every error: a failed step is one of the making. Remove what it made.
    if (ifNew && err instanceof IsolatedFsError && err.op !== 'batch') await store.discardUnfinished(v.id).catch(() => undefined);
    throw err;
  });
  if (found.made) return { volume: toCsiVolume(rec, ctx) };
  const existing = await existingVolume(catalog, v.id, found.entry);
  if (existing) {
    checkCompatible(existing, v);
    return { volume: toCsiVolume(existing, ctx) };
  }
  const capacity = capacityRead ? found.also() : undefined;
  if (capacity && required > capacity.totalBytes)
    throw outOfRange(`requested ${required} bytes, more than the whole share (${capacity.totalBytes})`);
  let fill: ((dataDir: string) => Promise<void>) | undefined;
  if (v.source && 'snapshotId' in v.source) {
    const snap = await store.snapshots.get(v.source.snapshotId);
    if (!snap) throw notFound(`snapshot ${v.source.snapshotId} does not exist`);
    const id = v.source.snapshotId;
    fill = (dir) => store.snapshots.restoreInto(id, dir);
  } else if (v.source && 'volumeId' in v.source) {
    const src = await store.getVolume(v.source.volumeId);
    if (!src && (await catalog.entry(v.source.volumeId))) {
      throw failedPrecondition(
        `source volume ${v.source.volumeId} is damaged (its directory or volume.json is gone from the share): it cannot be cloned`,
      );
    }
    if (!src) throw notFound(`volume ${v.source.volumeId} does not exist`);
    if (src.capacityBytes > v.bytes && v.limit > 0n && src.capacityBytes > v.limit) {
      throw outOfRange(`source volume is larger (${src.capacityBytes}) than limit_bytes`);
    }
    const id = v.source.volumeId;
    fill = (dir) => store.cloneVolumeInto(id, dir);
  }
  // Registered last, in the same round trip: a registered volume is a finished one.
  await store.createVolume(rec, fill, [await catalog.registerStep(rec)]);
  return { volume: toCsiVolume(rec, ctx) };
}

/** The CSI Volume message for a record. */
export function toCsiVolume(rec: VolumeRecord, ctx: VolumeContextSource): NonNullable<CreateVolumeResponse['volume']> {
  const cs = rec.contentSource;
  return {
    volume_id: rec.id,
    capacity_bytes: String(clampInt64(rec.capacityBytes)),
    volume_context: volumeContextFor(rec, ctx),
    ...(cs
      ? { content_source: 'snapshotId' in cs ? { snapshot: { snapshot_id: cs.snapshotId } } : { volume: { volume_id: cs.volumeId } } }
      : {}),
  };
}
