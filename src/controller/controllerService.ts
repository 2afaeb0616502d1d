import type { HealthApi } from '../config';
import type { ShareStore } from '../backend/shareStore';
import type { ShareRecordStore } from '../backend/shareRecordStore';
import type { VolumeRecord } from '../backend/records';
import { ShareUnavailableError } from '../backend/backendErrors';
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
import { VolumeCatalog, type CatalogEntry } from './volumeCatalog';
import { clampInt64 } from '../int64';
import type { VolumeContextSource } from './volumeContext';
import { groupHolding } from './groupSnapshotRpcs';
import { modifyVolume } from './modifyVolume';
import { controllerPublish, controllerUnpublish, type AttachDeps } from './attachRpcs';

export interface ControllerDeps {
  store: ShareStore;
  /** The volumes this controller made: the registry, and volume directories from before it. */
  catalog: VolumeCatalog;
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
    (err instanceof CsiError && err.code === status.UNAVAILABLE) ||
    err instanceof ShareUnavailableError ||
    err instanceof IsolationTimeoutError ||
    err instanceof HelpersExhaustedError;
  if (!unreachable) return undefined;
  return {
    status: 'INACCESSIBLE',
    reason: 'ShareUnreachable',
    message: `the share does not answer, so the volume's state is unknown: ${err.message}`,
  };
}

function volumeHealth(volumeId: string, issues: HealthIssue[]) {
  return {
    volume_id: volumeId,
    health_statuses: uniqueIssues(issues).map((i) => ({ status: i.status, reason: i.reason, message: i.message })),
  };
}

