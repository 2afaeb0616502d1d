import type { Logger } from 'pino';
import type { Backend } from './backend/backend';
import type { ShareRecordStore } from './backend/shareRecordStore';
import { VolumeRegistry } from './backend/volumeRegistry';
import type { Config } from './config';
import { ControllerHealth } from './controller/controllerHealth';
import { createControllerService } from './controller/controllerService';
import { createGroupControllerService } from './controller/groupControllerService';
import { VolumeCatalog } from './controller/volumeCatalog';
import type { ServiceBinding } from './grpc/csiServer';
import { loadCsiProto } from './grpc/loadCsiProto';
import { bindService, type UnaryDeps } from './grpc/unary';
import type { FaultInjector } from './health/faultInjector';
import type { FsHelperPool } from './isolation/fsHelperPool';

/** What the controller side is built from. */
export interface ControllerParts {
  cfg: Config;
  backend: Backend;
  pool: FsHelperPool;
  records: ShareRecordStore;
  faults: FaultInjector | undefined;
  logger: Logger;
  /** Settles once the share layout exists. */
  initBackend: Promise<void>;
  unaryDeps: UnaryDeps;
}

/** The Controller and GroupController services, and the preparation of the volume registry behind them. */
export function controllerBindings(parts: ControllerParts): { services: ServiceBinding[]; initCatalog: Promise<void> } {
  const { cfg, backend, pool, records, faults, logger, initBackend, unaryDeps } = parts;
  const { store, context } = backend;
  const proto = loadCsiProto().csi.v1;
  const health = new ControllerHealth(store, (id) => faults?.issuesFor(id) ?? []);
  const catalog = new VolumeCatalog(store, new VolumeRegistry(() => store.root(), pool), logger.child({ component: 'volume-catalog' }));
  // Until the registry is there, volumes are still listed from their directories.
  const initCatalog = initBackend
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
  const services: ServiceBinding[] = [
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
  ];
  return { services, initCatalog };
}
