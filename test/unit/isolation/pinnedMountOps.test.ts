import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FsHelperPool } from '../../../src/isolation/fsHelperPool';
import { IsolatedFsError } from '../../../src/isolation/isolationErrors';
import { readMountTable } from '../../../src/mount/mountTable';
import { mountsUnder, unmountLeftovers } from '../../helpers/cleanup';
import { mountBindfs } from '../../helpers/bindfs';

const code = (c: string) => (err: unknown) => err instanceof IsolatedFsError && err.code === c;

describe('pinned mount operations (helper process, real mounts)', () => {
  let pool: FsHelperPool;
  let root: string;
  let kubelet: string;
  let outside: string;
  let data: string;
  const t = 30_000;
  const mountsAt = async (p: string) => (await readMountTable()).filter((e) => e.mountPoint === p);
  before(() => {
    pool = new FsHelperPool({ maxIdle: 1 });
    root = mkdtempSync(path.join(os.tmpdir(), 'pinned-ops-'));
    kubelet = path.join(root, 'kubelet');
    outside = path.join(root, 'outside');
    data = path.join(root, 'share', 'data');
    for (const d of [kubelet, outside, data]) mkdirSync(d, { recursive: true });
    writeFileSync(path.join(data, 'f'), 'x');
  });
  after(async () => {
    pool.close();
    await unmountLeftovers(root);
    if ((await mountsUnder(root)).length === 0) rmSync(root, { recursive: true, force: true });
  });

  it('binds at a new path (parents made), with the identity of the source, and takes it down again', async () => {
    const target = path.join(kubelet, 'pods', 'a', 'mount');
    const r = await pool.run(
      {
        op: 'pinnedMount',
        base: kubelet,
        path: target,
        source: { kind: 'bind', base: root, path: data },
        readOnly: false,
        commandTimeoutMs: t,
      },
      t,
    );
    const [m] = await mountsAt(target);
    assert.ok(m, 'nothing mounted at the target');
    assert.deepEqual([r.mountId, r.device, r.root], [m.mountId, m.device, m.root]);
    assert.deepEqual(await pool.run({ op: 'pinnedInspect', base: kubelet, path: target }, t), {
      kind: 'mount',
      mountId: m.mountId,
      fsType: m.fsType,
      source: m.source,
      rootDeleted: false,
      device: m.device,
      root: m.root,
    });
    const u = await pool.run(
      { op: 'pinnedUnmount', base: kubelet, path: target, expect: r, anyMount: false, removeDir: true, commandTimeoutMs: t },
      t,
    );
    assert.deepEqual([u.unmounted, u.removed], [1, true]);
    assert.deepEqual(await mountsAt(target), []);
    assert.equal(existsSync(target), false);
    assert.deepEqual(await pool.run({ op: 'pinnedInspect', base: kubelet, path: target }, t), { kind: 'absent' });
  });

  it('binds read-only when asked', async () => {
    const target = path.join(kubelet, 'pods', 'ro', 'mount');
    const r = await pool.run(
      {
        op: 'pinnedMount',
        base: kubelet,
        path: target,
        source: { kind: 'bind', base: root, path: data },
        readOnly: true,
        commandTimeoutMs: t,
      },
      t,
    );
    assert.ok((await mountsAt(target))[0]?.options.includes('ro'));
    await pool.run(
      { op: 'pinnedUnmount', base: kubelet, path: target, expect: r, anyMount: false, removeDir: true, commandTimeoutMs: t },
      t,
    );
  });

  it('refuses a path through a symlink (ELOOP), mounting and creating nothing where it points', async () => {
    mkdirSync(path.join(kubelet, 'pods'), { recursive: true });
    symlinkSync(outside, path.join(kubelet, 'pods', 'link'));
    const target = path.join(kubelet, 'pods', 'link', 'mount');
    await assert.rejects(
      pool.run(
        {
          op: 'pinnedMount',
          base: kubelet,
          path: target,
          source: { kind: 'bind', base: root, path: data },
          readOnly: false,
          commandTimeoutMs: t,
        },
        t,
      ),
      code('ELOOP'),
    );
    await assert.rejects(pool.run({ op: 'pinnedInspect', base: kubelet, path: target }, t), code('ELOOP'));
    assert.deepEqual(readdirSync(outside), []);
    assert.deepEqual(await mountsUnder(outside), []);
  });

  it('leaves a foreign mount alone (EFOREIGN), and a recorded path whose parent became a symlink (ELOOP)', async () => {
    const foreign = path.join(outside, 'foreign');
    mkdirSync(foreign);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'pinned-test', foreign]);
    const inKubelet = path.join(kubelet, 'pods', 'f', 'mount');
    mkdirSync(inKubelet, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'pinned-test', inKubelet]);
    const expect = { device: '0:0', root: '/' };
    await assert.rejects(
      pool.run({ op: 'pinnedUnmount', base: kubelet, path: inKubelet, expect, anyMount: false, removeDir: true, commandTimeoutMs: t }, t),
      code('EFOREIGN'),
    );
    await assert.rejects(
      pool.run({ op: 'pinnedUnmount', base: kubelet, path: inKubelet, anyMount: false, removeDir: true, commandTimeoutMs: t }, t),
      code('EFOREIGN'),
    );
    assert.equal((await mountsAt(inKubelet)).length, 1);
    // The parent of a recorded path is now a symlink to where the foreign mount is.
    symlinkSync(outside, path.join(kubelet, 'pods', 'g'));
    await assert.rejects(
      pool.run(
        {
          op: 'pinnedUnmount',
          base: kubelet,
          path: path.join(kubelet, 'pods', 'g', 'foreign'),
          anyMount: true,
          removeDir: true,
          commandTimeoutMs: t,
        },
        t,
      ),
      code('ELOOP'),
    );
    assert.equal((await mountsAt(foreign)).length, 1);
    assert.ok(existsSync(foreign));
    execFileSync('umount', [inKubelet]);
    execFileSync('umount', [foreign]);
  });

  it('binds a staging path only while it holds the recorded mount', async () => {
    const staging = path.join(kubelet, 'staging', 'v1');
    const target = path.join(kubelet, 'pods', 's', 'mount');
    const st = await pool.run(
      {
        op: 'pinnedMount',
        base: kubelet,
        path: staging,
        source: { kind: 'bind', base: root, path: data },
        readOnly: false,
        commandTimeoutMs: t,
      },
      t,
    );
    const wrong = { device: st.device, root: '/elsewhere' };
    await assert.rejects(
      pool.run(
        {
          op: 'pinnedMount',
          base: kubelet,
          path: target,
          source: { kind: 'bind', base: kubelet, path: staging, expect: wrong },
          readOnly: false,
          commandTimeoutMs: t,
        },
        t,
      ),
      code('EFOREIGN'),
    );
    assert.deepEqual(await mountsAt(target), []);
    const pub = await pool.run(
      {
        op: 'pinnedMount',
        base: kubelet,
        path: target,
        source: { kind: 'bind', base: kubelet, path: staging, expect: st },
        readOnly: false,
        commandTimeoutMs: t,
      },
      t,
    );
    assert.deepEqual([pub.device, pub.root], [st.device, st.root]);
    await assert.rejects(
      pool.run(
        {
          op: 'pinnedMount',
          base: kubelet,
          path: target,
          source: { kind: 'bind', base: kubelet, path: staging, expect: st },
          readOnly: false,
          commandTimeoutMs: t,
        },
        t,
      ),
      code('EBUSY'),
    );
    for (const p of [target, staging])
      await pool.run({ op: 'pinnedUnmount', base: kubelet, path: p, expect: st, anyMount: false, removeDir: true, commandTimeoutMs: t }, t);
    assert.deepEqual(await mountsUnder(kubelet), []);
  });

  for (const knownDead of [false, true]) {
    it(`inspects and unmounts a frozen FUSE mount (a hung server) without touching it${knownDead ? ', known dead (umount -f -l)' : ''}`, async function () {
      // The helper would hang, and be killed at its deadline, if it stat-ed or read the mount.
      const backing = path.join(root, `fuse-backing-${knownDead}`);
      const target = path.join(kubelet, 'pods', `hung-${knownDead}`, 'mount');
      mkdirSync(backing);
      mkdirSync(target, { recursive: true });
      const fuse = await mountBindfs(backing, target);
      try {
        const [m] = await mountsAt(target);
        fuse.freeze();
        const seen = await pool.run({ op: 'pinnedInspect', base: kubelet, path: target }, t);
        assert.equal(seen.kind, 'mount');
        const u = await pool.run(
          {
            op: 'pinnedUnmount',
            base: kubelet,
            path: target,
            expect: { device: m!.device, root: m!.root },
            anyMount: false,
            removeDir: false,
            commandTimeoutMs: 2_000,
            knownDead,
          },
          t,
        );
        assert.equal(u.unmounted, 1);
        assert.deepEqual(
          u.commands.map((c) => [c.op, c.ok]),
          knownDead ? [['umount_dead', true]] : [['umount', true]],
        );
        assert.deepEqual(await mountsAt(target), []);
      } finally {
        await fuse.dispose();
      }
    });
  }
});
