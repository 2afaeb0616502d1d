import { strict as assert } from 'node:assert';
import pino from 'pino';
import { RecordingMounter } from '../../helpers/recordingMounter';
import type { FsHelperPool } from '../../../src/isolation/fsHelperPool';
import type { FsRequest } from '../../../src/isolation/fsOps';
import { IsolationTimeoutError } from '../../../src/isolation/isolationErrors';
import { NfsShareMount } from '../../../src/backend/nfsShareMount';
import { ShareUnavailableError } from '../../../src/backend/backendErrors';
import { toGrpcStatus } from '../../../src/grpc/toGrpcStatus';

const device = '10.0.2.2:/export';
const workDir = '/state/nfs-share-root';

function fakePool(onStat: () => Promise<unknown> = async () => ({})): { pool: FsHelperPool; ops: string[] } {
  const ops: string[] = [];
  const pool = {
    run: async (req: FsRequest) => {
      ops.push(`${req.op} ${req.path}`);
      if (req.op === 'statfs') return onStat();
      return null;
    },
  } as unknown as FsHelperPool;
  return { pool, ops };
}

function share(mounter: RecordingMounter, pool: FsHelperPool, now = () => 0, serverAnswers = async () => true): NfsShareMount {
  return new NfsShareMount({
    serverAnswers,
    workDir,
    source: { kind: 'nfs', fsType: 'nfs4', device, options: ['nfsvers=4.1', 'port=12049'] },
    mounter,
    pool,
    logger: pino({ level: 'silent' }),
    checkTimeoutMs: 100,
    now,
    onMounted: async (root) => {
      await pool.run({ op: 'mkdir', path: `${root}/volumes` }, 100);
    },
  });
}

describe('NfsShareMount (the controller work mount)', () => {
  it('mounts the share root on first use, once for concurrent callers, and makes the layout', async () => {
    const m = new RecordingMounter();
    const { pool, ops } = fakePool();
    const s = share(m, pool);
    assert.equal(await s.mountedPath(), undefined, 'nothing mounted before first use');
    const roots = await Promise.all([s.root(), s.root(), s.root()]);
    assert.deepEqual(roots, [workDir, workDir, workDir]);
    assert.deepEqual(m.calls, [`mount -t nfs4 -o nfsvers=4.1,port=12049 ${device} ${workDir}`]);
    assert.deepEqual(ops, [`mkdir ${workDir}`, `mkdir ${workDir}/volumes`]);
    assert.equal(await s.mountedPath(), workDir);
  });

  it('keeps a healthy mount, and mounts again when it vanished from the mount table', async () => {
    const m = new RecordingMounter();
    const { pool } = fakePool();
    let t = 0;
    const s = share(m, pool, () => t);
    await s.root();
    t += 5_000;
    await s.root();
    assert.equal(m.calls.length, 1);
    m.mounted.clear();
    t += 5_000;
    await s.root();
    assert.equal(m.calls.filter((c) => c.startsWith('mount')).length, 2);
  });

  it('verifies a mount marked stale and keeps it when the root answers', async () => {
    const m = new RecordingMounter();
    const { pool, ops } = fakePool();
    const s = share(m, pool);
    await s.root();
    s.markSuspect('ESTALE');
    await s.root();
    assert.equal(m.calls.length, 1);
    assert.ok(ops.includes(`statfs ${workDir}`));
  });

  it('unmounts and mounts again when a root marked stale does not answer but its server does', async () => {
    const m = new RecordingMounter();
    const { pool } = fakePool(async () => {
      throw new IsolationTimeoutError('statfs', workDir, 100);
    });
    const s = share(m, pool);
    await s.root();
    s.markSuspect('ETIMEDOUT');
    await s.root();
    assert.deepEqual(m.calls.slice(1), [`umount ${workDir}`, `mount -t nfs4 -o nfsvers=4.1,port=12049 ${device} ${workDir}`]);
  });

  it('does not mount again while neither the root nor the server answers: UNAVAILABLE at once', async () => {
    const m = new RecordingMounter();
    const { pool } = fakePool(async () => {
      throw new IsolationTimeoutError('statfs', workDir, 100);
    });
    const s = share(
      m,
      pool,
      () => 0,
      async () => false,
    );
    await s.root();
    s.markSuspect('ETIMEDOUT');
    await assert.rejects(
      s.root(),
      (err: unknown) => err instanceof ShareUnavailableError && toGrpcStatus(err).code === 14 && /nor does its server/.test(err.message),
    );
    assert.deepEqual(m.calls.slice(1), [], 'no umount, no mount');
  });

  it('ignores codes that a new mount would not cure', async () => {
    const m = new RecordingMounter();
    const { pool, ops } = fakePool();
    const s = share(m, pool);
    await s.root();
    s.markSuspect('EACCES');
    await s.root();
    assert.equal(ops.filter((o) => o.startsWith('statfs')).length, 0);
  });

  it('replaces a mount of another source at the work dir', async () => {
    const m = new RecordingMounter();
    m.mounted.set(workDir, 'old-server:/export');
    const { pool } = fakePool();
    await share(m, pool).root();
    assert.deepEqual(m.calls, [`umount ${workDir}`, `mount -t nfs4 -o nfsvers=4.1,port=12049 ${device} ${workDir}`]);
  });

  it('fails with UNAVAILABLE when the share cannot be mounted, and tries again on the next call', async () => {
    const m = new RecordingMounter();
    m.failMount = new Error('mount.nfs4: Connection refused');
    const { pool } = fakePool();
    const s = share(m, pool);
    await assert.rejects(
      s.root(),
      (err: unknown) =>
        err instanceof ShareUnavailableError &&
        toGrpcStatus(err).code === 14 &&
        /cannot mount the share 10.0.2.2:\/export .*Connection refused/.test(err.message),
    );
    m.failMount = undefined;
    assert.equal(await s.root(), workDir);
  });

  it('unmounts on close', async () => {
    const m = new RecordingMounter();
    const { pool } = fakePool();
    const s = share(m, pool);
    await s.root();
    await s.close();
    assert.equal(m.mounted.size, 0);
  });
});
