import type * as http from 'node:http';
import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import * as path from 'node:path';
import type { Logger } from 'pino';
import { isLoopbackHost, type Config } from './config';
import { FsHelperPool } from './isolation/fsHelperPool';
import { SystemMounter } from './mount/mounter';
import { readMountTable } from './mount/mountTable';
import { createBackend } from './backend/createBackend';
import { createControllerService } from './controller/controllerService';
import { createGroupControllerService } from './controller/groupControllerService';
import { currentMutableParameters } from './controller/modifyVolume';
import { ShareRecordStore } from './backend/shareRecordStore';
import { ControllerHealth } from './controller/controllerHealth';
import { VolumeCatalog } from './controller/volumeCatalog';
import { VolumeRegistry } from './backend/volumeRegistry';
import { CsiServer, type ServiceBinding } from './grpc/csiServer';
import { loadCsiProto } from './grpc/loadCsiProto';
import { refuseLiveSocket } from './grpc/socketInUse';
import { bindService, type UnaryDeps } from './grpc/unary';
import { VolumeLocks } from './grpc/volumeLocks';
import { systemClock, type Clock } from './health/clock';
import { DriverMetrics } from './metrics/driverMetrics';
import { FaultInjector } from './health/faultInjector';
import { startFaultApi } from './http/faultApi';
import { HealthMonitor } from './health/healthMonitor';
import { liveness } from './health/liveness';
import { retryUntilDone } from './startupRetry';
import { startHealthServer } from './http/healthHttpServer';
import { mountsReport } from './http/mountsReport';
import { explainListenError } from './http/listenError';
import { createIdentityService } from './identity/identityService';
import { NodeMountOps } from './node/nodeMountOps';
import { createNodeService } from './node/nodeService';
import { NodeStateStore } from './node/nodeStateStore';
import { restoreNodeState } from './node/restoreNodeState';
import { readProcStatus, requireMountPrivileges } from './node/mountPrivileges';
import { ShareStore } from './backend/shareStore';
import type { VolumeSource } from './backend/records';
import type { VolumeSourceResolver } from './backend/volumeSourceResolver';

