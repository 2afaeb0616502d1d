import { mountBindfs, waitFor } from '../../helpers/bindfs';
import type { CsiClient } from '../../helpers/csiClient';
import { mountCap, type PublishedVolume } from '../../helpers/publish';
import { clearFaults, postFault } from './healthEndpoints';
import type { RpcTally } from './rpcTally';
import type { SeededRandom } from './seededRandom';
import { callDeadlineMs, retryTransient } from './retryTransient';

/** A long-lived published volume; with `fuse`, its storage is a bindfs daemon we can freeze or crash. */
export interface LongLivedVolume extends PublishedVolume {
  /** While frozen: when to thaw it (ms since epoch). */
  frozenUntil?: number;
}

export interface FaultLoopOptions {
  client: CsiClient;
  tally: RpcTally;
  rand: SeededRandom;
  faultPort: number;
  plain: LongLivedVolume[];
  fuse: LongLivedVolume[];
  /** Storage crashes planned over the run (each followed by unpublish, unstage, a new daemon, stage and publish). */
  crashes: number;
  durationMs: number;
  /** Bound on how long detection of a crashed daemon may take (interval + timeout + slack): a hang detector, not a measurement. */
  detectBoundMs: number;
}

export type FaultKind = 'condition' | 'latency' | 'failNext' | 'freeze' | 'crash';

/** The reason of the conditions injected here, so that checks can tell them from real ones. */
export const injectedReason = 'SoakInjected';

/**
 * Injects health faults for the length of the run, one at a time in a seeded order: conditions,
 * probe latency above the timeout (so that probes are killed), failures of the next
 * mount/stage/publish (which the workers then meet), and real hung storage (a bindfs daemon
 * stopped for a few seconds, so that real probe helpers block in the kernel and are killed) and
 * crashed storage (the daemon killed; the volume is taken down and brought back through the
 * driver). In between it reads the long-lived volumes' stats and health, frozen or not.
 */
export class HealthFaultLoop {
  readonly injected: Record<FaultKind, number> = { condition: 0, latency: 0, failNext: 0, freeze: 0, crash: 0 };
  readonly violations: string[] = [];
  private started = 0;
  private crashesDone = 0;

  constructor(private readonly o: FaultLoopOptions) {}

  async run(stop: () => boolean): Promise<void> {
    this.started = Date.now();
    while (!stop()) {
      this.thawDue();
      await this.step();
      await sleep(this.o.rand.int(150, 600));
    }
  }

  /** Thaws every daemon and clears every API fault. */
  async recover(): Promise<void> {
    for (const v of this.o.fuse) {
      v.fuse?.thaw();
      delete v.frozenUntil;
    }
    await clearFaults(this.o.faultPort);
  }

  private all(): LongLivedVolume[] {
    return [...this.o.plain, ...this.o.fuse];
  }

  private thawDue(): void {
    for (const v of this.o.fuse) {
      if (v.frozenUntil !== undefined && Date.now() >= v.frozenUntil) {
        v.fuse?.thaw();
        delete v.frozenUntil;
      }
    }
  }

  private async step(): Promise<void> {
    const r = this.o.rand;
    const elapsed = Date.now() - this.started;
    // Crashes are spread evenly (the k-th after k/(n+1) of the run), each on a daemon that is not frozen.
    const crashDue = this.crashesDone < this.o.crashes && elapsed >= ((this.crashesDone + 1) * this.o.durationMs) / (this.o.crashes + 1);
    const thawed = this.o.fuse.filter((v) => v.frozenUntil === undefined);
    if (crashDue && thawed.length > 0) return this.crash(r.pick(thawed));
    const kind = r.weighted({
      condition: 2,
      latency: 2,
      failNext: 1.5,
      freeze: thawed.length > 1 ? 2 : 0,
      read: 4,
    });
    switch (kind) {
      case 'condition':
        return this.condition(r.pick(this.all()));
      case 'latency':
        return this.latency(r.pick(this.o.plain));
      case 'failNext':
        return this.failNext();
      case 'freeze':
        return this.freeze(r.pick(thawed));
      case 'read':
        return this.read(r.pick(this.all()));
    }
  }

  /** Sets a condition for a few seconds; every surface must show it at once. */
  private async condition(v: LongLivedVolume): Promise<void> {
    const r = this.o.rand;
    const status = r.pick(['DEGRADED', 'INACCESSIBLE', 'DATA_LOSS'] as const);
    const seconds = r.int(6, 10);
    await postFault(this.o.faultPort, `/faults/volumes/${v.volumeId}/condition`, {
      status,
      reason: injectedReason,
      message: 'soak',
      duration: `${seconds}s`,
    });
    const expires = Date.now() + seconds * 1000;
    this.injected.condition++;
    const node = await this.o.tally.call('NodeGetVolumeHealth', () =>
      this.o.client.node.NodeGetVolumeHealth(
        { volume_id: v.volumeId, volume_publish_path: v.target, staging_target_path: '' },
        callDeadlineMs,
      ),
    );
    if (node.ok && !node.value.volume_health?.health_statuses.some((s) => s.reason === injectedReason && s.status === status)) {
      this.violations.push(`NodeGetVolumeHealth ${v.volumeId} did not show the injected ${status} condition`);
    }
    const ctl = await this.o.tally.call('ControllerGetVolumeHealth', () =>
      this.o.client.controller.ControllerGetVolumeHealth({ volume_id: v.volumeId }, callDeadlineMs),
    );
    // The controller inspects the volume first (up to its 3 s deadline on frozen storage) and
    // adds injected issues after: an answer that came after the expiry rightly lacks them.
    if (ctl.ok && Date.now() < expires && !ctl.value.volume_health?.health_statuses.some((s) => s.reason === injectedReason)) {
      this.violations.push(`ControllerGetVolumeHealth ${v.volumeId} did not show the injected condition`);
    }
  }

