import * as path from 'node:path';
import type { MountIdentity, PinnedCommandRun, PinnedMountSource, PinnedPathState } from '../isolation/pinnedTypes';
import type { VolumeSource } from '../backend/records';
import { alreadyExists, failedPrecondition, notFound } from '../grpc/csiError';
import { isStaleStagingMount } from './isStaleStagingMount';
import { mountError } from './mountError';
import { scheduleOf, type MountSchedule } from './mountSchedule';
import type { NodeMountDeps } from './nodeMountDeps';
import type { NodeMountRecord } from './nodeStateStore';
import { recogniseMount } from './recogniseMount';

function sourceDescription(src: VolumeSource): string {
  // mount.efs with tls mounts through a local proxy (127.0.0.1:/path): its source is not the device.
  return src.kind === 'bind' || src.fsType === 'efs' ? '' : src.device;
}

/**
 * The mount work of the node service: staging, publishing and taking both down. Every touch of
 * a staging or target path runs in a killable helper that walks it without following symlinks
 * and mounts or unmounts exactly the directory it resolved (src/isolation/pinnedMountOps.ts);
 * a mount at a path is the driver's only when the node state records it there with its identity.
 */
export class NodeMountOps {
  private readonly pathTimeoutMs: number;
  private readonly mountTimeoutMs: number;
  private readonly umountTimeoutMs: number;

  constructor(private readonly deps: NodeMountDeps) {
    this.pathTimeoutMs = deps.pathTimeoutMs ?? 10_000;
    this.mountTimeoutMs = deps.mountTimeoutMs ?? 60_000;
    this.umountTimeoutMs = deps.umountTimeoutMs ?? 5_000;
  }

  /** `schedule`: the volume's own health check interval and timeout, kept on its mounts' registrations. */
  async stage(volumeId: string, stagingPath: string, source: VolumeSource, schedule: MountSchedule = {}): Promise<void> {
    this.deps.faults?.consume('stage');
    const rec = this.deps.state.get(stagingPath);
    if (rec && rec.volumeId !== volumeId) throw alreadyExists(`${stagingPath} is the staging path of volume ${rec.volumeId}`);
    if (rec && rec.kind !== 'staging')
      throw failedPrecondition(`${stagingPath} is a publish target of volume ${volumeId}, not a staging path`);
    const reg: NodeMountRecord = {
      volumeId,
      path: stagingPath,
      kind: 'staging',
      readOnly: false,
      expectedSource: sourceDescription(source),
      source,
      ...schedule,
    };
    const current = await this.inspect(stagingPath);
    if (current.kind === 'mount') {
      const identity = recogniseMount(rec, current);
      if (!(await isStaleStagingMount(this.deps, stagingPath, current)) && rec?.expectedSource === reg.expectedSource) {
        await this.remember({ ...reg, identity });
        return;
      }
      await this.requireSource(volumeId, source);
      this.deps.logger.warn({ stagingPath }, 'staging mount is stale or from another source; mounting again');
      await this.unmount(stagingPath, identity);
    } else {
      await this.requireSource(volumeId, source);
    }
    await this.mountStaging(reg, source);
  }

  async unstage(volumeId: string, stagingPath: string): Promise<void> {
    const rec = this.deps.state.get(stagingPath);
    if (rec && rec.volumeId !== volumeId) throw failedPrecondition(`${stagingPath} is the staging path of volume ${rec.volumeId}`);
    if (rec && rec.kind !== 'staging')
      throw failedPrecondition(`${stagingPath} is a publish target of volume ${volumeId}; NodeUnpublishVolume takes it down`);
    await this.takeDown(stagingPath, rec);
  }

