import type * as http from 'node:http';
import type { Logger } from 'pino';
import { isLoopbackHost, type Config } from './config';
import type { FaultInjector } from './health/faultInjector';
import type { HealthMonitor } from './health/healthMonitor';
import { liveness } from './health/liveness';
import { startFaultApi } from './http/faultApi';
import { startHealthServer, type HealthSources } from './http/healthHttpServer';
import { explainListenError } from './http/listenError';
import { mountsReport } from './http/mountsReport';
import type { FsHelperPool } from './isolation/fsHelperPool';
import type { DriverMetrics } from './metrics/driverMetrics';

/** What the HTTP endpoints report from. */
export interface HttpEndpointParts {
  cfg: Config;
  monitor: HealthMonitor;
  pool: FsHelperPool;
  metrics: DriverMetrics;
  ready: HealthSources['ready'];
  faults: FaultInjector | undefined;
  logger: Logger;
}

/**
 * Starts the health port (when --health-port is set) and the fault-injection API (when enabled).
 * A port that cannot be had fails the start with the flag and variable that set it.
 */
export async function startHttpEndpoints(
  parts: HttpEndpointParts,
): Promise<{ healthServer: http.Server | undefined; faultServer: http.Server | undefined }> {
  const { cfg, monitor, pool, metrics, ready, faults, logger } = parts;
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
  return { healthServer, faultServer };
}
