import { existsSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { findMount, readMountTable } from '../../../src/mount/mountTable';
import type { CsiClient } from '../../helpers/csiClient';
import { mountCap } from '../../helpers/publish';
import { callDeadlineMs, retryTransient } from './retryTransient';
import type { RpcTally } from './rpcTally';
import type { SeededRandom } from './seededRandom';

interface OwnVolume {
  id: string;
  context: Record<string, string>;
  staging: string;
  target: string;
  staged: boolean;
  published: boolean;
  /** Files written through the published target, each expected on the share. */
  written: number;
}

export interface WorkerOptions {
  index: number;
  client: CsiClient;
  tally: RpcTally;
  rand: SeededRandom;
  /** Where staging and target paths of this worker go (under the run root). */
  root: string;
  /** The local backend's share, to check that a write through a target lands on it. */
  share: string;
}

const maxVolumes = 3;
const maxSnapshots = 2;

/**
 * One worker of the mixed workload. It owns its volumes and snapshots (so its own view of
 * their state is the truth and every answer can be checked against it) and walks them through
 * create, stage, publish, write, snapshot, stats, health, unpublish, unstage and delete in a
 * seeded random order, with the listing and probing RPCs in between. Names are never reused,
 * as in a cluster, so that any per-volume state the driver forgets to drop keeps growing.
 */
export class SoakWorker {
  readonly violations: string[] = [];
  private readonly volumes: OwnVolume[] = [];
  private readonly snapshots: string[] = [];
  private serial = 0;

  constructor(private readonly o: WorkerOptions) {}

  async run(stop: () => boolean): Promise<void> {
    while (!stop()) await this.step();
  }

  /** Takes everything this worker made down through the driver; returns what could not be removed. */
  async cleanup(): Promise<string[]> {
    const { client, tally } = this.o;
    const left: string[] = [];
    for (const v of this.volumes.splice(0)) {
      const ok =
        (await retryTransient(() =>
          tally.call('NodeUnpublishVolume', () =>
            client.node.NodeUnpublishVolume({ volume_id: v.id, target_path: v.target }, callDeadlineMs),
          ),
        )) &&
        (await retryTransient(() =>
          tally.call('NodeUnstageVolume', () =>
            client.node.NodeUnstageVolume({ volume_id: v.id, staging_target_path: v.staging }, callDeadlineMs),
          ),
        )) &&
        (await retryTransient(() => tally.call('DeleteVolume', () => client.controller.DeleteVolume({ volume_id: v.id }, callDeadlineMs))));
      if (!ok) left.push(v.id);
    }
    for (const s of this.snapshots.splice(0)) {
      if (
        !(await retryTransient(() =>
          tally.call('DeleteSnapshot', () => client.controller.DeleteSnapshot({ snapshot_id: s }, callDeadlineMs)),
        ))
      )
        left.push(s);
    }
    return left;
  }

  private async step(): Promise<void> {
    const r = this.o.rand;
    const unstaged = this.volumes.filter((v) => !v.staged);
    const stagedOnly = this.volumes.filter((v) => v.staged && !v.published);
    const published = this.volumes.filter((v) => v.published);
    const mounted = this.volumes.filter((v) => v.staged);
    const op = r.weighted({
      create: this.volumes.length < maxVolumes ? 3 : 0,
      delete: unstaged.length > 0 ? 1 : 0,
      stage: unstaged.length > 0 ? 3 : 0,
      publish: stagedOnly.length > 0 ? 3 : 0,
      unpublish: published.length > 0 ? 2 : 0,
      unstage: stagedOnly.length > 0 ? 1.5 : 0,
      snapshot: this.volumes.length > 0 && this.snapshots.length < maxSnapshots ? 1 : 0,
      deleteSnapshot: this.snapshots.length > 0 ? 1 : 0,
      stats: mounted.length > 0 ? 3 : 0,
      health: mounted.length > 0 ? 2 : 0,
      getVolume: this.volumes.length > 0 ? 2 : 0,
      list: 1,
      listHealth: 0.5,
      probe: 1,
    });
    switch (op) {
      case 'create':
        return this.create();
      case 'delete':
        return this.remove(r.pick(unstaged));
      case 'stage':
        return this.stage(r.pick(unstaged));
      case 'publish':
        return this.publish(r.pick(stagedOnly));
      case 'unpublish':
        return this.unpublish(r.pick(published));
      case 'unstage':
        return this.unstage(r.pick(stagedOnly));
      case 'snapshot':
        return this.snapshot(r.pick(this.volumes));
      case 'deleteSnapshot':
        return this.deleteSnapshot(r.pick(this.snapshots));
      case 'stats':
        return this.stats(r.pick(mounted));
      case 'health':
        return this.health(r.pick(mounted));
      case 'getVolume':
        return this.getVolume(r.pick(this.volumes));
      case 'list':
        return this.list();
      case 'listHealth':
        return void (await this.o.tally.call('ControllerListVolumeHealth', () =>
          this.o.client.controller.ControllerListVolumeHealth({ max_entries: 0, starting_token: '' }, callDeadlineMs),
        ));
      case 'probe':
        return this.probe();
    }
  }

  private name(kind: string): string {
    return `soak-w${this.o.index}-${kind}${this.serial++}`;
  }

  private async create(): Promise<void> {
    const name = this.name('v');
    const res = await this.o.tally.call('CreateVolume', () =>
      this.o.client.controller.CreateVolume({ name, volume_capabilities: [mountCap] }, callDeadlineMs),
    );
    if (!res.ok) return;
    const vol = res.value.volume;
    if (vol?.volume_id !== name) {
      this.violations.push(`CreateVolume ${name} answered volume id ${vol?.volume_id}`);
      return;
    }
    const base = path.join(this.o.root, `w${this.o.index}`);
    this.volumes.push({
      id: name,
      context: vol.volume_context,
      staging: path.join(base, 'staging', name),
      target: path.join(base, 'pods', name, 'mount'),
      staged: false,
      published: false,
      written: 0,
    });
  }

  private async remove(v: OwnVolume): Promise<void> {
    const res = await this.o.tally.call('DeleteVolume', () => this.o.client.controller.DeleteVolume({ volume_id: v.id }, callDeadlineMs));
    if (!res.ok) return;
    this.volumes.splice(this.volumes.indexOf(v), 1);
    if (existsSync(path.join(this.o.share, 'volumes', v.id))) this.violations.push(`DeleteVolume ${v.id} left its directory on the share`);
  }

  private async stage(v: OwnVolume): Promise<void> {
    const res = await this.o.tally.call('NodeStageVolume', () =>
      this.o.client.node.NodeStageVolume(
        { volume_id: v.id, staging_target_path: v.staging, volume_capability: mountCap, volume_context: v.context },
        callDeadlineMs,
      ),
    );
    if (!res.ok) return;
    v.staged = true;
    if (!findMount(await readMountTable(), v.staging))
      this.violations.push(`NodeStageVolume ${v.id} answered OK but ${v.staging} is not mounted`);
  }

  private async publish(v: OwnVolume): Promise<void> {
    const res = await this.o.tally.call('NodePublishVolume', () =>
      this.o.client.node.NodePublishVolume(
        {
          volume_id: v.id,
          staging_target_path: v.staging,
          target_path: v.target,
          volume_capability: mountCap,
          readonly: false,
          volume_context: v.context,
        },
        callDeadlineMs,
      ),
    );
    if (!res.ok) return;
    v.published = true;
    if (!findMount(await readMountTable(), v.target)) {
      this.violations.push(`NodePublishVolume ${v.id} answered OK but ${v.target} is not mounted`);
      return;
    }
    // A write through the target must land in the volume's directory on the share.
    const file = `file-${v.written++}`;
    writeFileSync(path.join(v.target, file), `${v.id} ${file}\n`);
    if (!existsSync(path.join(this.o.share, 'volumes', v.id, 'data', file)))
      this.violations.push(`a write through ${v.target} did not reach the share`);
  }

  private async unpublish(v: OwnVolume): Promise<void> {
    const res = await this.o.tally.call('NodeUnpublishVolume', () =>
      this.o.client.node.NodeUnpublishVolume({ volume_id: v.id, target_path: v.target }, callDeadlineMs),
    );
    if (!res.ok) return;
    v.published = false;
    if (findMount(await readMountTable(), v.target))
      this.violations.push(`NodeUnpublishVolume ${v.id} answered OK but ${v.target} is still mounted`);
  }

  private async unstage(v: OwnVolume): Promise<void> {
    const res = await this.o.tally.call('NodeUnstageVolume', () =>
      this.o.client.node.NodeUnstageVolume({ volume_id: v.id, staging_target_path: v.staging }, callDeadlineMs),
    );
    if (!res.ok) return;
    v.staged = false;
    if (findMount(await readMountTable(), v.staging))
      this.violations.push(`NodeUnstageVolume ${v.id} answered OK but ${v.staging} is still mounted`);
  }

  private async snapshot(v: OwnVolume): Promise<void> {
    const name = this.name('s');
    const res = await this.o.tally.call('CreateSnapshot', () =>
      this.o.client.controller.CreateSnapshot({ name, source_volume_id: v.id, parameters: {}, secrets: {} }, callDeadlineMs),
    );
    if (!res.ok) return;
    const snap = res.value.snapshot;
    if (snap?.source_volume_id !== v.id || !snap.ready_to_use)
      this.violations.push(`CreateSnapshot ${name} answered ${JSON.stringify(snap)}`);
    if (snap?.snapshot_id) this.snapshots.push(snap.snapshot_id);
  }

  private async deleteSnapshot(id: string): Promise<void> {
    const res = await this.o.tally.call('DeleteSnapshot', () =>
      this.o.client.controller.DeleteSnapshot({ snapshot_id: id }, callDeadlineMs),
    );
    if (!res.ok) return;
    this.snapshots.splice(this.snapshots.indexOf(id), 1);
    if (existsSync(path.join(this.o.share, 'snapshots', id))) this.violations.push(`DeleteSnapshot ${id} left its directory on the share`);
  }

  private async stats(v: OwnVolume): Promise<void> {
    const p = v.published && this.o.rand.chance(0.7) ? v.target : v.staging;
    await this.o.tally.call('NodeGetVolumeStats', () =>
      this.o.client.node.NodeGetVolumeStats({ volume_id: v.id, volume_path: p, staging_target_path: '' }, callDeadlineMs),
    );
  }

  private async health(v: OwnVolume): Promise<void> {
    const res = await this.o.tally.call('NodeGetVolumeHealth', () =>
      this.o.client.node.NodeGetVolumeHealth(
        { volume_id: v.id, volume_publish_path: v.published ? v.target : '', staging_target_path: v.staging },
        callDeadlineMs,
      ),
    );
    if (res.ok && res.value.volume_health?.volume_id !== v.id)
      this.violations.push(`NodeGetVolumeHealth ${v.id} answered for ${res.value.volume_health?.volume_id}`);
  }

  private async getVolume(v: OwnVolume): Promise<void> {
    const res = await this.o.tally.call('ControllerGetVolume', () =>
      this.o.client.controller.ControllerGetVolume({ volume_id: v.id }, callDeadlineMs),
    );
    if (res.ok && res.value.volume?.volume_id !== v.id)
      this.violations.push(`ControllerGetVolume ${v.id} answered for ${res.value.volume?.volume_id}`);
  }

  /** Lists all volumes page by page; every volume this worker holds must be in the listing. */
  private async list(): Promise<void> {
    const seen = new Set<string>();
    const pageSize = this.o.rand.pick([0, 2, 5]);
    let token = '';
    for (let page = 0; page < 200; page++) {
      const res = await this.o.tally.call('ListVolumes', () =>
        this.o.client.controller.ListVolumes({ max_entries: pageSize, starting_token: token }, callDeadlineMs),
      );
      if (!res.ok) return;
      for (const e of res.value.entries) if (e.volume?.volume_id) seen.add(e.volume.volume_id);
      token = res.value.next_token;
      if (!token) break;
    }
    for (const v of this.volumes) if (!seen.has(v.id)) this.violations.push(`ListVolumes missed volume ${v.id}`);
  }

  private async probe(): Promise<void> {
    const res = await this.o.tally.call('Probe', () => this.o.client.identity.Probe({}, callDeadlineMs));
    if (res.ok && res.value.ready?.value !== true) this.violations.push('Probe answered not ready');
  }
}
