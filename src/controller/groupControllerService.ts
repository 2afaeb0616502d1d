import type { ShareStore } from '../backend/shareStore';
import type { ShareRecordStore } from '../backend/shareRecordStore';
import type { GroupControllerHandlers } from '../gen/csi/v1/GroupController';
import type { AsyncService } from '../grpc/unary';
import { createGroupSnapshot, deleteGroupSnapshot, getGroupSnapshot } from './groupSnapshotRpcs';

export interface GroupControllerDeps {
  store: ShareStore;
  records: ShareRecordStore;
}

/** The CSI GroupController service: volume group snapshots as sets of ordinary snapshots. */
export function createGroupControllerService(deps: GroupControllerDeps): AsyncService<GroupControllerHandlers> {
  const { store, records } = deps;
  return {
    async GroupControllerGetCapabilities() {
      return { capabilities: [{ rpc: { type: 'CREATE_DELETE_GET_VOLUME_GROUP_SNAPSHOT' } }] };
    },

    async CreateVolumeGroupSnapshot(req) {
      return { group_snapshot: await createGroupSnapshot(store, records, req) };
    },

    async GetVolumeGroupSnapshot(req) {
      return { group_snapshot: await getGroupSnapshot(store, records, req.group_snapshot_id, req.snapshot_ids) };
    },

    async DeleteVolumeGroupSnapshot(req) {
      await deleteGroupSnapshot(store, records, req.group_snapshot_id, req.snapshot_ids);
      return {};
    },
  };
}
