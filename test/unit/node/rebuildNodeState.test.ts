import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { rebuildNodeState } from '../../../src/node/rebuildNodeState';
import { readMountTable, type MountEntry } from '../../../src/mount/mountTable';

const kubeletDir = '/var/lib/kubelet';

function entry(mountId: number, mountPoint: string, volumeId: string, options = ['rw']): MountEntry {
  return {
    mountId,
    parentId: 1,
    device: '0:50',
    root: `/share/volumes/${volumeId}/data`,
    mountPoint,
    options,
    fsType: 'ext4',
    source: '/dev/vda',
    superOptions: ['rw'],
  };
}

const kinds = (regs: ReturnType<typeof rebuildNodeState>) => regs.map((r) => [r.path, r.kind, r.readOnly]);

describe('rebuildNodeState', () => {
  const deps = { kubeletDir, sourceOf: () => undefined };
  const staging = `${kubeletDir}/plugins/kubernetes.io/csi/d/abc/globalmount`;
  const publish = `${kubeletDir}/pods/p1/volumes/kubernetes.io~csi/pv/mount`;

  it('takes the first mount of a volume in the table as its staging mount, whatever the mount ids say', () => {
    // The kernel hands out the lowest free id: a publish made after other mounts went away can have a lower one.
    const regs = rebuildNodeState([entry(104, staging, 'v1'), entry(99, publish, 'v1', ['ro'])], deps);
    assert.deepEqual(kinds(regs), [
      [staging, 'staging', false],
      [publish, 'publish', true],
    ]);
    assert.equal(regs[1]?.stagingPath, staging);
  });

  it('leaves out mounts outside the kubelet dir and mounts of no volume', () => {
    const regs = rebuildNodeState(
      [entry(10, '/mnt/elsewhere', 'v1'), { ...entry(11, `${kubeletDir}/pods/p2/x`, 'v2'), root: '/some/dir' }, entry(12, staging, 'v3')],
      deps,
    );
    assert.deepEqual(kinds(regs), [[staging, 'staging', false]]);
  });

  it('reads a stacked mount point as the mount on top, at its own place in the table', () => {
    const regs = rebuildNodeState([entry(50, publish, 'v1'), entry(40, staging, 'v1'), entry(30, publish, 'v1')], deps);
    assert.deepEqual(kinds(regs), [
      [staging, 'staging', false],
      [publish, 'publish', false],
    ]);
  });

  it('orders by the real mount table when the kernel reuses a lower mount id', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'rebuild-order-'));
    const src = path.join(root, 'share', 'volumes', 'v9', 'data');
    const kubelet = path.join(root, 'kubelet');
    const first = path.join(kubelet, 'staging', 'v9');
    const later = path.join(kubelet, 'pods', 'p', 'mount');
    const fillers = [0, 1, 2, 3].map((i) => path.join(root, `filler-${i}`));
    for (const d of [src, first, later, ...fillers]) mkdirSync(d, { recursive: true });
    const mounted: string[] = [];
    const bind = (at: string) => {
      execFileSync('mount', ['--bind', src, at]);
      mounted.push(at);
    };
    try {
      for (const f of fillers) bind(f);
      bind(first);
      // Free lower ids, so that the later mount is likely to get one of them.
      for (const f of fillers) execFileSync('umount', [f]);
      mounted.splice(0, fillers.length);
      bind(later);
      const table = await readMountTable();
      const ids = new Map(table.map((e) => [e.mountPoint, e.mountId]));
      const regs = rebuildNodeState(table, { kubeletDir: kubelet, sourceOf: () => undefined });
      assert.deepEqual(
        kinds(regs),
        [
          [first, 'staging', false],
          [later, 'publish', false],
        ],
        `mount ids: staging ${ids.get(first)}, publish ${ids.get(later)}`,
      );
    } finally {
      for (const m of mounted.reverse()) execFileSync('umount', [m]);
      rmSync(root, { recursive: true, force: true });
    }
  });
});
