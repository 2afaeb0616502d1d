import * as path from 'node:path';
import type { Logger } from 'pino';
import type { DriverMode, NfsConfig } from '../config';
import { NoShareMountError } from './backendErrors';
import { nfsStorageCheck, remountCuresIssue } from './nfsStorageCheck';
import { nfsSourceResolver } from './volumeSourceResolver';
import type { Backend } from './backend';
import { efsUtilsDetector } from './efsMount';
import type { FsHelperPool } from '../isolation/fsHelperPool';
import type { Mounter } from '../mount/mounter';
import { NfsMountPlanner } from './nfsMountPlan';
import { pingServer, type ServerPing } from './nfsServerPing';
import { NfsShareMount } from './nfsShareMount';
import { ShareStore } from './shareStore';

export interface NfsBackendOptions {
  nfs: NfsConfig;
  mode: DriverMode;
  stateDir: string;
  pool: FsHelperPool;
  mounter: Mounter;
  logger: Logger;
  /** Deadline of the storage check's steps and of verifying the work mount. */
  checkTimeoutMs: number;
  /** Is amazon-efs-utils installed? Default: look for mount.efs once. */
  efsUtilsPresent?: () => boolean;
  ping?: ServerPing;
  /** Mount the share root in node mode too: a node announces itself there for attach (--enable-attach). */
  shareRootOnNode?: boolean;
}

/** The controller's private mount point of the share root, under --state-dir. */
export function shareWorkDir(stateDir: string): string {
  return path.join(stateDir, 'nfs-share-root');
}

/**
 * The nfs backend (NFSv4 server or EFS). The controller mounts the share root at a private
 * work directory on first use and keeps volume directories there; nodes mount
 * `server:<share>/volumes/<id>/data` at the staging path. In node mode nothing is mounted
 * until a volume is staged, unless attach is enabled: then the node mounts the share root too,
 * to announce itself in nodes/<node>.json for ControllerPublishVolume.
 * @throws Error at start for a configuration that cannot work (bad server, options, region).
 */
export function createNfsBackend(o: NfsBackendOptions): Backend {
  const planner = new NfsMountPlanner({ ...o.nfs, efsUtilsPresent: o.efsUtilsPresent ?? efsUtilsDetector() });
  const ep = planner.configuredEndpoint;
  // Over TLS (mount.efs) a plaintext NFS call may be refused by policy; a TCP connect still tells reachability.
  const pingKind = ep.kind === 'efs' ? 'tcp' : 'nfs-null';
  const logger = o.logger;
  const ping = o.ping ?? pingServer;
  let share: NfsShareMount | undefined;
  if (o.mode !== 'node' || o.shareRootOnNode) {
    const source = planner.plan({ server: '', path: planner.share, perVolume: [] });
    if (source.kind !== 'nfs') throw new Error('the share root must be an NFS mount');
    share = new NfsShareMount({
      workDir: shareWorkDir(o.stateDir),
      source,
      mounter: o.mounter,
      pool: o.pool,
      logger,
      checkTimeoutMs: Math.max(o.checkTimeoutMs, 2_000),
      serverAnswers: () =>
        ping(ep.host, planner.configuredPort, Math.max(o.checkTimeoutMs, 2_000), pingKind).then(
          () => true,
          () => false,
        ),
      onMounted: async (root) => {
        await o.pool.run({ op: 'mkdir', path: path.join(root, 'volumes') }, 10_000);
        await o.pool.run({ op: 'mkdir', path: path.join(root, 'snapshots') }, 10_000);
      },
    });
  }
  const root = share;
  const store = new ShareStore(
    root ? () => root.root() : () => Promise.reject(new NoShareMountError('this node plugin has no controller share mount')),
    { pool: o.pool, logger },
  );
  const checkShare = nfsStorageCheck({
    host: ep.host,
    port: planner.configuredPort,
    timeoutMs: o.checkTimeoutMs,
    pingKind,
    ping,
    ...(root
      ? {
          shareRoot: {
            pool: o.pool,
            mountedPath: () => root.mountedPath(),
            markHealthy: () => root.markHealthy(),
            markSuspect: (code: string) => root.markSuspect(code),
          },
        }
      : {}),
  });
  return {
    store,
    context: { backend: 'nfs', server: planner.configuredServer, share: planner.share },
    resolveSource: nfsSourceResolver(planner),
    async checkStorage() {
      const issues = await checkShare();
      // The check only checks. Mounting the root again is decided here: a stale handle or a broken
      // transport of a live server is cured by a new mount, so do it before a controller call waits for it.
      if (root && remountCuresIssue(issues)) {
        void root.remountIfBroken().catch((err: Error) => logger.warn({ err: err.message }, 'remount of the share root failed'));
      }
      return issues;
    },
    async init() {
      // Mounted in the background: a server that is down at start must not hold up serving.
      void root?.root().catch((err: Error) => logger.warn({ err: err.message }, 'share root not mounted yet; will retry on the next call'));
    },
    async close() {
      await root?.close();
    },
  };
}