  /** Probe latency three times the timeout: each probe of the volume is killed while it lasts. */
  private async latency(v: LongLivedVolume): Promise<void> {
    await postFault(this.o.faultPort, `/faults/volumes/${v.volumeId}/latency`, {
      latency: '1500ms',
      duration: `${this.o.rand.int(2, 4)}s`,
    });
    this.injected.latency++;
  }

  private async failNext(): Promise<void> {
    const r = this.o.rand;
    await postFault(this.o.faultPort, '/faults/fail-next', {
      operation: r.pick(['mount', 'stage', 'publish']),
      count: r.int(1, 2),
      duration: '5s',
    });
    this.injected.failNext++;
  }

  private freeze(v: LongLivedVolume): void {
    v.fuse?.freeze();
    v.frozenUntil = Date.now() + this.o.rand.int(1500, 5000);
    this.injected.freeze++;
  }

  private async read(v: LongLivedVolume): Promise<void> {
    const { client, tally } = this.o;
    switch (this.o.rand.int(0, 3)) {
      case 0:
        await tally.call('NodeGetVolumeStats', () =>
          client.node.NodeGetVolumeStats({ volume_id: v.volumeId, volume_path: v.target, staging_target_path: '' }, callDeadlineMs),
        );
        return;
      case 1:
        await tally.call('NodeGetVolumeHealth', () =>
          client.node.NodeGetVolumeHealth(
            { volume_id: v.volumeId, volume_publish_path: v.target, staging_target_path: v.staging },
            callDeadlineMs,
          ),
        );
        return;
      case 2:
        await tally.call('ControllerGetVolume', () => client.controller.ControllerGetVolume({ volume_id: v.volumeId }, callDeadlineMs));
        return;
      default:
        await tally.call('ControllerGetVolumeHealth', () =>
          client.controller.ControllerGetVolumeHealth({ volume_id: v.volumeId }, callDeadlineMs),
        );
    }
  }

  /**
   * Kills the daemon: the monitor must see TransportError; then the volume is taken down
   * (unmounting dead mounts), a new daemon serves the same directory, and it is staged and
   * published again.
   */
  private async crash(v: LongLivedVolume): Promise<void> {
    const { client, tally } = this.o;
    const fuse = v.fuse;
    if (!fuse) return;
    this.crashesDone++;
    this.injected.crash++;
    fuse.crash();
    try {
      await waitFor(
        'TransportError after the crash',
        async () => {
          const h = await client.node.NodeGetVolumeHealth(
            { volume_id: v.volumeId, volume_publish_path: v.target, staging_target_path: '' },
            callDeadlineMs,
          );
          return h.volume_health?.health_statuses.some((s) => s.reason === 'TransportError');
        },
        this.o.detectBoundMs,
        200,
      );
    } catch (err) {
      this.violations.push(`crashed storage of ${v.volumeId}: ${(err as Error).message}`);
    }
    const down =
      (await retryTransient(() =>
        tally.call('NodeUnpublishVolume', () =>
          client.node.NodeUnpublishVolume({ volume_id: v.volumeId, target_path: v.target }, callDeadlineMs),
        ),
      )) &&
      (await retryTransient(() =>
        tally.call('NodeUnstageVolume', () =>
          client.node.NodeUnstageVolume({ volume_id: v.volumeId, staging_target_path: v.staging }, callDeadlineMs),
        ),
      ));
    if (!down) this.violations.push(`could not take down ${v.volumeId} after its storage crashed`);
    await fuse.dispose();
    v.fuse = await mountBindfs(fuse.source, fuse.mountPoint);
    const up =
      (await retryTransient(() =>
        tally.call('NodeStageVolume', () =>
          client.node.NodeStageVolume(
            { volume_id: v.volumeId, staging_target_path: v.staging, volume_capability: mountCap, volume_context: {} },
            callDeadlineMs,
          ),
        ),
      )) &&
      (await retryTransient(() =>
        tally.call('NodePublishVolume', () =>
          client.node.NodePublishVolume(
            {
              volume_id: v.volumeId,
              staging_target_path: v.staging,
              target_path: v.target,
              volume_capability: mountCap,
              readonly: false,
              volume_context: {},
            },
            callDeadlineMs,
          ),
        ),
      ));
    if (!up) this.violations.push(`could not stage and publish ${v.volumeId} again after its storage was replaced`);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
