import { buildConfig } from './config';
import { parseCli } from './cli';
import { startDriver } from './driver';
import { driverVersion } from './driverVersion';
import { createLogger } from './logger';

/** The csi-driver program: flags -> Config -> driver; SIGTERM/SIGINT drain and stop. */
export async function main(argv: string[]): Promise<void> {
  const cfg = buildConfig(parseCli(argv, driverVersion));
  const logger = createLogger(cfg.logLevel);
  logger.info(
    { version: driverVersion, mode: cfg.mode, backend: cfg.backend, healthApi: cfg.healthApi, driverName: cfg.driverName },
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
