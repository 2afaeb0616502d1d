import type { HealthApi } from '../config';
import type { ShareStore } from '../backend/shareStore';
import type { ShareRecordStore } from '../backend/shareRecordStore';
import type { VolumeRecord } from '../backend/records';
import { checkIdentifier } from '../backend/ids';
import { status } from '@grpc/grpc-js';
import { HelpersExhaustedError, IsolatedFsError, IsolationTimeoutError } from '../isolation/isolationErrors';
import { CsiError, failedPrecondition, invalidArgument, notFound, outOfRange, unimplemented } from '../grpc/csiError';
import type { ControllerHandlers } from '../grpc/csiTypes';
import type { AsyncService } from '../grpc/unary';
import { paginate } from '../grpc/pageToken';
import { capacityFor, capabilityProblem, requireCapabilities } from '../grpc/validateCommon';
import { toVolumeCondition, uniqueIssues, type HealthIssue } from '../health/healthIssue';
import { controllerCapabilities } from './controllerCapabilities';
import type { ControllerHealth } from './controllerHealth';
import { createVolume, defaultCapacityBytes, toCsiVolume } from './createVolume';
import { createSnapshot, listSnapshots, toCsiSnapshot } from './snapshotRpcs';
import type { VolumeContextSource } from './volumeContext';
import { groupHolding } from './groupSnapshotRpcs';
import { modifyVolume } from './modifyVolume';
import { controllerPublish, controllerUnpublish, type AttachDeps } from './attachRpcs';

export interface ControllerDeps {
  store: ShareStore;
  health: ControllerHealth;
  context: VolumeContextSource;
  healthApi: HealthApi;
  advertiseGetSnapshot?: boolean;
  /** Group snapshots, modified parameters and attachments on the share. */
  records: ShareRecordStore;
  /** Set when --enable-attach: ControllerPublish/Unpublish are served. */
  attach?: AttachDeps;
}

/**
 * When the share cannot be reached, the volume's own state is unknown, and that is the
 * condition health consumers need to see (rather than a failed call they may not report).
 */
function shareUnreachable(err: unknown): HealthIssue | undefined {
  const unreachable =
    (err instanceof CsiError && err.code === status.UNAVAILABLE) || err instanceof IsolationTimeoutError || err instanceof HelpersExhaustedError;
  if (!unreachable) return undefined;
  return { status: 'INACCESSIBLE', reason: 'ShareUnreachable', message: `the share does not answer, so the volume's state is unknown: ${(err as Error).message}` };
}

function volumeHealth(volumeId: string, issues: HealthIssue[]) {
  return {
    volume_id: volumeId,
    health_statuses: uniqueIssues(issues).map((i) => ({ status: i.status, reason: i.reason, message: i.message })),
  };
}

