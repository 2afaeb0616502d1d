import * as path from 'node:path';
import { startDriverProcess, type DriverProcess } from '../helpers/driverProcess';

const mountCap = { access_mode: { mode: 'SINGLE_NODE_WRITER' as const }, mount: { fs_type: '', mount_flags: [] } };

/** A running driver (health port and fault API on) with one volume created, staged and published. */
export interface LiveDriver {
  driver: DriverProcess;
  volumeId: string;
  staging: string;
  target: string;
  healthUrl: string;
  faultUrl: string;
  /** Unpublishes, unstages, deletes the volume and stops the driver. */
  close(): Promise<void>;
}

export async function startLiveDriver(volumeName: string): Promise<LiveDriver> {
  const driver = await startDriverProcess(['--health-check-interval', '1s', '--health-check-timeout', '500ms'], undefined, { health: true, faults: true });
  const { controller, node } = driver.client;
  const created = await controller.CreateVolume({ name: volumeName, volume_capabilities: [mountCap], capacity_range: { required_bytes: 1 << 20 } });
  const vol = created.volume!;
  const staging = path.join(driver.dirs.root, 'staging', vol.volume_id);
  const target = path.join(driver.dirs.root, 'pods', 'pod-1', 'volumes', vol.volume_id);
  await node.NodeStageVolume({ volume_id: vol.volume_id, staging_target_path: staging, volume_capability: mountCap, volume_context: vol.volume_context });
  await node.NodePublishVolume({
    volume_id: vol.volume_id,
    staging_target_path: staging,
    target_path: target,
    volume_capability: mountCap,
    readonly: false,
    volume_context: vol.volume_context,
  });
  return {
    driver,
    volumeId: vol.volume_id,
    staging,
    target,
    healthUrl: `http://127.0.0.1:${String(driver.healthPort)}`,
    faultUrl: `http://127.0.0.1:${String(driver.faultPort)}`,
    async close() {
      try {
        await node.NodeUnpublishVolume({ volume_id: vol.volume_id, target_path: target });
        await node.NodeUnstageVolume({ volume_id: vol.volume_id, staging_target_path: staging });
        await controller.DeleteVolume({ volume_id: vol.volume_id });
      } finally {
        await driver.stop();
      }
    },
  };
}

/** Sets a v1.13 condition on a volume through the fault-injection API. */
export async function injectCondition(live: LiveDriver, status: string, reason: string, message: string): Promise<void> {
  const res = await fetch(`${live.faultUrl}/faults/volumes/${encodeURIComponent(live.volumeId)}/condition`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ status, reason, message }),
  });
  if (res.status !== 200) throw new Error(`fault API answered ${res.status}: ${await res.text()}`);
}

/** Polls until `check` returns a value (not undefined) or the deadline passes. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The mounts report of /healthz/mounts. */
export async function mountsReport(live: LiveDriver): Promise<Record<string, { volumeId: string; state: string; reasons: string[]; lastCheckTime: string | null; injected: boolean }>> {
  const res = await fetch(`${live.healthUrl}/healthz/mounts`);
  return (await res.json()) as Record<string, { volumeId: string; state: string; reasons: string[]; lastCheckTime: string | null; injected: boolean }>;
}
