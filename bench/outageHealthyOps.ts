import type { DriverProcess } from '../test/helpers/driverProcess';
import { mountCap } from '../test/helpers/publish';
import * as path from 'node:path';
import { sleep } from './benchKit';

/** Each call's time (ms) of CreateVolume, NodeStageVolume and NodePublishVolume of healthy volumes. */
export interface HealthyOps {
  createMs: number[];
  stageMs: number[];
  publishMs: number[];
  errors: string[];
}

const deadlineMs = 120_000;

/**
 * Creates, stages and publishes a fresh healthy volume at each of `offsetsMs` after `t0` (a
 * performance.now() value; a round that comes late starts at once), timing each call.
 */
export async function healthyOpsDuringOutage(
  d: DriverProcess,
  t0: number,
  offsetsMs: readonly number[],
  prefix: string,
): Promise<HealthyOps> {
  const out: HealthyOps = { createMs: [], stageMs: [], publishMs: [], errors: [] };
  const timed = async <T>(samples: number[], what: string, call: () => Promise<T>): Promise<T> => {
    const t = performance.now();
    try {
      return await call();
    } catch (err) {
      out.errors.push(`${what}: ${(err as Error).message}`);
      throw err;
    } finally {
      samples.push(performance.now() - t);
    }
  };
  for (const [i, offset] of offsetsMs.entries()) {
    await sleep(Math.max(0, t0 + offset - performance.now()));
    try {
      const { volume } = await timed(out.createMs, 'CreateVolume', () =>
        d.client.controller.CreateVolume({ name: `${prefix}-${i}`, volume_capabilities: [mountCap] }, deadlineMs),
      );
      const volumeId = volume!.volume_id;
      const staging = path.join(d.dirs.root, 'staging', volumeId);
      await timed(out.stageMs, 'NodeStageVolume', () =>
        d.client.node.NodeStageVolume(
          { volume_id: volumeId, staging_target_path: staging, volume_capability: mountCap, volume_context: volume!.volume_context },
          deadlineMs,
        ),
      );
      await timed(out.publishMs, 'NodePublishVolume', () =>
        d.client.node.NodePublishVolume(
          {
            volume_id: volumeId,
            staging_target_path: staging,
            target_path: path.join(d.dirs.root, 'pods', volumeId, 'mount'),
            volume_capability: mountCap,
            readonly: false,
            volume_context: volume!.volume_context,
          },
          deadlineMs,
        ),
      );
    } catch {
      // recorded in errors; the next round still runs
    }
  }
  return out;
}
