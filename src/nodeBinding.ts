import type { Logger } from 'pino';
import type { Backend } from './backend/backend';
import type { VolumeSource } from './backend/records';
import type { ShareRecordStore } from './backend/shareRecordStore';
import { ShareStore } from './backend/shareStore';
import type { VolumeSourceResolver } from './backend/volumeSourceResolver';
import type { Config } from './config';
import { currentMutableParameters } from './controller/modifyVolume';
import type { ServiceBinding } from './grpc/csiServer';
import { loadCsiProto } from './grpc/loadCsiProto';
import { bindService, type UnaryDeps } from './grpc/unary';
import type { FaultInjector } from './health/faultInjector';
import type { HealthMonitor } from './health/healthMonitor';
import type { FsHelperPool } from './isolation/fsHelperPool';
import type { DriverMetrics } from './metrics/driverMetrics';
import { mountPointsOf, readMountInfoText, readMountTable } from './mount/mountTable';
import { NodeMountOps } from './node/nodeMountOps';
import { createNodeService } from './node/nodeService';
import { NodeStateStore } from './node/nodeStateStore';
import { restoreNodeState } from './node/restoreNodeState';

/** What the node side is built from. */
export interface NodeParts {
  cfg: Config;
  backend: Backend;
  pool: FsHelperPool;
  monitor: HealthMonitor;
  records: ShareRecordStore;
  metrics: DriverMetrics;
  faults: FaultInjector | undefined;
  logger: Logger;
  unaryDeps: UnaryDeps;
}

/** How this node mounts a volume it provisioned, or undefined when the backend cannot tell from the id alone. */
function sourceOfProvisioned(backend: { resolveSource: VolumeSourceResolver }): (volumeId: string) => VolumeSource | undefined {
  return (volumeId: string): VolumeSource | undefined => {
    try {
      return backend.resolveSource(volumeId, { volumeDir: ShareStore.volumeDataDir(volumeId) }, []);
    } catch {
      return undefined;
    }
  };
}

/**
 * The Node service. Restores the node state first and registers its mounts with the monitor
 * again; says whether the state file had to be rebuilt.
 */
export async function nodeBinding(parts: NodeParts): Promise<{ service: ServiceBinding; nodeStateRebuilt: boolean }> {
  const { cfg, backend, pool, monitor, records, metrics, faults, logger, unaryDeps } = parts;
  const store = backend.store;
  const proto = loadCsiProto().csi.v1;
  const state = new NodeStateStore(cfg.stateDir);
  // The mount table is the truth: records of mounts that are gone are dropped, the rest watched again.
  const restored = await restoreNodeState(
    state,
    await readMountTable(),
    { kubeletDir: cfg.kubeletDir, sourceOf: sourceOfProvisioned(backend) },
    logger,
  );
  for (const reg of restored.records) monitor.register(reg);
  const ops = new NodeMountOps({
    pool,
    state,
    health: monitor,
    logger,
    kubeletDir: cfg.kubeletDir,
    ...(cfg.backend === 'local' ? { sourceBase: cfg.localDir } : {}),
    observe: (op, s, ok) => metrics.observeMount(op, s, ok),
    ...(faults ? { faults } : {}),
  });
  const service: ServiceBinding = {
    definition: proto.Node.service,
    implementation: bindService(
      createNodeService({
        nodeId: cfg.nodeId,
        maxVolumesPerNode: cfg.maxVolumesPerNode,
        healthApi: cfg.healthApi,
        ops,
        state,
        health: monitor,
        pool,
        resolveSource: backend.resolveSource,
        logger,
        paths: { kubeletDir: cfg.kubeletDir, forbidden: cfg.backend === 'local' ? [cfg.localDir, cfg.stateDir] : [cfg.stateDir] },
        mountPoints: async () => mountPointsOf(await readMountInfoText()),
        attach: cfg.enableAttach,
        healthDefaults: { intervalMs: cfg.healthCheckIntervalMs, timeoutMs: cfg.healthCheckTimeoutMs },
        // The local backend's nodes see the share: a volume's modified parameters apply at its next stage.
        ...(cfg.backend === 'local'
          ? {
              currentParameters: async (id: string) => {
                const rec = await store.getVolume(id);
                return rec ? currentMutableParameters(records, rec) : {};
              },
            }
          : {}),
      }),
      unaryDeps,
    ),
  };
  return { service, nodeStateRebuilt: restored.corrupt !== undefined };
}
