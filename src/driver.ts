import type * as http from 'node:http';
import { mkdir } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { Config } from './config';
import { FsHelperPool } from './isolation/fsHelperPool';
import { SystemMounter } from './mount/mounter';
import { reusingMountTableReader } from './mount/mountTable';
import { createBackend } from './backend/createBackend';
import { ShareRecordStore } from './backend/shareRecordStore';
import { CsiServer, type ServiceBinding } from './grpc/csiServer';
import { loadCsiProto } from './grpc/loadCsiProto';
import { refuseLiveSocket } from './grpc/socketInUse';
import { bindService, type UnaryDeps } from './grpc/unary';
import { VolumeLocks } from './grpc/volumeLocks';
import { systemClock, type Clock } from './health/clock';
import { DriverMetrics } from './metrics/driverMetrics';
import { FaultInjector } from './health/faultInjector';
import { HealthMonitor } from './health/healthMonitor';
import { retryUntilDone } from './startupRetry';
import { createIdentityService } from './identity/identityService';
import { readProcStatus, requireMountPrivileges } from './node/mountPrivileges';
import { announceNode } from './announceNode';
import { controllerBindings } from './controllerBindings';
import { driverReadiness } from './driverReadiness';
import { driverVersion } from './driverVersion';
import { nodeBinding } from './nodeBinding';
import { startHttpEndpoints } from './startHttpEndpoints';

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
    readTable: reusingMountTableReader(),
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
  const ready = driverReadiness(monitor);
  metrics.watch({
    mounts: () => monitor.all(),
    issuesOf: (p) => monitor.issuesOf(p),
    stuckHelpers: () => {
      const s = pool.snapshot();
      return s.csi.stuck + s.probe.stuck;
    },
    helperTotals: () => pool.helperTotals(),
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
  const records = new ShareRecordStore(() => store.root(), pool);
  let initCatalog: Promise<void> = Promise.resolve();
  if (cfg.mode !== 'node') {
    const controller = controllerBindings({ cfg, backend, pool, records, faults, logger, initBackend, unaryDeps });
    services.push(...controller.services);
    initCatalog = controller.initCatalog;
  }
  if (cfg.mode !== 'controller') {
    const node = await nodeBinding({ cfg, backend, pool, monitor, records, metrics, faults, logger, unaryDeps });
    nodeStateRebuilt = node.nodeStateRebuilt;
    services.push(node.service);
  }

  monitor.start();
  await initBackend;
  await initCatalog;
  if (cfg.enableAttach && cfg.mode === 'node') announceNode(records, cfg, logger);
  const { healthServer, faultServer } = await startHttpEndpoints({ cfg, monitor, pool, metrics, ready, faults, logger });
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