/** The CSI Controller service on a share of volume directories. */
export function createControllerService(deps: ControllerDeps): AsyncService<ControllerHandlers> {
  const { store, health, context, healthApi } = deps;
  const withCondition = healthApi !== 'v1.13';

  const requireVolume = async (id: string) => {
    checkIdentifier('volume_id', id);
    const rec = await store.getVolume(id);
    if (!rec) throw notFound(`volume ${id} does not exist`);
    return rec;
  };

  /** The volume's record, or the ShareUnreachable issue when the share does not answer. */
  const volumeOrUnreachable = async (id: string): Promise<{ rec: VolumeRecord } | { issue: HealthIssue; err: unknown }> => {
    checkIdentifier('volume_id', id);
    try {
      return { rec: await requireVolume(id) };
    } catch (err) {
      const issue = shareUnreachable(err);
      if (!issue) throw err;
      return { issue, err };
    }
  };

  return {
    CreateVolume: (req) => createVolume(store, context, req),

    async DeleteVolume(req) {
      checkIdentifier('volume_id', req.volume_id);
      if (deps.attach) {
        // CSI: a volume still attached to a node is in use.
        const nodes = await deps.records.nodesOfVolume(req.volume_id);
        if (nodes.length > 0) throw failedPrecondition(`volume ${req.volume_id} is still published to node ${nodes.join(', ')}`);
      }
      // CSI: deleting a volume that does not exist succeeds.
      try {
        await store.deleteVolume(req.volume_id);
      } catch (err) {
        // Something wrote into the volume or is mounted in it while it was removed: CSI's "volume in use".
        if (err instanceof IsolatedFsError && (err.code === 'ENOTEMPTY' || err.code === 'EBUSY')) {
          throw failedPrecondition(`volume ${req.volume_id} is in use (${err.code} while removing it); retry once it is unpublished`);
        }
        throw err;
      }
      return {};
    },

    async ControllerPublishVolume(req) {
      if (!deps.attach) throw unimplemented('ControllerPublishVolume is not enabled: volumes need no attach step (see --enable-attach)');
      return controllerPublish(deps.attach, req);
    },

    async ControllerUnpublishVolume(req) {
      if (!deps.attach) throw unimplemented('ControllerUnpublishVolume is not enabled: volumes need no attach step (see --enable-attach)');
      await controllerUnpublish(deps.attach, req);
      return {};
    },

    async ValidateVolumeCapabilities(req) {
      checkIdentifier('volume_id', req.volume_id);
      if (req.volume_capabilities.length === 0) throw invalidArgument('volume_capabilities is required');
      const rec = await requireVolume(req.volume_id);
      for (const cap of req.volume_capabilities) {
        const problem = capabilityProblem(cap);
        if (problem) return { message: problem };
      }
      return {
        confirmed: {
          volume_context: req.volume_context,
          volume_capabilities: req.volume_capabilities,
          parameters: req.parameters,
          mutable_parameters: req.mutable_parameters,
        },
        message: `volume ${rec.id} supports the requested capabilities`,
      };
    },

    async ListVolumes(req) {
      const all = await store.listVolumes();
      const { page, nextToken } = paginate(all, req.max_entries, req.starting_token);
      const issues = withCondition ? await health.issuesOfAll(page.map((v) => v.id)) : undefined;
      return {
        entries: page.map((rec) => ({
          volume: toCsiVolume(rec, context),
          status: {
            published_node_ids: [],
            ...(issues ? { volume_condition: toVolumeCondition(issues.get(rec.id) ?? []) } : {}),
          },
        })),
        next_token: nextToken,
      };
    },

    async ControllerListVolumeHealth(req) {
      const all = await store.listVolumes();
      const issues = await health.issuesOfAll(all.map((v) => v.id));
      // v1.13: volumes with no adverse condition are left out.
      const sick = all.filter((v) => (issues.get(v.id) ?? []).length > 0);
      const { page, nextToken } = paginate(sick, req.max_entries, req.starting_token);
      return { entries: page.map((v) => volumeHealth(v.id, issues.get(v.id) ?? [])), next_token: nextToken };
    },

    async ControllerGetVolumeHealth(req) {
      const found = await volumeOrUnreachable(req.volume_id);
      if ('issue' in found) return { volume_health: volumeHealth(req.volume_id, [found.issue]) };
      return { volume_health: volumeHealth(found.rec.id, await health.issuesOf(found.rec.id)) };
    },

    async GetCapacity(req) {
      for (const cap of req.volume_capabilities) {
        if (capabilityProblem(cap)) return { available_capacity: '0' };
      }
      const c = await store.capacity();
      return { available_capacity: String(c.availableBytes), maximum_volume_size: { value: String(c.totalBytes) } };
    },

    async ControllerGetCapabilities() {
      return { capabilities: controllerCapabilities(healthApi, deps.advertiseGetSnapshot ?? false, deps.attach !== undefined) };
    },

    CreateSnapshot: (req) => createSnapshot(store, req),

    async DeleteSnapshot(req) {
      checkIdentifier('snapshot_id', req.snapshot_id);
      // CSI: a member of a group snapshot goes with its group (DeleteVolumeGroupSnapshot).
      const group = await groupHolding(deps.records, await store.getSnapshot(req.snapshot_id));
      if (group) throw failedPrecondition(`snapshot ${req.snapshot_id} belongs to group snapshot ${group}; delete the group snapshot instead`);
      await store.deleteSnapshot(req.snapshot_id);
      return {};
    },

    ListSnapshots: (req) => listSnapshots(store, req),

    async GetSnapshot(req) {
      checkIdentifier('snapshot_id', req.snapshot_id);
      const rec = await store.getSnapshot(req.snapshot_id);
      if (!rec) throw notFound(`snapshot ${req.snapshot_id} does not exist`);
      return { snapshot: toCsiSnapshot(rec) };
    },

    async ControllerExpandVolume(req) {
      checkIdentifier('volume_id', req.volume_id);
      if (!req.capacity_range) throw invalidArgument('capacity_range is required');
      if (req.volume_capability) requireCapabilities('volume_capability', [req.volume_capability]);
      const rec = await requireVolume(req.volume_id);
      const { bytes, limit } = capacityFor(req.capacity_range, defaultCapacityBytes);
      if (limit > 0 && rec.capacityBytes > limit) throw outOfRange(`volume is ${rec.capacityBytes} bytes; volumes cannot shrink below that`);
      if (bytes > rec.capacityBytes) {
        // As CreateVolume: no volume may be larger than the whole share.
        const total = (await store.capacity()).totalBytes;
        if (bytes > total) throw outOfRange(`requested ${bytes} bytes, more than the whole share (${total})`);
        // NFS has no quota to grow: the new size is recorded, never shrunk.
        await store.updateVolume({ ...rec, capacityBytes: bytes });
      }
      return { capacity_bytes: String(Math.max(bytes, rec.capacityBytes)), node_expansion_required: false };
    },

    async ControllerGetVolume(req) {
      const found = await volumeOrUnreachable(req.volume_id);
      if ('issue' in found) {
        // v1.13 has no condition field here: there the failure itself must speak.
        if (!withCondition) throw found.err;
        return {
          volume: { volume_id: req.volume_id, capacity_bytes: '0', volume_context: {} },
          status: { published_node_ids: [], volume_condition: toVolumeCondition([found.issue]) },
        };
      }
      const rec = found.rec;
      const issues = withCondition ? await health.issuesOf(rec.id) : undefined;
      return {
        volume: toCsiVolume(rec, context),
        status: { published_node_ids: [], ...(issues ? { volume_condition: toVolumeCondition(issues) } : {}) },
      };
    },

    async ControllerModifyVolume(req) {
      await modifyVolume(store, deps.records, req);
      return {};
    },
  };
}
