import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { driverDirs, startDriverProcess, type DriverProcess } from '../helpers/driverProcess';
import { expectCode, grpc } from '../helpers/csiClient';
import { GiB, createVolume, mountCap, mountsUnder, stopAndClean, unmountLeftovers } from './conformanceKit';

describe('conformance: attach (--enable-attach, --max-volumes-per-node 3)', () => {
  let d: DriverProcess;
  before(async () => {
    d = await startDriverProcess(['--health-api', 'v1.12', '--enable-attach', '--max-volumes-per-node', '3']);
    // A second node that announced itself on the share, as a node plugin with --enable-attach does.
    mkdirSync(path.join(d.dirs.share, 'nodes'), { recursive: true });
    writeFileSync(
      path.join(d.dirs.share, 'nodes', 'node-2.json'),
      JSON.stringify({ nodeId: 'node-2', maxVolumesPerNode: 0, registeredAt: new Date().toISOString() }),
    );
  });
  after(async () => {
    await unmountLeftovers(d.dirs.root);
    await stopAndClean(d);
  });
  const c = () => d.client.controller;
  const record = (node: string, vol: string) => path.join(d.dirs.share, 'attachments', node, `${vol}.json`);

  it('advertises PUBLISH_UNPUBLISH_VOLUME and PUBLISH_READONLY and reports max_volumes_per_node', async () => {
    const caps = await c().ControllerGetCapabilities({});
    for (const t of ['PUBLISH_UNPUBLISH_VOLUME', 'PUBLISH_READONLY'])
      assert.ok(
        caps.capabilities.some((x) => x.rpc?.type === t),
        t,
      );
    const info = await d.client.node.NodeGetInfo({});
    assert.equal(info.max_volumes_per_node, '3');
  });

  it('publishes durably: a record on the share, a publish context naming the node, the same context on retry', async () => {
    const vol = await createVolume(d.client, 'pvc-attach-1', GiB);
    const res = await c().ControllerPublishVolume({ volume_id: vol, node_id: 'node-1', volume_capability: mountCap(), readonly: false });
    assert.equal(res.publish_context.attachedNode, 'node-1');
    const rec = JSON.parse(readFileSync(record('node-1', vol), 'utf8')) as { volumeId: string; nodeId: string };
    assert.deepEqual([rec.volumeId, rec.nodeId], [vol, 'node-1']);
    const again = await c().ControllerPublishVolume({ volume_id: vol, node_id: 'node-1', volume_capability: mountCap(), readonly: false });
    assert.deepEqual(again.publish_context, res.publish_context);
  });

  it('returns INVALID_ARGUMENT for a missing volume id, node id or capability', async () => {
    const vol = await createVolume(d.client, 'pvc-attach-fields', GiB);
    await expectCode(
      c().ControllerPublishVolume({ volume_id: '', node_id: 'node-1', volume_capability: mountCap() }),
      grpc.status.INVALID_ARGUMENT,
    );
    await expectCode(
      c().ControllerPublishVolume({ volume_id: vol, node_id: '', volume_capability: mountCap() }),
      grpc.status.INVALID_ARGUMENT,
    );
    await expectCode(c().ControllerPublishVolume({ volume_id: vol, node_id: 'node-1' }), grpc.status.INVALID_ARGUMENT);
    await expectCode(
      c().ControllerPublishVolume({ volume_id: vol, node_id: '../../etc', volume_capability: mountCap() }),
      grpc.status.INVALID_ARGUMENT,
    );
    await expectCode(c().ControllerUnpublishVolume({ volume_id: '', node_id: 'node-1' }), grpc.status.INVALID_ARGUMENT);
    assert.equal(existsSync(record('node-1', vol)), false);
  });

  it('returns NOT_FOUND for an unknown volume or node, recording nothing', async () => {
    const vol = await createVolume(d.client, 'pvc-attach-nf', GiB);
    await expectCode(
      c().ControllerPublishVolume({ volume_id: 'no-such-volume', node_id: 'node-1', volume_capability: mountCap() }),
      grpc.status.NOT_FOUND,
    );
    await expectCode(
      c().ControllerPublishVolume({ volume_id: vol, node_id: 'some-fake-node-id', volume_capability: mountCap() }),
      grpc.status.NOT_FOUND,
    );
    assert.equal(existsSync(path.join(d.dirs.share, 'attachments', 'some-fake-node-id')), false);
  });

  it('returns ALREADY_EXISTS for a re-publish to the same node with another read-only setting', async () => {
    const vol = await createVolume(d.client, 'pvc-attach-ro', GiB);
    await c().ControllerPublishVolume({ volume_id: vol, node_id: 'node-2', volume_capability: mountCap(), readonly: false });
    await expectCode(
      c().ControllerPublishVolume({ volume_id: vol, node_id: 'node-2', volume_capability: mountCap(), readonly: true }),
      grpc.status.ALREADY_EXISTS,
    );
  });

  it('returns FAILED_PRECONDITION for a single-node volume published to another node; multi-node modes may go to both', async () => {
    const single = await createVolume(d.client, 'pvc-attach-single', GiB);
    await c().ControllerPublishVolume({ volume_id: single, node_id: 'node-2', volume_capability: mountCap('SINGLE_NODE_WRITER') });
    await expectCode(
      c().ControllerPublishVolume({ volume_id: single, node_id: 'node-1', volume_capability: mountCap('SINGLE_NODE_WRITER') }),
      grpc.status.FAILED_PRECONDITION,
    );
    assert.equal(existsSync(record('node-1', single)), false);
    const multi = await createVolume(d.client, 'pvc-attach-multi', GiB);
    await c().ControllerPublishVolume({ volume_id: multi, node_id: 'node-2', volume_capability: mountCap('MULTI_NODE_MULTI_WRITER') });
    await c().ControllerPublishVolume({ volume_id: multi, node_id: 'node-1', volume_capability: mountCap('MULTI_NODE_MULTI_WRITER') });
  });

  it('returns RESOURCE_EXHAUSTED once the node holds --max-volumes-per-node volumes', async () => {
    // node-1 holds pvc-attach-1 and pvc-attach-multi; one more fits, the next does not.
    const third = await createVolume(d.client, 'pvc-attach-third', GiB);
    await c().ControllerPublishVolume({ volume_id: third, node_id: 'node-1', volume_capability: mountCap() });
    const fourth = await createVolume(d.client, 'pvc-attach-fourth', GiB);
    await expectCode(
      c().ControllerPublishVolume({ volume_id: fourth, node_id: 'node-1', volume_capability: mountCap() }),
      grpc.status.RESOURCE_EXHAUSTED,
    );
    assert.equal(existsSync(record('node-1', fourth)), false);
    await c().ControllerUnpublishVolume({ volume_id: third, node_id: 'node-1' });
    await c().ControllerPublishVolume({ volume_id: fourth, node_id: 'node-1', volume_capability: mountCap() });
    await c().ControllerUnpublishVolume({ volume_id: fourth, node_id: 'node-1' });
  });

  it('NodeStageVolume requires the publish context of this node (FAILED_PRECONDITION), and mounts nothing without it', async () => {
    const vol = await createVolume(d.client, 'pvc-attach-stage', GiB);
    const staging = path.join(d.dirs.root, 'staging', vol);
    const volume = (await c().ControllerGetVolume({ volume_id: vol })).volume!;
    await expectCode(
      d.client.node.NodeStageVolume({
        volume_id: vol,
        staging_target_path: staging,
        volume_capability: mountCap(),
        volume_context: volume.volume_context,
      }),
      grpc.status.FAILED_PRECONDITION,
    );
    await expectCode(
      d.client.node.NodeStageVolume({
        volume_id: vol,
        staging_target_path: staging,
        volume_capability: mountCap(),
        volume_context: volume.volume_context,
        publish_context: { attachedNode: 'node-2' },
      }),
      grpc.status.FAILED_PRECONDITION,
    );
    assert.deepEqual(await mountsUnder(staging), []);
    await c().ControllerModifyVolume({ volume_id: vol, mutable_parameters: { healthCheckInterval: '15s' } });
    const pub = await c().ControllerPublishVolume({ volume_id: vol, node_id: 'node-1', volume_capability: mountCap() });
    assert.equal(pub.publish_context.healthCheckInterval, '15s');
    await d.client.node.NodeStageVolume({
      volume_id: vol,
      staging_target_path: staging,
      volume_capability: mountCap(),
      volume_context: volume.volume_context,
      publish_context: pub.publish_context,
    });
    assert.deepEqual(await mountsUnder(staging), [staging]);
    // A volume attached to a node is in use: DeleteVolume is refused until it is unpublished.
    await expectCode(c().DeleteVolume({ volume_id: vol }), grpc.status.FAILED_PRECONDITION);
    await d.client.node.NodeUnstageVolume({ volume_id: vol, staging_target_path: staging });
    await c().ControllerUnpublishVolume({ volume_id: vol, node_id: 'node-1' });
    await c().DeleteVolume({ volume_id: vol });
  });

  it('ControllerUnpublishVolume removes the record; again, for an unknown volume or with no node id, it is OK', async () => {
    const vol = await createVolume(d.client, 'pvc-attach-unpub', GiB);
    await c().ControllerPublishVolume({
      volume_id: vol,
      node_id: 'node-2',
      volume_capability: mountCap('MULTI_NODE_READER_ONLY'),
      readonly: true,
    });
    await c().ControllerUnpublishVolume({ volume_id: vol, node_id: 'node-2' });
    assert.equal(existsSync(record('node-2', vol)), false);
    await c().ControllerUnpublishVolume({ volume_id: vol, node_id: 'node-2' });
    await c().ControllerUnpublishVolume({ volume_id: 'no-such-volume', node_id: 'node-2' });
    await c().ControllerPublishVolume({
      volume_id: vol,
      node_id: 'node-2',
      volume_capability: mountCap('MULTI_NODE_READER_ONLY'),
      readonly: true,
    });
    await c().ControllerUnpublishVolume({ volume_id: vol, node_id: '' });
    assert.equal(existsSync(record('node-2', vol)), false);
  });

  it('keeps attachments across a controller restart', async () => {
    const vol = await createVolume(d.client, 'pvc-attach-restart', GiB);
    const first = await c().ControllerPublishVolume({ volume_id: vol, node_id: 'node-2', volume_capability: mountCap() });
    await d.stop();
    d = await startDriverProcess(['--health-api', 'v1.12', '--enable-attach', '--max-volumes-per-node', '3'], d.dirs);
    await expectCode(
      c().ControllerPublishVolume({ volume_id: vol, node_id: 'node-2', volume_capability: mountCap(), readonly: true }),
      grpc.status.ALREADY_EXISTS,
    );
    const again = await c().ControllerPublishVolume({ volume_id: vol, node_id: 'node-2', volume_capability: mountCap() });
    assert.deepEqual(again.publish_context, first.publish_context);
  });
});

