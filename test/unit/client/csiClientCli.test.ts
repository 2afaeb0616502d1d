import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { buildClientCli } from '../../../src/client/csiClientCli';

/** Runs the CLI against a fake driver; returns the calls it made. */
async function calls(
  args: string[],
  answer: (method: string) => Record<string, unknown> = () => ({}),
): Promise<Array<{ endpoint: string; service: string; method: string; req: Record<string, unknown> }>> {
  const seen: Array<{ endpoint: string; service: string; method: string; req: Record<string, unknown> }> = [];
  const printed: unknown[] = [];
  const cli = buildClientCli(
    (endpoint) => async (service, method, req) => {
      seen.push({ endpoint, service, method, req: req as Record<string, unknown> });
      return answer(method);
    },
    (res) => printed.push(res),
  );
  cli.exitOverride();
  await cli.parseAsync(['node', 'csi-client', ...args]);
  assert.equal(printed.length, seen.filter((c) => c.method !== 'ControllerGetVolume').length);
  return seen;
}

describe('csi-client', () => {
  it('creates a volume with the size in bytes and a mount capability', async () => {
    const [c] = await calls(['create-volume', 'demo', '--size', '2Gi']);
    assert.equal(c?.method, 'CreateVolume');
    assert.deepEqual(c?.req.capacity_range, { required_bytes: String(2 * 1024 ** 3) });
    assert.equal(c?.req.name, 'demo');
  });

  it('refuses a size it cannot read', async () => {
    await assert.rejects(calls(['create-volume', 'demo', '--size', '2GB']), /--size "2GB"/);
  });

  it('stages with the context the controller reports, paths made absolute, on the endpoint given', async () => {
    const seen = await calls(['--endpoint', 'unix://run/x.sock', 'stage', 'demo', 'kubelet/staging/demo'], (m) =>
      m === 'ControllerGetVolume' ? { volume: { volume_context: { volumeDir: 'volumes/demo/data' } } } : {},
    );
    assert.deepEqual(
      seen.map((c) => c.method),
      ['ControllerGetVolume', 'NodeStageVolume'],
    );
    assert.equal(seen[1]?.endpoint, `unix://${path.resolve('run/x.sock')}`);
    assert.equal(seen[1]?.req.staging_target_path, path.resolve('kubelet/staging/demo'));
    assert.deepEqual(seen[1]?.req.volume_context, { volumeDir: 'volumes/demo/data' });
  });

  it('stages with --context pairs when given, without asking the controller', async () => {
    const seen = await calls(['stage', 'v', '/k/s', '--context', 'server=nas', '--context', 'share=/export']);
    assert.deepEqual(
      seen.map((c) => c.method),
      ['NodeStageVolume'],
    );
    assert.deepEqual(seen[0]?.req.volume_context, { server: 'nas', share: '/export' });
  });

  it('publishes read-only on request, and unpublishes, unstages and deletes by id', async () => {
    const seen = [
      ...(await calls(['publish', 'v', '/k/s', '/k/t', '--readonly'])),
      ...(await calls(['unpublish', 'v', '/k/t'])),
      ...(await calls(['unstage', 'v', '/k/s'])),
      ...(await calls(['delete-volume', 'v'])),
      ...(await calls(['stats', 'v', '/k/t'])),
    ];
    assert.deepEqual(
      seen.map((c) => `${c.service}.${c.method}`),
      [
        'Node.NodePublishVolume',
        'Node.NodeUnpublishVolume',
        'Node.NodeUnstageVolume',
        'Controller.DeleteVolume',
        'Node.NodeGetVolumeStats',
      ],
    );
    assert.equal(seen[0]?.req.readonly, true);
    assert.equal(seen[0]?.req.target_path, '/k/t');
    assert.equal(seen[0]?.endpoint, `unix://${path.resolve('.run/csi.sock')}`);
  });
});
