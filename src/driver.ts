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
import { ControllerHealth } from './controller/controllerHealth';
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
import { startHealthServer } from './http/healthHttpServer';
import { explainListenError } from './http/listenError';
import { toReport } from './health/mountHealth';
import { createIdentityService } from './identity/identityService';
import { NodeMountOps } from './node/nodeMountOps';
import { createNodeService } from './node/nodeService';
import { NodeStateStore } from './node/nodeStateStore';
import { restoreNodeState } from './node/restoreNodeState';
import { readProcStatus, requireMountPrivileges } from './node/mountPrivileges';
import { ShareStore } from './backend/shareStore';
import type { VolumeSource } from './backend/records';
import type { VolumeSourceResolver } from './node/volumeSourceResolver';

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
  const pool = new FsHelperPool({ logger: logger.child({ component: 'fs-helpers' }), maxIdle: cfg.healthConcurrency + 2 });
  const faults = cfg.enableFaultInjection ? new FaultInjector(clock) : undefined;
  let metrics: DriverMetrics | undefined;
  const mounter = new SystemMounter({ logger, observe: (op, s, ok) => metrics?.observeMount(op, s, ok) });
  await mkdir(cfg.stateDir, { recursive: true, mode: 0o700 });
  const backend = createBackend(cfg, pool, mounter, logger.child({ component: 'backend' }));
  const store = backend.store;
  let backendReady = false;
  let nodeStateRebuilt = false;
  const initBackend = backend.init().then(
    () => (backendReady = true),
    (err: Error) => logger.error({ err: err.message }, 'share layout could not be created; will retry on the next call'),
  );

  const monitor = new HealthMonitor({
    pool,
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
      probeDone: (m, s, issue) => metrics?.observeProbe(m, s, issue),
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
  metrics = new DriverMetrics({
    mounts: () => monitor.all(),
    issuesOf: (p) => monitor.issuesOf(p),
    stuckHelpers: () => pool.snapshot().stuck,
    driverHealthy: () => ready().ok,
    storageReachable,
    nodeStateRebuilt: () => nodeStateRebuilt,
  });

  const locks = new VolumeLocks();
  const unaryDeps: UnaryDeps = { logger, locks, observe: (rpc, code, s) => metrics?.observeRpc(rpc, code, s) };
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
          ready: () => serverUp && backendReady && monitor.loopAlive().ok,
        }),
        unaryDeps,
      ),
    },
  ];
  const context = backend.context;
  if (cfg.mode !== 'node') {
    const health = new ControllerHealth(store, (id) => faults?.issuesFor(id) ?? []);
    services.push({
      definition: proto.Controller.service,
      implementation: bindService(createControllerService({ store, health, context, healthApi: cfg.healthApi }), unaryDeps),
    });
  }
  if (cfg.mode !== 'controller') {
    const state = new NodeStateStore(cfg.stateDir);
    // The mount table is the truth: records of mounts that are gone are dropped, the rest watched again.
    const restored = await restoreNodeState(state, await readMountTable(), { kubeletDir: cfg.kubeletDir, sourceOf: sourceOfProvisioned(backend) }, logger);
    nodeStateRebuilt = restored.corrupt !== undefined;
    for (const reg of restored.records) monitor.register(reg);
    const ops = new NodeMountOps({ mounter, pool, state, health: monitor, logger, ...(faults ? { faults } : {}) });
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
        }),
        unaryDeps,
      ),
    });
  }

  monitor.start();
  await initBackend;
  const healthServer =
    cfg.healthPort > 0
      ? await startHealthServer(
          cfg.healthPort,
          cfg.healthAddress,
          {
            live: () => monitor.loopAlive(),
            ready,
            mounts: () => Object.fromEntries(monitor.all().map((m) => [m.reg.path, toReport(m, monitor.issuesOf(m.reg.path))])),
            metrics: () => metrics?.text() ?? Promise.resolve(''),
            metricsContentType: metrics.registry.contentType,
            driverName: cfg.driverName,
          },
          logger,
        ).catch((err: unknown) => {
          throw explainListenError(err, { flag: '--health-port', env: 'HEALTH_PORT', port: cfg.healthPort, address: cfg.healthAddress });
        })
      : undefined;
  const faultServer = faults
    ? await startFaultApi(cfg.faultInjectionPort, cfg.faultInjectionAddress, faults, logger).catch((err: unknown) => {
        throw explainListenError(err, { flag: '--fault-injection-port', env: 'FAULT_INJECTION_PORT', port: cfg.faultInjectionPort, address: cfg.faultInjectionAddress });
      })
    : undefined;
  if (faults && !isLoopbackHost(cfg.faultInjectionAddress)) {
    logger.warn({ address: cfg.faultInjectionAddress }, 'fault injection is reachable from other machines: anyone who reaches it can fake volume health and fail mounts');
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
      monitor.stop();
      await server.stop();
      healthServer?.close();
      faultServer?.close();
      await backend.close().catch((err: Error) => logger.warn({ err: err.message }, 'backend close failed'));
      pool.close();
    },
  };
}