describe('conformance: attach across a controller and a node plugin (--enable-attach)', () => {
  let node: DriverProcess;
  let controller: DriverProcess;
  before(async () => {
    node = await startDriverProcess([
      '--health-api',
      'v1.12',
      '--mode',
      'node',
      '--node-id',
      'node-7',
      '--enable-attach',
      '--max-volumes-per-node',
      '1',
    ]);
    const dirs = { ...driverDirs('csi-test-ctl-'), share: node.dirs.share };
    controller = await startDriverProcess(['--health-api', 'v1.12', '--mode', 'controller', '--enable-attach'], dirs);
  });
  after(async () => {
    await stopAndClean(controller);
    await stopAndClean(node);
  });

  it('the node plugin announces itself and its limit on the share; the controller attaches to it and enforces that limit', async () => {
    const file = path.join(node.dirs.share, 'nodes', 'node-7.json');
    // Announced in the background once the node's share answers: a generous bound, not a speed test.
    for (let i = 0; i < 600 && !existsSync(file); i++) await new Promise((r) => setTimeout(r, 100));
    const rec = JSON.parse(readFileSync(file, 'utf8')) as { nodeId: string; maxVolumesPerNode: number };
    assert.deepEqual([rec.nodeId, rec.maxVolumesPerNode], ['node-7', 1]);
    const c = controller.client.controller;
    const a = await createVolume(controller.client, 'pvc-split-a', GiB);
    const b = await createVolume(controller.client, 'pvc-split-b', GiB);
    await c.ControllerPublishVolume({ volume_id: a, node_id: 'node-7', volume_capability: mountCap() });
    await expectCode(
      c.ControllerPublishVolume({ volume_id: b, node_id: 'node-7', volume_capability: mountCap() }),
      grpc.status.RESOURCE_EXHAUSTED,
    );
    await expectCode(c.ControllerPublishVolume({ volume_id: b, node_id: 'node-1', volume_capability: mountCap() }), grpc.status.NOT_FOUND);
  });
});
