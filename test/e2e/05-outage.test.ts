import { strict as assert } from 'node:assert';
import { status } from '@grpc/grpc-js';
import { tearDown } from '../helpers/outageWatch';
import type { PublishedVolume } from '../helpers/publish';
import {
  describeInGuest,
  faultCtl,
  intervalMs,
  isMounted,
  mountCap,
  recordTiming,
  sharedDriver,
  timeoutMs,
  waitFor,
  workRoot,
  type E2eDriver,
} from './e2eHarness';

const volumes = 20;
/** Generous: every mount of the frozen server must go abnormal, at TCG speed. */
const detectionLimitMs = 180_000;
const callDeadlineMs = 150_000;

/** Codes after which kubelet calls again; every other answer is final. */
const retriedCodes = new Set([status.INTERNAL, status.UNAVAILABLE, status.DEADLINE_EXCEEDED, status.ABORTED]);

/**
 * The setup's mounts are retried as kubelet retries a failed stage or publish: on the emulated
 * guest, with the host busy, one NFS mount among twenty can fail (mount.nfs4: "mount system call
 * failed") while the server is merely slow. What this suite proves starts after the setup.
 */
async function retriedAsKubeletDoes<T>(what: string, call: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      const code = (err as { code?: number }).code;
      if (attempt >= 4 || code === undefined || !retriedCodes.has(code)) throw err;
      console.log(`  ${what}: attempt ${attempt} failed (${(err as Error).message}); again in 3 s, as kubelet would`);
      await new Promise((resolve) => setTimeout(resolve, 3000));
    }
  }
}

describeInGuest(`e2e whole-server outage: ${volumes} NFS volumes mounted when ganesha freezes`, function () {
  this.timeout(600_000);
  let d: E2eDriver;
  const published: PublishedVolume[] = [];

  const abnormal = async (v: PublishedVolume): Promise<boolean> =>
    (await d.client.node.NodeGetVolumeStats({ volume_id: v.volumeId, volume_path: v.target, staging_target_path: '' }, 30_000))
      .volume_condition?.abnormal === true;

  before(async function () {
    d = await sharedDriver();
    for (let i = 0; i < volumes; i++) {
      const id = `pvc-e2e-outage-${i}`;
      const res = await d.client.controller.CreateVolume({ name: id, volume_capabilities: [mountCap], parameters: {} });
      const volumeId = res.volume!.volume_id;
      const ctx = res.volume?.volume_context ?? {};
      const v = { volumeId, staging: `${workRoot}/staging/${volumeId}`, target: `${workRoot}/pods/outage/volumes/${volumeId}/mount` };
      await retriedAsKubeletDoes(`NodeStageVolume ${volumeId}`, () =>
        d.client.node.NodeStageVolume({
          volume_id: volumeId,
          staging_target_path: v.staging,
          volume_capability: mountCap,
          volume_context: ctx,
          publish_context: {},
          secrets: {},
        }),
      );
      await retriedAsKubeletDoes(`NodePublishVolume ${volumeId}`, () =>
        d.client.node.NodePublishVolume({
          volume_id: volumeId,
          staging_target_path: v.staging,
          target_path: v.target,
          volume_capability: mountCap,
          readonly: false,
          volume_context: ctx,
          publish_context: {},
          secrets: {},
        }),
      );
      published.push(v);
    }
    // Under software emulation a round of 40 NFS mounts can overrun its deadline (the guest's CPU
    // is tens of times slower than a node's), so before the freeze a volume may read abnormal now
    // and then: here it is enough that every volume was checked and answers. The host outage suite
    // (test/reliability/outage) proves healthy-before and abnormal-after at full speed. After the
    // freeze, every volume must be abnormal at once, and the teardown must leave nothing mounted.
    await waitFor('every volume checked before the freeze', 180_000, async () => {
      for (const v of published) {
        const s = await d.client.node.NodeGetVolumeStats({ volume_id: v.volumeId, volume_path: v.target, staging_target_path: '' }, 30_000);
        if (!s.volume_condition) return false;
      }
      return true;
    });
  });

  after(async function () {
    // Leave the server running and the share tidy for whatever comes next.
    const s = await faultCtl('status').catch(() => undefined);
    if (s?.output.includes('stopped')) await faultCtl('cont');
    for (const v of published) {
      await d.client.node.NodeUnpublishVolume({ volume_id: v.volumeId, target_path: v.target }, callDeadlineMs).catch(() => undefined);
      await d.client.node
        .NodeUnstageVolume({ volume_id: v.volumeId, staging_target_path: v.staging }, callDeadlineMs)
        .catch(() => undefined);
      await d.client.controller.DeleteVolume({ volume_id: v.volumeId }, callDeadlineMs).catch(() => undefined);
    }
  });

  it('reports every mount abnormal, then unpublishes and unstages them all, 8 at a time, leaving nothing mounted', async () => {
    assert.ok((await faultCtl('stop')).ok);
    const took = await waitFor(
      `all ${volumes} volumes abnormal`,
      detectionLimitMs,
      async () => {
        for (const v of published) if (!(await abnormal(v))) return false;
        return true;
      },
      250,
    );
    recordTiming(`SIGSTOP -> ${volumes} volumes abnormal (interval ${intervalMs} + timeout ${timeoutMs})`, took);
    assert.equal((await d.client.identity.Probe({}, 30_000)) !== undefined, true);

    const t0 = Date.now();
    const calls = await tearDown(d.client, published, 8, callDeadlineMs);
    recordTiming(`teardown of ${volumes} hung volumes, 8 at a time`, Date.now() - t0);
    recordTiming('slowest teardown call of a hung volume', Math.max(...calls.map((c) => c.ms)));
    assert.deepEqual(
      calls.filter((c) => c.error).map((c) => `${c.rpc} ${c.volumeId}: ${c.error}`),
      [],
    );
    for (const v of published) {
      assert.equal(await isMounted(v.target), false, `${v.target} left the mount table`);
      assert.equal(await isMounted(v.staging), false, `${v.staging} left the mount table`);
    }
    assert.ok((await faultCtl('cont')).ok);
  });
});
