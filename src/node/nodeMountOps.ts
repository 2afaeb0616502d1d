import type { Logger } from 'pino';
import type { FsHelperPool } from '../isolation/fsHelperPool';
import type { Mounter } from '../mount/mounter';
import type { MountEntry } from '../mount/mountTable';
import { IsolatedFsError } from '../isolation/isolationErrors';
import type { VolumeSource } from '../backend/records';
import { alreadyExists, failedPrecondition, notFound } from '../grpc/csiError';
import type { MountRegistration } from '../health/mountRegistration';
import type { NodeHealthView } from '../health/nodeHealthView';
import type { NodeStateStore } from './nodeStateStore';

export interface NodeMountDeps {
  mounter: Mounter;
  pool: FsHelperPool;
  state: NodeStateStore;
  health: NodeHealthView;
  logger: Logger;
  /** Deadline of mkdir/rmdir of a staging or target path. */
  pathTimeoutMs?: number;
  faults?: { consume(op: 'mount' | 'stage' | 'publish'): void };
}

/** Reasons after which a staging mount is not trusted and is made again. */
const remountReasons = new Set(['StaleFileHandle', 'TransportError', 'NotMounted']);
/** Errors of a quick look that mean the same. */
const staleCodes = new Set(['ESTALE', 'ENOTCONN', 'EIO']);
/** Deadline of that quick look. */
const staleCheckMs = 3_000;

/** A volume's own health check interval and timeout (ms). */
export type MountSchedule = Pick<MountRegistration, 'intervalMs' | 'timeoutMs'>;

/** The schedule a publish inherits from its staging mount. */
function scheduleOf(staged: MountRegistration | undefined): MountSchedule {
  const out: MountSchedule = {};
  if (staged?.intervalMs !== undefined) out.intervalMs = staged.intervalMs;
  if (staged?.timeoutMs !== undefined) out.timeoutMs = staged.timeoutMs;
  return out;
}

function sourceDescription(src: VolumeSource): string {
  // mount.efs with tls mounts through a local proxy (127.0.0.1:/path): its source is not the device.
  return src.kind === 'bind' || src.fsType === 'efs' ? '' : src.device;
}

/**
 * The mount work of the node service: staging, publishing and taking both down, with the
 * mount table as the truth and every touch of the paths in a killable helper.
 */
export class NodeMountOps {
  private readonly pathTimeoutMs: number;

  constructor(private readonly deps: NodeMountDeps) {
    this.pathTimeoutMs = deps.pathTimeoutMs ?? 10_000;
  }

  /** `schedule`: the volume's own health check interval and timeout, kept on its mounts' registrations. */
  async stage(volumeId: string, stagingPath: string, source: VolumeSource, schedule: MountSchedule = {}): Promise<void> {
    const { mounter, state } = this.deps;
    this.deps.faults?.consume('stage');
    const current = await mounter.mountAt(stagingPath);
    const rec = state.get(stagingPath);
    const reg = { ...this.stagingRegistration(volumeId, stagingPath, source), ...schedule };
    if (current) {
      if (rec && rec.volumeId !== volumeId) throw alreadyExists(`${stagingPath} is the staging path of volume ${rec.volumeId}`);
      if (!(await this.isStale(stagingPath, current)) && (!rec || rec.expectedSource === reg.expectedSource)) {
        await this.remember(reg);
        return;
      }
    }
    await this.requireSource(volumeId, source);
    await this.mountStaging(reg, source, current !== undefined);
  }

  async unstage(volumeId: string, stagingPath: string): Promise<void> {
    const rec = this.deps.state.get(stagingPath);
    if (rec && rec.volumeId !== volumeId) throw failedPrecondition(`${stagingPath} is the staging path of volume ${rec.volumeId}`);
    await this.takeDown(stagingPath);
  }

