import { strict as assert } from 'node:assert';
import pino from 'pino';
import { createNodeService, type NodeDeps } from '../../../src/node/nodeService';
import type { StatfsResult } from '../../../src/isolation/fsOps';

describe('NodeGetVolumeStats figures', () => {
  it('answers the statfs of an 8 EiB share exactly, and 2^63 - 1 where the product passes int64', async () => {
    const target = '/var/lib/kubelet/pods/p1/volumes/kubernetes.io~csi/pvc-big/mount';
    let statfs: StatfsResult = {
      bsize: '1',
      blocks: '9223372036854775807',
      bfree: '9223372036854775806',
      bavail: '9223372036854775805',
      files: '9223372036854775807',
      ffree: '0',
    };
    const deps = {
      nodeId: 'node-1',
      maxVolumesPerNode: 0,
      healthApi: 'v1.12',
      state: { get: (p: string) => (p === target ? { volumeId: 'pvc-big', path: p } : undefined) },
      health: { issuesOf: () => [], lastStatfs: () => statfs, recordStatfs: () => undefined },
      logger: pino({ level: 'silent' }),
    } as unknown as NodeDeps;
    const svc = createNodeService(deps);
    const ctx = { logger: pino({ level: 'silent' }) };
    const res = await svc.NodeGetVolumeStats({ volume_id: 'pvc-big', volume_path: target, staging_target_path: '' }, ctx);
    assert.deepEqual(
      res.usage?.map((u) => [u.unit, u.total, u.available, u.used]),
      [
        ['BYTES', '9223372036854775807', '9223372036854775805', '1'],
        ['INODES', '9223372036854775807', '0', '9223372036854775807'],
      ],
    );
    statfs = { ...statfs, bsize: '4096', blocks: '2251799813685248', bavail: '2251799813685248', bfree: '2251799813685248' };
    const capped = await svc.NodeGetVolumeStats({ volume_id: 'pvc-big', volume_path: target, staging_target_path: '' }, ctx);
    assert.equal(capped.usage?.[0]?.total, '9223372036854775807', 'capped, never negative');
    assert.equal(capped.usage?.[0]?.used, '0');
  });
});