/** The version in package.json, read once. */
export const driverVersion: string = (
  JSON.parse(readFileSync(path.resolve(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }
).version;

/** A started driver: its addresses and a way to stop it. */
export interface RunningDriver {
  csiAddress: string;
  healthPort: number | undefined;
  faultPort: number | undefined;
  monitor: HealthMonitor;
  stop(): Promise<void>;
}

function portOf(s: http.Server | undefined): number | undefined {
  const a = s?.address();
  return a && typeof a === 'object' ? a.port : undefined;
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

/** Builds every part from the Config, restores node state from the mount table, and starts serving. */
export async function startDriver(cfg: Config, logger: Logger, clock: Clock = systemClock): Promise<RunningDriver> {
  // Before anything else: a second driver on a live socket would also share its state dir and mounts.
  if (cfg.endpoint.kind === 'unix') await refuseLiveSocket(cfg.endpoint.path);
  if (cfg.mode !== 'controller') requireMountPrivileges(await readProcStatus());
  const pool = new FsHelperPool({ logger: logger.child({ component: 'fs-helpers' }), probeHelpers: cfg.healthConcurrency });
  const faults = cfg.enableFaultInjection ? new FaultInjector(clock) : undefined;
  const metrics = new DriverMetrics(undefined, cfg.metricsCompat);
  // mount and umount are forked by the pool thread, never on the event loop.
  const mounter = new SystemMounter({
    logger,
    run: (cmd, args, o) => pool.command(cmd, args, o),
    observe: (op, s, ok) => metrics.observeMount(op, s, ok),
  });
  await mkdir(cfg.stateDir, { recursive: true, mode: 0o700 });
  const backend = createBackend(cfg, pool, mounter, logger.child({ component: 'backend' }));
  const store = backend.store;
  let backendReady = false;
  let nodeStateRebuilt = false;
  let stopped = false;
  // Until the share layout exists, Probe says not ready; a share that comes later is picked up.
  const initBackend = retryUntilDone(
    () => backend.init(),
    () => (backendReady = true),
    logger,
    'creating the share layout',
    () => stopped,
  );

  const monitor = new HealthMonitor({
    isolation: pool,
    readTable: readMountTable,
    clock,
    logger: logger.child({ component: 'health-monitor' }),
    intervalMs: cfg.healthCheckIntervalMs,
    timeoutMs: cfg.healthCheckTimeoutMs,
    failureThreshold: cfg.healthFailureThreshold,
    successThreshold: cfg.healthSuccessThreshold,
    concurrency: cfg.healthConcurrency,
    checkStorage: backend.checkStorage,
    ...(faults ? { faults } : {}),
    observer: {
      probeDone: (m, s, issue) => metrics.observeProbe(m, s, issue),
      stateChanged: () => undefined,
    },
  });
  const storageReachable = (): boolean => !monitor.storageIssues().some((s) => s.status === 'STORAGE_UNREACHABLE');
  const ready = (): { ok: boolean; problems: string[] } => {
    const problems: string[] = [];
    for (const m of monitor.all()) {
      const issues = monitor.issuesOf(m.reg.path);
      if (issues.length > 0) problems.push(`${m.reg.path}: ${issues.map((i) => i.reason).join(', ')}`);
    }
    for (const s of monitor.storageIssues()) problems.push(`storage: ${s.reason}: ${s.message}`);
    return { ok: problems.length === 0, problems };
  };
  metrics.watch({
    mounts: () => monitor.all(),
    issuesOf: (p) => monitor.issuesOf(p),
    stuckHelpers: () => {
      const s = pool.snapshot();
      return s.csi.stuck + s.probe.stuck;
    },
    driverHealthy: () => ready().ok,
    storageReachable,
    nodeStateRebuilt: () => nodeStateRebuilt,
  });

  const locks = new VolumeLocks();
  const unaryDeps: UnaryDeps = {
    logger,
    locks,
    observe: (rpc, code, s) => metrics.observeRpc(rpc, code, s),
    ...(cfg.enableAttach ? {} : { unlocked: new Set(['ControllerPublishVolume', 'ControllerUnpublishVolume']) }),
  };
  const proto = loadCsiProto().csi.v1;
  let serverUp = false;
  const services: ServiceBinding[] = [
    {
      definition: proto.Identity.service,
      implementation: bindService(
        createIdentityService({
          driverName: cfg.driverName,
          version: driverVersion,
          mode: cfg.mode,
          ready: () => serverUp && backendReady && monitor.loopAlive().ok && pool.status().ok,
        }),
        unaryDeps,
      ),
    },
  ];
  const context = backend.context;
  const records = new ShareRecordStore(() => store.root(), pool);
  let initCatalog: Promise<void> = Promise.resolve();
  if (cfg.mode !== 'node') {
    const health = new ControllerHealth(store, (id) => faults?.issuesFor(id) ?? []);
    const catalog = new VolumeCatalog(store, new VolumeRegistry(() => store.root(), pool), logger.child({ component: 'volume-catalog' }));
    // Until the registry is there, volumes are still listed from their directories.
    initCatalog = initBackend
      .then(() => catalog.init())
      .then(
        () => undefined,
        (err: Error) =>
          logger.error(
            { err: err.message },
            'volume registry could not be prepared; volumes made before it are listed from their directories',
          ),
      );
    const attach = cfg.enableAttach
      ? {
          store,
          records,
          ...(cfg.mode === 'all' ? { ownNode: { nodeId: cfg.nodeId, maxVolumesPerNode: cfg.maxVolumesPerNode } } : {}),
        }
      : undefined;
    services.push(
      {
        definition: proto.Controller.service,
        implementation: bindService(
          createControllerService({ store, catalog, health, context, healthApi: cfg.healthApi, records, ...(attach ? { attach } : {}) }),
          unaryDeps,
        ),
      },
      {
        definition: proto.GroupController.service,
        implementation: bindService(createGroupControllerService({ store, records }), unaryDeps),
      },
    );
  }
  if (cfg.mode !== 'controller') {
    const state = new NodeStateStore(cfg.stateDir);
    // The mount table is the truth: records of mounts that are gone are dropped, the rest watched again.
    const restored = await restoreNodeState(
      state,
      await readMountTable(),
      { kubeletDir: cfg.kubeletDir, sourceOf: sourceOfProvisioned(backend) },
      logger,
    );
    nodeStateRebuilt = restored.corrupt !== undefined;
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
    services.push({
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
          mountTable: () => mounter.table(),
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
    });
  }

  monitor.start();
  await initBackend;
  await initCatalog;
  if (cfg.enableAttach && cfg.mode === 'node') announceNode(records, cfg, logger);
  const healthServer =
    cfg.healthPort > 0
      ? await startHealthServer(
          cfg.healthPort,
          cfg.healthAddress,
          {
            live: liveness(
              () => monitor.loopAlive(),
              () => pool.status(),
            ),
            ready,
            mounts: () => mountsReport(monitor.all(), (p) => monitor.issuesOf(p)),
            metrics: () => metrics.text(),
            metricsContentType: metrics.registry.contentType,
            driverName: cfg.driverName,
          },
          logger,
          { maxConnections: cfg.httpMaxConnections },
        ).catch((err: unknown) => {
          throw explainListenError(err, { flag: '--health-port', env: 'HEALTH_PORT', port: cfg.healthPort, address: cfg.healthAddress });
        })
      : undefined;
  const faultServer = faults
    ? await startFaultApi(cfg.faultInjectionPort, cfg.faultInjectionAddress, faults, logger, {
        maxConnections: cfg.httpMaxConnections,
      }).catch((err: unknown) => {
        throw explainListenError(err, {
          flag: '--fault-injection-port',
          env: 'FAULT_INJECTION_PORT',
          port: cfg.faultInjectionPort,
          address: cfg.faultInjectionAddress,
        });
      })
    : undefined;
  if (faults && !isLoopbackHost(cfg.faultInjectionAddress)) {
    logger.warn(
      { address: cfg.faultInjectionAddress },
      'fault injection is reachable from other machines: anyone who reaches it can fake volume health and fail mounts',
    );
  }
  // The CSI socket comes last: once it answers, everything else is up.
  const server = new CsiServer(cfg.endpoint, services, logger);
  await server.start();
  serverUp = true;

  return {
    csiAddress: server.address,
    healthPort: portOf(healthServer),
    faultPort: portOf(faultServer),
    monitor,
    async stop() {
      serverUp = false;
      stopped = true;
      monitor.stop();
      await server.stop();
      healthServer?.close();
      faultServer?.close();
      await backend.close().catch((err: Error) => logger.warn({ err: err.message }, 'backend close failed'));
      pool.close();
    },
  };
}

/**
 * With attach, a node plugin announces itself (and its --max-volumes-per-node) on the share so
 * that the controller knows it: ControllerPublishVolume to a node never announced is NOT_FOUND.
 * Retried in the background until the share answers.
 */
function announceNode(records: ShareRecordStore, cfg: Config, logger: Logger, attempt = 0): void {
  records.putNode({ nodeId: cfg.nodeId, maxVolumesPerNode: cfg.maxVolumesPerNode, registeredAt: new Date().toISOString() }).then(
    () => logger.info({ nodeId: cfg.nodeId }, 'node announced on the share for attach'),
    (err: Error) => {
      logger.warn({ err: err.message, attempt }, 'node could not announce itself on the share; retrying');
      setTimeout(() => announceNode(records, cfg, logger, attempt + 1), Math.min(60_000, 1_000 * 2 ** attempt)).unref();
    },
  );
}
