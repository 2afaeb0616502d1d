import { buildConfig } from './config';
import { parseCli } from './cli';
import { startDriver } from './driver';
import { driverVersion } from './driverVersion';
import { createLogger } from './logger';
import { boostDriverPriority, driverPriorityBoost } from './isolation/cpuPriority';

/** The csi-driver program: flags -> Config -> driver; SIGTERM/SIGINT drain and stop. */
export async function main(argv: string[]): Promise<void> {
  const cfg = buildConfig(parseCli(argv, driverVersion));
  const logger = createLogger(cfg.logLevel);
  // Before any thread starts: threads inherit the nice value of the thread that starts them.
  const boosted = boostDriverPriority();
  logger.info(
    {
      version: driverVersion,
      mode: cfg.mode,
      backend: cfg.backend,
      healthApi: cfg.healthApi,
      driverName: cfg.driverName,
      cpuPriorityBoost: { ...boosted, steps: driverPriorityBoost },
    },
    'starting',
  );
  const driver = await startDriver(cfg, logger);
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping: draining in-flight calls');
    driver
      .stop()
      .then(() => {
        logger.info('stopped');
        logger.flush();
        process.exit(0);
      })
      .catch((err: Error) => {
        logger.error({ err }, 'stop failed');
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
