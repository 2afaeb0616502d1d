import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { waitFor } from '../../helpers/bindfs';
import { stopAndClean } from '../../helpers/cleanup';
import { expectCode, grpc } from '../../helpers/csiClient';
import { startDriverProcess, type DriverProcess } from '../../helpers/driverProcess';
import { mountCap } from '../../helpers/publish';
import { archiveListing, auditShare, mountsByPath, showsVolume } from './shareAudit';

/**
 * Focused regressions of what the concurrency storms found: each a fixed order of two calls
 * that used to interleave (or to fail) and must not.
 */
describe('concurrency regressions (real driver process)', function () {
  this.timeout(120_000);
  let d: DriverProcess;
  before(async () => {
    d = await startDriverProcess();
  });
  after(async () => stopAndClean(d));

  const dataDir = (id: string) => path.join(d.dirs.share, 'volumes', id, 'data');
  const create = async (name: string, source?: { snapshot: { snapshot_id: string } }) =>
    (
      await d.client.controller.CreateVolume({
        name,
        volume_capabilities: [mountCap],
        ...(source ? { volume_content_source: source } : {}),
      })
    ).volume!;
  /** Enough incompressible data that archiving it takes a good fraction of a second. */
  const fillBig = (id: string) => writeFileSync(path.join(dataDir(id), 'big.bin'), randomBytes(48 * 1024 * 1024));

  it('refuses a DeleteVolume with ABORTED while a snapshot of the volume is archived, and the snapshot holds every file', async () => {
    await create('pvc-reg-snap');
    fillBig('pvc-reg-snap');
    writeFileSync(path.join(dataDir('pvc-reg-snap'), 'marker.txt'), 'marker');
    const snap = d.client.controller.CreateSnapshot({ name: 'snap-reg', source_volume_id: 'pvc-reg-snap', parameters: {}, secrets: {} });
    await waitFor('tar started', async () => existsSync(path.join(d.dirs.share, 'snapshots', 'snap-reg', 'data.tar.gz')), 10_000, 2);
    // Before the source volume was locked, this delete emptied the volume under tar: an empty snapshot, or INTERNAL.
    await expectCode(d.client.controller.DeleteVolume({ volume_id: 'pvc-reg-snap' }), grpc.status.ABORTED);
    assert.equal((await snap).snapshot!.ready_to_use, true);
    assert.deepEqual(archiveListing(d.dirs.share, 'snap-reg').sort(), ['./big.bin', './marker.txt']);
    await d.client.controller.DeleteVolume({ volume_id: 'pvc-reg-snap' });
  });

  it('refuses a DeleteVolume with ABORTED while CreateVolume of the same id is still filling it', async () => {
    const restored = d.client.controller.CreateVolume({
      name: 'pvc-reg-restore',
      volume_capabilities: [mountCap],
      volume_content_source: { snapshot: { snapshot_id: 'snap-reg' } },
    });
    await waitFor('restore started', async () => existsSync(dataDir('pvc-reg-restore')), 10_000, 2);
    // CreateVolume used to lock its name and DeleteVolume the id: both ran, leaving a record without data or an INTERNAL.
    await expectCode(d.client.controller.DeleteVolume({ volume_id: 'pvc-reg-restore' }), grpc.status.ABORTED);
    assert.equal((await restored).volume!.volume_id, 'pvc-reg-restore');
    assert.equal(readFileSync(path.join(dataDir('pvc-reg-restore'), 'marker.txt'), 'utf8'), 'marker');
    await d.client.controller.DeleteVolume({ volume_id: 'pvc-reg-restore' });
    await d.client.controller.DeleteSnapshot({ snapshot_id: 'snap-reg', secrets: {} });
    assert.deepEqual(auditShare(d.dirs.share).problems, []);
  });

  it('takes a snapshot of a volume whose files change while it is archived (tar exit 1 is not a failure)', async () => {
    await create('pvc-reg-busy');
    fillBig('pvc-reg-busy');
    const busy = path.join(dataDir('pvc-reg-busy'), 'big.bin');
    let writing = true;
    const writer = (async () => {
      while (writing) {
        appendFileSync(busy, 'more data from a pod\n');
        await new Promise((r) => setTimeout(r, 2));
      }
    })();
    try {
      // Used to be INTERNAL "tar: ./big.bin: file changed as we read it".
      const { snapshot } = await d.client.controller.CreateSnapshot({
        name: 'snap-reg-busy',
        source_volume_id: 'pvc-reg-busy',
        parameters: {},
        secrets: {},
      });
      assert.equal(snapshot!.ready_to_use, true);
    } finally {
      writing = false;
      await writer;
    }
    assert.match(d.logText(), /files changed while being archived/, 'tar did see the file change');
    assert.deepEqual(archiveListing(d.dirs.share, 'snap-reg-busy'), ['./big.bin']);
    assert.deepEqual(auditShare(d.dirs.share).problems, []);
    await d.client.controller.DeleteSnapshot({ snapshot_id: 'snap-reg-busy', secrets: {} });
    await d.client.controller.DeleteVolume({ volume_id: 'pvc-reg-busy' });
  });

  it('stages the volume made again after a delete while staged, and answers NOT_FOUND to publish the deleted one', async () => {
    const staging = path.join(d.dirs.root, 'staging', 'pvc-reg-again');
    const target = path.join(d.dirs.root, 'pods', 'again', 'mount');
    const stage = () =>
      d.client.node.NodeStageVolume({
        volume_id: 'pvc-reg-again',
        staging_target_path: staging,
        volume_capability: mountCap,
        volume_context: {},
      });
    const publish = () =>
      d.client.node.NodePublishVolume({
        volume_id: 'pvc-reg-again',
        staging_target_path: staging,
        target_path: target,
        volume_capability: mountCap,
        readonly: false,
        volume_context: {},
      });
    await create('pvc-reg-again');
    await stage();
    await d.client.controller.DeleteVolume({ volume_id: 'pvc-reg-again' });
    // Used to be INTERNAL: mount(2) cannot bind a staging mount whose directory was deleted.
    await expectCode(publish(), grpc.status.NOT_FOUND);
    await expectCode(stage(), grpc.status.NOT_FOUND);

    await create('pvc-reg-again');
    writeFileSync(path.join(dataDir('pvc-reg-again'), 'new.txt'), 'the volume made again');
    // Used to answer OK and keep the staging mount on the deleted directory.
    await stage();
    const at = (await mountsByPath(d.dirs.root)).get(staging) ?? [];
    assert.equal(at.length, 1, 'one staging mount, not stacked');
    assert.ok(showsVolume(at[0]!, 'pvc-reg-again'), `staging shows ${at[0]!.root}`);
    await publish();
    assert.equal(readFileSync(path.join(target, 'new.txt'), 'utf8'), 'the volume made again');
    await d.client.node.NodeUnpublishVolume({ volume_id: 'pvc-reg-again', target_path: target });
    await d.client.node.NodeUnstageVolume({ volume_id: 'pvc-reg-again', staging_target_path: staging });
    await d.client.controller.DeleteVolume({ volume_id: 'pvc-reg-again' });
    assert.deepEqual([...(await mountsByPath(d.dirs.root)).keys()], []);
  });
});