/** The CSI Controller service on a share of volume directories. */
export function createControllerService(deps: ControllerDeps): AsyncService<ControllerHandlers> {
  const { store, catalog, health, context, healthApi } = deps;
  const withCondition = healthApi !== 'v1.13';

  /** A known volume; NOT_FOUND only for ids this controller never made or has deleted. */
  const requireEntry = async (id: string): Promise<CatalogEntry> => {
    checkIdentifier('volume_id', id);
    const entry = await catalog.entry(id);
    if (!entry) throw notFound(`volume ${id} does not exist`);
    return entry;
  };

  /** The record of a volume that must be intact to act on it; a damaged one is FAILED_PRECONDITION. */
  const requireIntact = async (id: string, action: string): Promise<VolumeRecord> => {
    const entry = await requireEntry(id);
    const own = await store.getVolume(id);
    if (!own || !entry.rec)
      throw failedPrecondition(
        `volume ${id} is damaged (its directory or volume.json is gone from the share): ${action} needs it whole; repair or delete it`,
      );
    return own;
  };

  /** Everything wrong with a known volume, as health issues. */
  const issuesOfEntry = async (entry: CatalogEntry): Promise<HealthIssue[]> => [
    ...VolumeCatalog.issuesOf(entry),
    ...(await health.issuesOf(entry.id)),
  ];

  /** The entry and its issues, or the ShareUnreachable issue when the share does not answer. */
  const lookOrUnreachable = async (
    id: string,
  ): Promise<{ entry: CatalogEntry; issues: HealthIssue[] } | { issue: HealthIssue; err: unknown }> => {
    checkIdentifier('volume_id', id);
    try {
      const entry = await requireEntry(id);
      return { entry, issues: await issuesOfEntry(entry) };
    } catch (err) {
      const issue = shareUnreachable(err);
      if (!issue) throw err;
      return { issue, err };
    }
  };

  /** The Volume message of a known volume; without a usable record, its id and nothing it cannot vouch for. */
  const csiVolumeOf = (e: CatalogEntry) =>
    e.rec ? toCsiVolume(e.rec, context) : { volume_id: e.id, capacity_bytes: '0', volume_context: {} };

  /** Issues of many volumes: what the catalog and the storage say of each. */
  const issuesOfEntries = async (entries: CatalogEntry[], signal?: AbortSignal): Promise<Map<string, HealthIssue[]>> => {
    const seen = await health.issuesOfAll(
      entries.map((e) => e.id),
      signal,
    );
    return new Map(entries.map((e) => [e.id, [...VolumeCatalog.issuesOf(e), ...(seen.get(e.id) ?? [])]]));
  };

  return {
    CreateVolume: (req) => createVolume(store, catalog, context, req),

    async DeleteVolume(req) {
      checkIdentifier('volume_id', req.volume_id);
      if (deps.attach) {
        // CSI: a volume still attached to a node is in use.
        const nodes = await deps.records.nodesOfVolume(req.volume_id);
        if (nodes.length > 0) throw failedPrecondition(`volume ${req.volume_id} is still published to node ${nodes.join(', ')}`);
      }
      // CSI: deleting a volume that does not exist succeeds.
      try {
        // The registry entry goes last: until then a half-deleted volume is still known (and reported damaged).
        await store.deleteVolume(req.volume_id, [await catalog.unregisterStep(req.volume_id)]);
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
      const { id } = await requireEntry(req.volume_id);
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
        message: `volume ${id} supports the requested capabilities`,
      };
    },

    async ListVolumes(req, ctx) {
      const ids = (await catalog.ids(ctx.signal)).map((id) => ({ id }));
      const { page, nextToken } = paginate(ids, req.max_entries, req.starting_token);
      const entries = await catalog.entries(
        page.map((p) => p.id),
        ctx.signal,
      );
      const issues = withCondition ? await issuesOfEntries(entries, ctx.signal) : undefined;
      return {
        entries: entries.map((e) => ({
          volume: csiVolumeOf(e),
          status: {
            published_node_ids: [],
            ...(issues ? { volume_condition: toVolumeCondition(issues.get(e.id) ?? []) } : {}),
          },
        })),
        next_token: nextToken,
      };
    },

    async ControllerListVolumeHealth(req, ctx) {
      const entries = await catalog.entries(await catalog.ids(ctx.signal), ctx.signal);
      const issues = await issuesOfEntries(entries, ctx.signal);
      // v1.13: volumes with no adverse condition are left out.
      const sick = entries.filter((e) => (issues.get(e.id) ?? []).length > 0);
      const { page, nextToken } = paginate(sick, req.max_entries, req.starting_token);
      return { entries: page.map((e) => volumeHealth(e.id, issues.get(e.id) ?? [])), next_token: nextToken };
    },

    async ControllerGetVolumeHealth(req) {
      const found = await lookOrUnreachable(req.volume_id);
      if ('issue' in found) return { volume_health: volumeHealth(req.volume_id, [found.issue]) };
      return { volume_health: volumeHealth(found.entry.id, found.issues) };
    },

    async GetCapacity(req) {
      for (const cap of req.volume_capabilities) {
        if (capabilityProblem(cap)) return { available_capacity: '0' };
      }
      const c = await store.capacity();
      return { available_capacity: String(clampInt64(c.availableBytes)), maximum_volume_size: { value: String(clampInt64(c.totalBytes)) } };
    },

    async ControllerGetCapabilities() {
      return { capabilities: controllerCapabilities(healthApi, deps.advertiseGetSnapshot ?? false, deps.attach !== undefined) };
    },

    CreateSnapshot: (req) => createSnapshot(store, (id) => requireIntact(id, 'a snapshot'), req),

    async DeleteSnapshot(req) {
      checkIdentifier('snapshot_id', req.snapshot_id);
      // CSI: a member of a group snapshot goes with its group (DeleteVolumeGroupSnapshot).
      const group = await groupHolding(deps.records, await store.snapshots.get(req.snapshot_id));
      if (group)
        throw failedPrecondition(`snapshot ${req.snapshot_id} belongs to group snapshot ${group}; delete the group snapshot instead`);
      await store.snapshots.delete(req.snapshot_id);
      return {};
    },

    ListSnapshots: (req, ctx) => listSnapshots(store, req, ctx.signal),

    async GetSnapshot(req) {
      checkIdentifier('snapshot_id', req.snapshot_id);
      const rec = await store.snapshots.get(req.snapshot_id);
      if (!rec) throw notFound(`snapshot ${req.snapshot_id} does not exist`);
      return { snapshot: toCsiSnapshot(rec) };
    },

    async ControllerExpandVolume(req) {
      checkIdentifier('volume_id', req.volume_id);
      if (!req.capacity_range) throw invalidArgument('capacity_range is required');
      if (req.volume_capability) requireCapabilities('volume_capability', [req.volume_capability]);
      const { bytes, limit } = capacityFor(req.capacity_range, defaultCapacityBytes);
      const rec = await requireIntact(req.volume_id, 'expansion');
      if (limit > 0n && rec.capacityBytes > limit)
        throw outOfRange(`volume is ${rec.capacityBytes} bytes; volumes cannot shrink below that`);
      if (bytes > rec.capacityBytes) {
        // As CreateVolume: no volume may be larger than the whole share.
        const total = (await store.capacity()).totalBytes;
        if (bytes > total) throw outOfRange(`requested ${bytes} bytes, more than the whole share (${total})`);
        // NFS has no quota to grow: the new size is recorded, never shrunk. The registry first:
        // a retry after a crash between the two finds volume.json still small and writes both.
        const grown = { ...rec, capacityBytes: bytes };
        await catalog.register(grown);
        await store.updateVolume(grown);
      }
      return { capacity_bytes: String(bytes > rec.capacityBytes ? bytes : rec.capacityBytes), node_expansion_required: false };
    },

    async ControllerGetVolume(req) {
      if (!withCondition) {
        // v1.13 has no condition field here: a failure to look speaks for itself.
        return { volume: csiVolumeOf(await requireEntry(req.volume_id)), status: { published_node_ids: [] } };
      }
      const found = await lookOrUnreachable(req.volume_id);
      if ('issue' in found) {
        return {
          volume: { volume_id: req.volume_id, capacity_bytes: '0', volume_context: {} },
          status: { published_node_ids: [], volume_condition: toVolumeCondition([found.issue]) },
        };
      }
      return {
        volume: csiVolumeOf(found.entry),
        status: { published_node_ids: [], volume_condition: toVolumeCondition(found.issues) },
      };
    },

    async ControllerModifyVolume(req) {
      await modifyVolume(store, deps.records, req);
      return {};
    },
  };
}
