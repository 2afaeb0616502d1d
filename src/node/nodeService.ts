import * as path from 'node:path';
import type { Logger } from 'pino';
import type { HealthApi } from '../config';
import type { FsHelperPool } from '../isolation/fsHelperPool';
import { checkIdentifier } from '../backend/ids';
import { checkNodeVolumeId, EfsHandleError } from '../backend/efsVolumeHandle';
import { failedPrecondition, invalidArgument, notFound } from '../grpc/csiError';
import type { NodeHandlers } from '../grpc/csiTypes';
import type { AsyncService } from '../grpc/unary';
import { capacityFor, isReadOnlyMode, requireAbsolutePath, requireCapability } from '../grpc/validateCommon';
import { toVolumeCondition, uniqueIssues } from '../health/healthIssue';
import type { NodeHealthView } from '../health/nodeHealthView';
import { nodeCapabilities } from './nodeCapabilities';
import type { NodeMountOps } from './nodeMountOps';
import type { NodeStateStore } from './nodeStateStore';
import { NodeFailures } from './nodeFailures';
import type { VolumeSourceResolver } from '../backend/volumeSourceResolver';
import { callerPathErrors, mountOverlap, requireNodePath, type NodePathPolicy } from './nodePathPolicy';
import { volumeUsage } from './volumeUsage';
import { stageSettings, type CurrentParameters } from './stageSettings';

export interface NodeDeps {
  nodeId: string;
  maxVolumesPerNode: number;
  healthApi: HealthApi;
  ops: NodeMountOps;
  state: NodeStateStore;
  health: NodeHealthView;
  pool: FsHelperPool;
  resolveSource: VolumeSourceResolver;
  logger: Logger;
  paths: NodePathPolicy;
  /** The mount table, to keep new mounts clear of the ones there are. */
  /** The mount point of every mount on the node (the kernel's table). */
  mountPoints: () => Promise<string[]>;
  /** Deadline of the statfs behind NodeGetVolumeStats when no probe result is cached. */
  statsTimeoutMs?: number;
  /** --enable-attach: NodeStageVolume requires the publish context of ControllerPublishVolume. */
  attach?: boolean;
  /** Where this node can read a volume's current mutable parameters on the share (local backend). */
  currentParameters?: CurrentParameters;
  /** The monitor's defaults, against which a volume's own schedule is checked. */
  healthDefaults?: { intervalMs: number; timeoutMs: number };
}

/** Volume ids: CSI names, or static EFS handles, whose path part may hold "/" (never used as a path here). */
const checkVolumeId = (v: string): void => {
  try {
    checkNodeVolumeId(v, (x) => checkIdentifier('volume_id', x));
  } catch (err) {
    if (err instanceof EfsHandleError) throw invalidArgument(`volume_id: ${err.message}`);
    throw err;
  }
};

