import type { Logger } from 'pino';
import type { ShareRecordStore } from './backend/shareRecordStore';
import type { Config } from './config';

/**
 * With attach, a node plugin announces itself (and its --max-volumes-per-node) on the share so
 * that the controller knows it: ControllerPublishVolume to a node never announced is NOT_FOUND.
 * Retried in the background until the share answers.
 */
export function announceNode(records: ShareRecordStore, cfg: Config, logger: Logger, attempt = 0): void {
  records.putNode({ nodeId: cfg.nodeId, maxVolumesPerNode: cfg.maxVolumesPerNode, registeredAt: new Date().toISOString() }).then(
    () => logger.info({ nodeId: cfg.nodeId }, 'node announced on the share for attach'),
    (err: Error) => {
      logger.warn({ err: err.message, attempt }, 'node could not announce itself on the share; retrying');
      setTimeout(() => announceNode(records, cfg, logger, attempt + 1), Math.min(60_000, 1_000 * 2 ** attempt)).unref();
    },
  );
}
