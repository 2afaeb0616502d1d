import { strict as assert } from 'node:assert';
import type { FsHelperPool } from '../../../src/isolation/fsHelperPool';
import type { FsRequest } from '../../../src/isolation/fsOps';
import { IsolatedFsError, IsolationTimeoutError } from '../../../src/isolation/isolationErrors';
import { ServerPingError, type ServerPing } from '../../../src/backend/nfsServerPing';
import { nfsStorageCheck, type CheckedShareRoot } from '../../../src/backend/nfsStorageCheck';

const statfs = { bsize: '4096', blocks: '1000', bfree: '500', bavail: '500', files: '100', ffree: '50' };

function pool(answer: (req: FsRequest) => unknown): FsHelperPool {
  return { run: async (req: FsRequest) => answer(req) } as unknown as FsHelperPool;
}

function root(p: FsHelperPool, mounted: string | null = '/state/root'): CheckedShareRoot & { marks: string[] } {
  const marks: string[] = [];
  return {
    pool: p,
    marks,
    mountedPath: async () => mounted ?? undefined,
    markSuspect: (c) => marks.push(c),
    markHealthy: () => marks.push('healthy'),
  };
}

const okPing: ServerPing = async () => undefined;

describe('nfs storage check', () => {
  it('reports nothing when the server answers and the share root is fine', async () => {
    const r = root(pool((req) => (req.op === 'statfs' ? statfs : {})));
    assert.deepEqual(
      await nfsStorageCheck({ host: '10.0.2.2', port: 12049, timeoutMs: 100, pingKind: 'nfs-null', ping: okPing, shareRoot: r })(),
      [],
    );
    assert.deepEqual(r.marks, ['healthy']);
  });

  it('asks the server with the configured port, kind and deadline', async () => {
    const seen: unknown[] = [];
    const ping: ServerPing = async (...args) => void seen.push(args);
    await nfsStorageCheck({ host: 'nas', port: 12049, timeoutMs: 250, pingKind: 'tcp', ping })();
    assert.deepEqual(seen, [['nas', 12049, 250, 'tcp']]);
  });

  it('says ServerUnreachable when the connection is refused and ServerUnresponsive when no answer comes', async () => {
    const refused: ServerPing = async () => {
      throw new ServerPingError('ECONNREFUSED', 'connect ECONNREFUSED');
    };
    const silent: ServerPing = async () => {
      throw new ServerPingError('ETIMEDOUT', 'no answer within 100ms');
    };
    assert.deepEqual(await nfsStorageCheck({ host: 'nas', port: 2049, timeoutMs: 100, pingKind: 'nfs-null', ping: refused })(), [
      {
        status: 'STORAGE_UNREACHABLE',
        reason: 'ServerUnreachable',
        message: 'NFS server nas:2049: connect ECONNREFUSED',
        code: 'ECONNREFUSED',
      },
    ]);
    const r = root(pool(() => assert.fail('no probe of the root while the server is silent')));
    const [issue] = await nfsStorageCheck({ host: 'nas', port: 2049, timeoutMs: 100, pingKind: 'nfs-null', ping: silent, shareRoot: r })();
    assert.equal(issue?.reason, 'ServerUnresponsive');
    assert.deepEqual(r.marks, ['ETIMEDOUT'], 'the root is verified before its next use');
  });

  it('does not probe a share root that is not mounted yet', async () => {
    const r = root(
      pool(() => assert.fail('no probe expected')),
      null,
    );
    assert.deepEqual(
      await nfsStorageCheck({ host: 'nas', port: 2049, timeoutMs: 100, pingKind: 'nfs-null', ping: okPing, shareRoot: r })(),
      [],
    );
  });

  it('reports a hung share root as unreachable and marks it for a new mount', async () => {
    const r = root(pool((req) => Promise.reject(new IsolationTimeoutError(req.op, req.path, 100))));
    const [issue] = await nfsStorageCheck({ host: 'nas', port: 2049, timeoutMs: 100, pingKind: 'nfs-null', ping: okPing, shareRoot: r })();
    assert.equal(issue?.status, 'STORAGE_UNREACHABLE');
    assert.equal(issue?.reason, 'ShareUnresponsive');
    assert.deepEqual(r.marks, ['ETIMEDOUT']);
  });

  it('reports a stale share root and passes the errno on', async () => {
    const r = root(pool((req) => Promise.reject(new IsolatedFsError(req.op, req.path, 'ESTALE', 'Stale file handle'))));
    const [issue] = await nfsStorageCheck({ host: 'nas', port: 2049, timeoutMs: 100, pingKind: 'nfs-null', ping: okPing, shareRoot: r })();
    assert.equal(issue?.reason, 'StaleFileHandle');
    assert.deepEqual(r.marks, ['ESTALE']);
    const r2 = root(pool((req) => Promise.reject(new IsolatedFsError(req.op, req.path, 'ENOTCONN', 'not connected'))));
    await nfsStorageCheck({ host: 'nas', port: 2049, timeoutMs: 100, pingKind: 'nfs-null', ping: okPing, shareRoot: r2 })();
    assert.deepEqual(r2.marks, ['ENOTCONN']);
  });

  it('reports a nearly full share as degraded', async () => {
    const r = root(pool((req) => (req.op === 'statfs' ? { ...statfs, bavail: '1' } : {})));
    const [issue] = await nfsStorageCheck({ host: 'nas', port: 2049, timeoutMs: 100, pingKind: 'nfs-null', ping: okPing, shareRoot: r })();
    assert.equal(issue?.status, 'STORAGE_DEGRADED');
    assert.equal(issue?.reason, 'NoSpace');
  });
});