  async publish(volumeId: string, stagingPath: string, targetPath: string, readOnly: boolean): Promise<void> {
    this.deps.faults?.consume('publish');
    const staged = this.deps.state.get(stagingPath);
    if (!staged || staged.kind !== 'staging' || staged.pending)
      throw failedPrecondition(`volume ${volumeId} is not staged at ${stagingPath}`);
    if (staged.volumeId !== volumeId) throw failedPrecondition(`${stagingPath} is the staging path of volume ${staged.volumeId}`);
    const stagedIdentity = await this.stagedMount(volumeId, staged);
    const rec = this.deps.state.get(targetPath);
    if (rec && rec.kind !== 'publish')
      throw failedPrecondition(`${targetPath} is the staging path of volume ${rec.volumeId}, not a publish target`);
    if (rec && (rec.volumeId !== volumeId || rec.readOnly !== readOnly)) {
      throw alreadyExists(
        `${targetPath} is already published ${rec.volumeId === volumeId ? 'with another read-only setting' : `for volume ${rec.volumeId}`}`,
      );
    }
    const reg: NodeMountRecord = {
      volumeId,
      path: targetPath,
      kind: 'publish',
      readOnly,
      expectedSource: staged.expectedSource,
      stagingPath,
      ...scheduleOf(staged),
    };
    const current = await this.inspect(targetPath);
    if (current.kind === 'mount') {
      // A retry: only the bind this node recorded (or was making, with the staging mount's identity) is taken as done.
      const identity = recogniseMount(rec, current, stagedIdentity);
      await this.remember({ ...reg, identity });
      return;
    }
    await this.mountAt(reg, { kind: 'bind', base: this.baseOf(stagingPath), path: stagingPath, expect: stagedIdentity });
  }

  async unpublish(volumeId: string, targetPath: string): Promise<void> {
    const rec = this.deps.state.get(targetPath);
    // CSI: NodeUnpublishVolume undoes NodePublishVolume; the staging mount under live publishes is NodeUnstageVolume's.
    if (rec && rec.kind !== 'publish')
      throw failedPrecondition(`${targetPath} is the staging path of volume ${rec.volumeId}; NodeUnstageVolume takes it down`);
    if (rec && rec.volumeId !== volumeId) throw failedPrecondition(`${targetPath} is published for volume ${rec.volumeId}`);
    await this.takeDown(targetPath, rec);
  }

  /**
   * Looks at a caller's path before anything else: a symlink or a file on the way is the
   * caller's mistake (INVALID_ARGUMENT) whatever else is wrong with the call. Each step walks
   * the path again; this is a first answer, not the check the steps rely on.
   */
  async checkPath(p: string): Promise<void> {
    await this.inspect(p);
  }

  /** The staging mount to bind from: the recorded one, made again when it went stale or vanished. */
  private async stagedMount(volumeId: string, staged: NodeMountRecord): Promise<MountIdentity> {
    const current = await this.inspect(staged.path);
    if (current.kind === 'mount') {
      const identity = recogniseMount(staged, current);
      if (!staged.source || !(await isStaleStagingMount(this.deps, staged.path, current))) return identity;
      await this.requireSource(volumeId, staged.source);
      await this.unmount(staged.path, identity);
    } else if (!staged.source) {
      throw failedPrecondition(`volume ${volumeId} is not staged at ${staged.path}`);
    } else {
      // The staging mount vanished behind our back: make it again before binding.
      await this.requireSource(volumeId, staged.source);
    }
    return this.mountStaging(staged, staged.source);
  }

  /** Unmounts (escalating for dead servers) only the recorded mount, and removes the directory if it is empty; never deletes data. */
  private async takeDown(mountPath: string, rec: NodeMountRecord | undefined): Promise<void> {
    const { health } = this.deps;
    // No more probes, but what the monitor knew stays reported until the mount is gone.
    health.retire(mountPath);
    let removed: boolean;
    try {
      removed = (await this.runUnmount(mountPath, rec?.identity, rec !== undefined && !rec.identity, true, health.knownDead(mountPath)))
        .removed;
    } catch (err) {
      // Still mounted: keep watching it until a retry takes it down.
      health.retire(mountPath, false);
      throw mountError(err);
    }
    // Files under an unmounted path are not ours to delete: leave them and say so.
    if (!removed) this.deps.logger.warn({ path: mountPath }, 'unmounted, but the directory is not empty; left in place');
    await this.deps.state.remove(mountPath);
    health.unregister(mountPath);
  }

  private async unmount(mountPath: string, identity: MountIdentity): Promise<void> {
    try {
      await this.runUnmount(mountPath, identity, false, false);
    } catch (err) {
      throw mountError(err);
    }
  }