/** The CSI Node service. */
export function createNodeService(deps: NodeDeps): AsyncService<NodeHandlers> {
  const { ops, state, health } = deps;
  const failures = new NodeFailures();
  const withCondition = deps.healthApi !== 'v1.13';

  /** Runs a stage/publish step and remembers why it failed, for NodeGetVolumeHealth. */
  const tracked = async (volumeId: string, step: 'stage' | 'publish', fn: () => Promise<void>): Promise<void> => {
    try {
      await fn();
      failures.clear(volumeId, step);
    } catch (err) {
      failures.record(volumeId, step, err);
      throw err;
    }
  };

  const mountOf = (volumeId: string, p: string) => {
    const rec = state.get(p);
    return rec && rec.volumeId === volumeId && !rec.pending ? rec : undefined;
  };

  /**
   * The volume_path of NodeGetVolumeStats / NodeExpandVolume: required, and one of this volume's
   * mounts on this node. CSI: a path where the volume is not is NOT_FOUND, even a relative one
   * (csi-sanity sends "some/path" and expects NOT_FOUND).
   */
  const requireMountPath = (volumeId: string, value: string): string => {
    const p = path.isAbsolute(value) ? requireAbsolutePath('volume_path', value) : value;
    if (!p) throw invalidArgument('volume_path is required');
    if (!mountOf(volumeId, p)) throw notFound(`${p} is not a mount of volume ${volumeId} on this node`);
    return p;
  };

  /** A path to mount on must be allowed by the policy. */
  const mountPath = (field: string, value: string): string => requireNodePath(deps.paths, field, value);
  /** A path to unmount: one this node recorded (whatever the policy says today), or an allowed one. */
  const unmountPath = (field: string, value: string): string => {
    const p = requireAbsolutePath(field, value);
    return state.get(p) ? p : requireNodePath(deps.paths, field, p);
  };
  /**
   * A new mount at `p` must not clash with the mounts there are (nested in one of ours, or
   * covering others). Whether a mount already at `p` is this node's is decided by NodeMountOps,
   * from the node state, on the path as resolved without following symlinks.
   */
  const requireNoOverlap = async (field: string, p: string): Promise<void> => {
    const clash = mountOverlap(p, await deps.mountPoints(), (m) => state.get(m) !== undefined);
    if (clash) throw invalidArgument(`${field}: ${clash}`);
  };
  /**
   * The mount work on the caller's paths. They are walked without following symlinks, first on
   * their own and again by each step of NodeMountOps: a symlink or a file on the way (ELOOP,
   * ENOTDIR) is the caller's path's fault, INVALID_ARGUMENT, with nothing made, mounted or
   * unmounted. Recorded paths are taken as they are (the policy may have changed since).
   */
  const onCallerPaths = (fields: Record<string, string>, fn: () => Promise<void>): Promise<void> =>
    callerPathErrors(Object.values(fields), async () => {
      for (const p of Object.values(fields)) if (!state.get(p)) await ops.checkPath(p);
      await fn();
    });

  return {
    async NodeStageVolume(req) {
      checkVolumeId(req.volume_id);
      const staging = mountPath('staging_target_path', req.staging_target_path);
      const cap = requireCapability('volume_capability', req.volume_capability);
      const settings = await stageSettings(
        {
          nodeId: deps.nodeId,
          attach: deps.attach ?? false,
          ...(deps.currentParameters ? { currentParameters: deps.currentParameters } : {}),
          defaultIntervalMs: deps.healthDefaults?.intervalMs ?? 30_000,
          defaultTimeoutMs: deps.healthDefaults?.timeoutMs ?? 5_000,
          logger: deps.logger,
        },
        req.volume_id,
        req.volume_context,
        req.publish_context,
      );
      const source = deps.resolveSource(req.volume_id, settings.context, cap.mount?.mount_flags ?? []);
      await onCallerPaths({ staging_target_path: staging }, () =>
        tracked(req.volume_id, 'stage', async () => {
          await requireNoOverlap('staging_target_path', staging);
          await ops.stage(req.volume_id, staging, source, settings.schedule);
        }),
      );
      return {};
    },

    async NodeUnstageVolume(req) {
      checkVolumeId(req.volume_id);
      const staging = unmountPath('staging_target_path', req.staging_target_path);
      await onCallerPaths({ staging_target_path: staging }, () => ops.unstage(req.volume_id, staging));
      failures.clear(req.volume_id, 'stage');
      return {};
    },

    async NodePublishVolume(req) {
      checkVolumeId(req.volume_id);
      const target = mountPath('target_path', req.target_path);
      const staging = mountPath('staging_target_path', req.staging_target_path);
      const cap = requireCapability('volume_capability', req.volume_capability);
      const readOnly = req.readonly || isReadOnlyMode(cap);
      // Binding the staging mount onto itself would turn the staging record into a publish record.
      if (target === staging) throw invalidArgument('target_path must differ from staging_target_path');
      await onCallerPaths({ target_path: target }, () =>
        tracked(req.volume_id, 'publish', async () => {
          // CSI: the staging path is the one NodeStageVolume was given; nothing else (a publish target, a foreign mount) is bound into a pod.
          const staged = state.get(staging);
          if (!staged || staged.kind !== 'staging') throw failedPrecondition(`volume ${req.volume_id} is not staged at ${staging}`);
          await requireNoOverlap('target_path', target);
          await ops.publish(req.volume_id, staging, target, readOnly);
        }),
      );
      return {};
    },

    async NodeUnpublishVolume(req) {
      checkVolumeId(req.volume_id);
      const target = unmountPath('target_path', req.target_path);
      await onCallerPaths({ target_path: target }, () => ops.unpublish(req.volume_id, target));
      failures.clear(req.volume_id, 'publish');
      return {};
    },

    async NodeGetVolumeStats(req) {
      checkVolumeId(req.volume_id);
      const volumePath = requireMountPath(req.volume_id, req.volume_path);
      if (req.staging_target_path) requireAbsolutePath('staging_target_path', req.staging_target_path);
      const issues = health.issuesOf(volumePath);
      let s = health.lastStatfs(volumePath);
      if (!s && issues.length === 0) {
        // Freshly mounted, not probed yet: one isolated statfs with a short deadline.
        try {
          s = await deps.pool.run({ op: 'statfs', path: volumePath }, deps.statsTimeoutMs ?? 2_000);
          health.recordStatfs(volumePath, s);
        } catch (err) {
          deps.logger.warn({ err: (err as Error).message, volumePath }, 'statfs for volume stats failed');
        }
      }
      const usage = s ? volumeUsage(s) : [];
      return { usage, ...(withCondition ? { volume_condition: toVolumeCondition(issues) } : {}) };
    },

    async NodeGetVolumeHealth(req) {
      checkVolumeId(req.volume_id);
      const paths = [req.volume_publish_path, req.staging_target_path]
        .filter((p) => p)
        .map((p, i) => requireAbsolutePath(i === 0 && req.volume_publish_path ? 'volume_publish_path' : 'staging_target_path', p));
      const known = (paths.length > 0 ? paths : state.byVolume(req.volume_id).map((m) => m.path)).filter((p) => mountOf(req.volume_id, p));
      const failed = failures.issuesOf(req.volume_id);
      if (known.length === 0 && failed.length === 0) {
        if (paths.length > 0) {
          const issues = paths.map((p) => ({
            status: 'INACCESSIBLE' as const,
            reason: 'NotMounted',
            message: `volume ${req.volume_id} is not mounted at ${p} on this node`,
          }));
          return { volume_health: { volume_id: req.volume_id, health_statuses: uniqueIssues(issues) } };
        }
        throw notFound(`volume ${req.volume_id} is neither staged nor published on this node`);
      }
      const issues = uniqueIssues([...failed, ...known.flatMap((p) => health.issuesOf(p))]);
      return {
        volume_health: {
          volume_id: req.volume_id,
          health_statuses: issues.map(({ status, reason, message }) => ({ status, reason, message })),
        },
      };
    },

    async NodeGetStorageHealth() {
      return { backend_health: health.storageIssues().map((s) => ({ status: s.status, reason: s.reason, message: s.message })) };
    },

    async NodeExpandVolume(req) {
      checkVolumeId(req.volume_id);
      if (req.volume_capability) requireCapability('volume_capability', req.volume_capability);
      requireMountPath(req.volume_id, req.volume_path);
      const { bytes } = capacityFor(req.capacity_range, 0n);
      // A shared filesystem grows on the server; there is nothing to resize here.
      return { capacity_bytes: String(bytes) };
    },

    async NodeGetCapabilities() {
      return { capabilities: nodeCapabilities(deps.healthApi) };
    },

    async NodeGetInfo() {
      return { node_id: deps.nodeId, max_volumes_per_node: String(deps.maxVolumesPerNode) };
    },
  };
}