  async publish(volumeId: string, stagingPath: string, targetPath: string, readOnly: boolean): Promise<void> {
    const { mounter, state } = this.deps;
    this.deps.faults?.consume('publish');
    const staged = state.get(stagingPath);
    if (staged && staged.volumeId !== volumeId) throw failedPrecondition(`${stagingPath} is the staging path of volume ${staged.volumeId}`);
    const stagingMount = await mounter.mountAt(stagingPath);
    const stagingMounted = stagingMount !== undefined;
    if (staged?.source && (!stagingMounted || (await this.isStale(stagingPath, stagingMount)))) {
      // The staging mount went stale or vanished behind our back: make it again before binding.
      await this.requireSource(volumeId, staged.source);
      await this.mountStaging(staged, staged.source, stagingMounted);
    } else if (!stagingMounted) {
      throw failedPrecondition(`volume ${volumeId} is not staged at ${stagingPath}`);
    }
    const current = await mounter.mountAt(targetPath);
    if (current) {
      const rec = state.get(targetPath);
      if (rec && (rec.volumeId !== volumeId || rec.readOnly !== readOnly)) {
        throw alreadyExists(`${targetPath} is already published ${rec.volumeId === volumeId ? 'with another read-only setting' : `for volume ${rec.volumeId}`}`);
      }
      await this.remember({ volumeId, path: targetPath, kind: 'publish', readOnly, expectedSource: staged?.expectedSource ?? '', stagingPath, ...scheduleOf(staged) });
      return;
    }
    await this.deps.pool.run({ op: 'mkdir', path: targetPath }, this.pathTimeoutMs);
    this.deps.faults?.consume('mount');
    await mounter.bindMount(stagingPath, targetPath, readOnly);
    await this.remember({ volumeId, path: targetPath, kind: 'publish', readOnly, expectedSource: staged?.expectedSource ?? '', stagingPath, ...scheduleOf(staged) });
  }

  async unpublish(volumeId: string, targetPath: string): Promise<void> {
    const rec = this.deps.state.get(targetPath);
    if (rec && rec.volumeId !== volumeId) throw failedPrecondition(`${targetPath} is published for volume ${rec.volumeId}`);
    await this.takeDown(targetPath);
  }

  /** Unmounts (escalating for dead servers) and removes the directory if it is empty; never deletes data. */
  private async takeDown(mountPath: string): Promise<void> {
    this.deps.health.unregister(mountPath);
    await this.deps.mounter.unmount(mountPath);
    const removed = await this.deps.pool.run({ op: 'rmdirIfEmpty', path: mountPath }, this.pathTimeoutMs);
    // Files under an unmounted path are not ours to delete: leave them and say so.
    if (!removed) this.deps.logger.warn({ path: mountPath }, 'unmounted, but the directory is not empty; left in place');
    await this.deps.state.remove(mountPath);
  }

  private stagingRegistration(volumeId: string, stagingPath: string, source: VolumeSource): MountRegistration {
    return { volumeId, path: stagingPath, kind: 'staging', readOnly: false, expectedSource: sourceDescription(source), source };
  }

  /** (Re)mounts a staging path: unmounts what is there, then mounts the source afresh. */
  private async mountStaging(reg: MountRegistration, source: VolumeSource, mounted: boolean): Promise<void> {
    const { mounter } = this.deps;
    if (mounted) {
      this.deps.logger.warn({ stagingPath: reg.path }, 'staging mount is stale or from another source; mounting again');
      await mounter.unmount(reg.path);
    }
    await this.deps.pool.run({ op: 'mkdir', path: reg.path }, this.pathTimeoutMs);
    this.deps.faults?.consume('mount');
    if (source.kind === 'bind') await mounter.bindMount(source.path, reg.path, false);
    else await mounter.mount(source.fsType, source.device, reg.path, source.options);
    await this.remember(reg);
  }

  /** CSI: staging or publishing a volume that does not exist is NOT_FOUND; a bind source shows it before any effect. */
  private async requireSource(volumeId: string, source: VolumeSource): Promise<void> {
    if (source.kind === 'bind' && !(await this.deps.pool.run({ op: 'exists', path: source.path }, this.pathTimeoutMs))) {
      throw notFound(`volume ${volumeId} does not exist`);
    }
  }

  /**
   * A staging mount is stale when the monitor says so, when its source directory was deleted
   * (the mount table marks the root `//deleted`: the volume was deleted, maybe made again, while
   * staged), or when a quick look answers ESTALE, ENOTCONN or EIO. A look that times out is a
   * hung server, not a stale mount: mounting again would not help, so that counts as not stale.
   */
  private async isStale(stagingPath: string, mount: MountEntry): Promise<boolean> {
    if (mount.root.endsWith('//deleted')) return true;
    if (this.deps.health.issuesOf(stagingPath).some((i) => remountReasons.has(i.reason))) return true;
    try {
      await this.deps.pool.run({ op: 'stat', path: stagingPath }, staleCheckMs);
      return false;
    } catch (err) {
      return err instanceof IsolatedFsError && staleCodes.has(err.code);
    }
  }

  private async remember(reg: MountRegistration): Promise<void> {
    await this.deps.state.put(reg);
    this.deps.health.register(reg);
  }
}