  private async runUnmount(
    mountPath: string,
    expect: MountIdentity | undefined,
    anyMount: boolean,
    removeDir: boolean,
    knownDead = false,
  ): Promise<{ removed: boolean }> {
    const req = {
      op: 'pinnedUnmount' as const,
      base: this.baseOf(mountPath),
      path: mountPath,
      anyMount,
      removeDir,
      commandTimeoutMs: this.umountTimeoutMs,
      ...(expect ? { expect } : {}),
      ...(knownDead ? { knownDead } : {}),
    };
    const r = await this.deps.pool.run(req, this.umountTimeoutMs * 6 + this.pathTimeoutMs);
    this.observe(r.commands);
    const escalated = r.commands.some((c) => !c.ok);
    if (escalated || this.deps.logger.isLevelEnabled('debug')) {
      const steps = r.commands.map((c) => `${c.op} ${c.ok ? 'ok' : 'failed'} in ${c.seconds.toFixed(2)} s`);
      if (escalated) this.deps.logger.info({ path: mountPath, knownDead, steps }, 'unmounted after escalation');
      else this.deps.logger.debug({ path: mountPath, knownDead, steps }, 'unmounted');
    }
    return r;
  }

  private mountStaging(reg: NodeMountRecord, source: VolumeSource): Promise<MountIdentity> {
    const pinned: PinnedMountSource =
      source.kind === 'bind'
        ? { kind: 'bind', base: this.deps.sourceBase ?? '/', path: source.path }
        : { kind: 'fs', fsType: source.fsType, device: source.device, options: source.options };
    return this.mountAt({ ...reg, source }, pinned);
  }

  /**
   * Mounts and records. The record is written first, marked pending: a crash after the mount
   * leaves it, and the retry finds its mount. A failed mount whose path holds no mount drops it.
   */
  private async mountAt(reg: NodeMountRecord, source: PinnedMountSource): Promise<MountIdentity> {
    const { identity: _old, ...intent } = reg;
    await this.deps.state.put({ ...intent, pending: true });
    try {
      this.deps.faults?.consume('mount');
      const req = {
        op: 'pinnedMount' as const,
        base: this.baseOf(reg.path),
        path: reg.path,
        source,
        readOnly: reg.readOnly,
        commandTimeoutMs: this.mountTimeoutMs,
      };
      const r = await this.deps.pool.run(req, this.mountTimeoutMs * 3 + this.umountTimeoutMs * 3 + this.pathTimeoutMs);
      this.observe(r.commands);
      const identity = { device: r.device, root: r.root };
      await this.remember({ ...intent, identity });
      return identity;
    } catch (err) {
      await this.forgetIfUnmounted(reg.path);
      throw mountError(err);
    }
  }

  private async forgetIfUnmounted(p: string): Promise<void> {
    try {
      if ((await this.inspect(p)).kind !== 'mount') await this.deps.state.remove(p);
    } catch {
      // unknown: the pending record stays, and the next call looks again
    }
  }

  /** CSI: staging or publishing a volume that does not exist is NOT_FOUND; a bind source shows it before any effect. */
  private async requireSource(volumeId: string, source: VolumeSource): Promise<void> {
    if (source.kind === 'bind' && !(await this.deps.pool.run({ op: 'exists', path: source.path }, this.pathTimeoutMs))) {
      throw notFound(`volume ${volumeId} does not exist`);
    }
  }

  private inspect(p: string): Promise<PinnedPathState> {
    return this.deps.pool.run({ op: 'pinnedInspect', base: this.baseOf(p), path: p }, this.pathTimeoutMs);
  }

  /** Paths are walked from the kubelet dir; a path recorded under an earlier setting, from the root. */
  private baseOf(p: string): string {
    const k = this.deps.kubeletDir;
    return p.startsWith(k.endsWith(path.sep) ? k : k + path.sep) ? k : '/';
  }

  private observe(commands: PinnedCommandRun[]): void {
    for (const c of commands) this.deps.observe?.(c.op, c.seconds, c.ok);
  }

  private async remember(reg: NodeMountRecord): Promise<void> {
    const { pending: _pending, ...done } = reg;
    await this.deps.state.put(done);
    this.deps.health.register(done);
  }
}
