import type { ShareStore } from '../backend/shareStore';
import type { ShareRecordStore } from '../backend/shareRecordStore';
import type { VolumeRecord } from '../backend/records';
import { checkIdentifier } from '../backend/ids';
import { invalidArgument, notFound } from '../grpc/csiError';
import type { ControllerModifyVolumeRequest__Output } from '../gen/csi/v1/ControllerModifyVolumeRequest';
import { mutableKeys, validateMutableParameters } from './mutableParameters';

/** The mutable parameters of a volume as they are now: those of creation, then every modification. */
export async function currentMutableParameters(records: ShareRecordStore, rec: VolumeRecord): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const k of mutableKeys) {
    const v = rec.parameters[k];
    if (v !== undefined) out[k] = v;
  }
  return { ...out, ...(await records.getVolumeChanges(rec.id)) };
}

/**
 * ControllerModifyVolume: validates every key and value before anything changes (unknown or
 * immutable keys are INVALID_ARGUMENT), NOT_FOUND for an unknown volume, then records the merged
 * set in volumes/<id>/mutable.json (atomically). Nodes apply it at the next stage.
 */
export async function modifyVolume(
  store: ShareStore,
  records: ShareRecordStore,
  req: ControllerModifyVolumeRequest__Output,
): Promise<void> {
  checkIdentifier('volume_id', req.volume_id);
  if (Object.keys(req.mutable_parameters).length === 0) throw invalidArgument('mutable_parameters is required');
  validateMutableParameters(req.mutable_parameters);
  const rec = await store.getVolume(req.volume_id);
  if (!rec) throw notFound(`volume ${req.volume_id} does not exist`);
  const current = await currentMutableParameters(records, rec);
  const merged = validateMutableParameters(req.mutable_parameters, current);
  await records.putVolumeChanges(rec.id, merged);
}
