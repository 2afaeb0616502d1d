import type { CsiClient } from '../test/helpers/csiClient';
import { startDriverProcess } from '../test/helpers/driverProcess';
import { createAndPublish, mountCap } from '../test/helpers/publish';
import { stopAndClean } from '../test/helpers/cleanup';
import * as path from 'node:path';
import { latencyStats, timedCalls, type LatencyStats } from './latencyStats';
import { directCreateDelete } from './directVolumeWork';
import { startGoReference, timeCreateDelete } from './goReference';

export interface RpcLatencyRow {
  rpc: string;
  concurrency: number;
  stats: LatencyStats;
}

/**
 * Unary RPC latency over the unix socket against a driver process on the local backend, with
 * one published volume that the health monitor checks meanwhile (default interval). The driver
 * logs at its default level (info), as in production.
 */
/** Makes `count` volumes of 1 GiB, 8 at a time; their ids. */
async function createVolumes(controller: CsiClient['controller'], count: number): Promise<string[]> {
  const ids: string[] = [];
  await timedCalls(count, 8, async (i) => {
    const { volume } = await controller.CreateVolume({
      name: `bench-list-${i}`,
      volume_capabilities: [mountCap],
      capacity_range: { required_bytes: '1073741824', limit_bytes: '0' },
    });
    ids.push(volume!.volume_id);
  });
  return ids;
}

export async function rpcLatencyBench(calls: number, createCalls: number, listVolumes = 200, listCalls = 50): Promise<RpcLatencyRow[]> {
  const d = await startDriverProcess(['--log-level', 'info'], undefined, { health: true });
  try {
    const v = await createAndPublish(d.client, d.dirs.root, d.dirs.share, 'bench-rpc');
    const { identity, controller, node } = d.client;
    const ops: Array<{ rpc: string; calls: number; op: (i: number, c: number) => Promise<unknown> }> = [
      { rpc: 'Probe', calls, op: () => identity.Probe({}) },
      {
        rpc: 'NodeGetVolumeStats',
        calls,
        op: () => node.NodeGetVolumeStats({ volume_id: v.volumeId, volume_path: v.target, staging_target_path: '' }),
      },
      { rpc: 'ControllerGetVolume', calls, op: () => controller.ControllerGetVolume({ volume_id: v.volumeId }) },
      {
        rpc: 'CreateVolume+DeleteVolume',
        calls: createCalls,
        op: async (i, c) => {
          const { volume } = await controller.CreateVolume({
            name: `bench-cd-${c}-${i}`,
            volume_capabilities: [mountCap],
            capacity_range: { required_bytes: '1073741824', limit_bytes: '0' },
          });
          await controller.DeleteVolume({ volume_id: volume!.volume_id });
        },
      },
    ];
    const rows: RpcLatencyRow[] = [];
    for (const { rpc, calls: n, op } of ops) {
      for (const concurrency of [1, 16]) {
        await timedCalls(Math.min(50, n), concurrency, (i) => op(i, -concurrency)); // warm-up
        rows.push({ rpc, concurrency, stats: latencyStats(await timedCalls(n, concurrency, (i) => op(i, concurrency))) });
      }
    }
    // A listing of many volumes, as external-health-monitor's ListVolumes with volume conditions.
    const listed = await createVolumes(controller, listVolumes);
    await timedCalls(5, 1, () => controller.ListVolumes({ max_entries: 0, starting_token: '' }));
    rows.push({
      rpc: `ListVolumes, ${listVolumes} volumes in one page`,
      concurrency: 1,
      stats: latencyStats(
        await timedCalls(listCalls, 1, async () => {
          const res = await controller.ListVolumes({ max_entries: 0, starting_token: '' });
          if (res.entries.length < listVolumes) throw new Error(`ListVolumes answered ${res.entries.length} of ${listVolumes} volumes`);
        }),
      ),
    });
    for (const id of listed) await controller.DeleteVolume({ volume_id: id });
    // The same file work without RPC or helpers, on the same filesystem, in a directory of its own.
    const direct = path.join(d.dirs.root, 'direct-share');
    const directMs = await timedCalls(createCalls, 1, async (i) => directCreateDelete(direct, `bench-direct-${i}`));
    rows.push({ rpc: 'the same file work done directly (no RPC, no helper)', concurrency: 1, stats: latencyStats(directMs) });
    // The same calls and file work served by a Go CSI controller, when one is built (bench/go-reference).
    const go = await startGoReference(process.env.BENCH_GO_REFERENCE, d.dirs.root);
    if (go) {
      try {
        for (const concurrency of [1, 16]) {
          // The driver again, then Go, alternating, so that both meet the same minute of this disk.
          const driverMs = await timeCreateDelete(d.client, 'bench-alt', createCalls, concurrency);
          const goMs = await timeCreateDelete(go.client, 'bench-go', createCalls, concurrency);
          rows.push({ rpc: 'CreateVolume+DeleteVolume, the driver again beside Go', concurrency, stats: latencyStats(driverMs) });
          rows.push({
            rpc: 'CreateVolume+DeleteVolume, a Go CSI controller doing the same file work',
            concurrency,
            stats: latencyStats(goMs),
          });
        }
      } finally {
        go.stop();
      }
    }
    await node.NodeUnpublishVolume({ volume_id: v.volumeId, target_path: v.target });
    await node.NodeUnstageVolume({ volume_id: v.volumeId, staging_target_path: v.staging });
    await controller.DeleteVolume({ volume_id: v.volumeId });
    return rows;
  } finally {
    await stopAndClean(d);
  }
}
