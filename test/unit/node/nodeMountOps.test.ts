import { strict as assert } from 'node:assert';
import pino from 'pino';
import type { FsHelperPool } from '../../../src/isolation/fsHelperPool';
import type { FsRequest } from '../../../src/isolation/fsOps';
import { IsolatedFsError, IsolationTimeoutError } from '../../../src/isolation/isolationErrors';
import type { Mounter } from '../../../src/mount/mounter';
import type { MountEntry } from '../../../src/mount/mountTable';
import type { VolumeSource } from '../../../src/backend/records';
import { CsiError } from '../../../src/grpc/csiError';
import { grpc } from '../../helpers/csiClient';
import type { HealthIssue } from '../../../src/health/healthIssue';
import type { NodeHealthView } from '../../../src/health/nodeHealthView';
import { NodeMountOps } from '../../../src/node/nodeMountOps';
import { NodeStateStore } from '../../../src/node/nodeStateStore';
import { MemoryStateFileIo } from '../../helpers/memoryStateFileIo';

const nfs: VolumeSource = { kind: 'nfs', fsType: 'nfs4', device: 'server:/export/volumes/v1/data', options: ['nfsvers=4.1'] };

/** An in-memory mount table and a log of mount commands. */
class FakeMounter implements Mounter {
  mounts = new Map<string, string>();
  /** The root column of mountinfo per mount point ("/" unless set). */
  roots = new Map<string, string>();
  log: string[] = [];
  async bindMount(source: string, target: string, readOnly: boolean) {
    this.log.push(`bind ${source} ${target}${readOnly ? ' ro' : ''}`);
    this.mounts.set(target, source);
  }
  async mount(fsType: string, source: string, target: string) {
    this.log.push(`mount ${fsType} ${source} ${target}`);
    this.mounts.set(target, source);
  }
  async unmount(target: string) {
    this.log.push(`umount ${target}`);
    this.mounts.delete(target);
    this.roots.delete(target);
  }
  async mountAt(target: string): Promise<MountEntry | undefined> {
    const source = this.mounts.get(target);
    return source === undefined ? undefined : { mountId: 1, parentId: 0, device: '0:1', root: this.roots.get(target) ?? '/', mountPoint: target, options: [], fsType: 'nfs4', source, superOptions: [] };
  }
  async table() {
    return [];
  }
}

function setup() {
  const mounter = new FakeMounter();
  let statAnswer: () => unknown = () => ({ isDirectory: true });
  const missing = new Set<string>();
  const pool = {
    run: async (req: FsRequest) => {
      if (req.op === 'stat') return statAnswer();
      if (req.op === 'exists') return !missing.has(req.path);
      if (req.op === 'rmdirIfEmpty') return true;
      return null;
    },
  } as unknown as FsHelperPool;
  const issues = new Map<string, HealthIssue[]>();
  const health: NodeHealthView = {
    register: () => undefined,
    unregister: () => undefined,
    issuesOf: (p) => issues.get(p) ?? [],
    lastStatfs: () => undefined,
    recordStatfs: () => undefined,
    storageIssues: () => [],
  };
  const state = new NodeStateStore('/state', new MemoryStateFileIo());
  const ops = new NodeMountOps({ mounter, pool, state, health, logger: pino({ level: 'silent' }) });
  return { ops, mounter, state, issues, missing, setStat: (f: () => unknown) => (statAnswer = f) };
}

describe('NodeMountOps', () => {
  it('stages once and treats a repeat as done', async () => {
    const { ops, mounter } = setup();
    await ops.stage('v1', '/stage/v1', nfs);
    await ops.stage('v1', '/stage/v1', nfs);
    assert.deepEqual(mounter.log, ['mount nfs4 server:/export/volumes/v1/data /stage/v1']);
  });

  it('mounts a staging path again when the monitor calls it stale', async () => {
    const { ops, mounter, issues } = setup();
    await ops.stage('v1', '/stage/v1', nfs);
    issues.set('/stage/v1', [{ status: 'INACCESSIBLE', reason: 'StaleFileHandle', message: 'ESTALE' }]);
    await ops.stage('v1', '/stage/v1', nfs);
    assert.deepEqual(mounter.log.slice(1), ['umount /stage/v1', 'mount nfs4 server:/export/volumes/v1/data /stage/v1']);
  });

  it('mounts a staging path again when a quick look answers ESTALE, but not when it times out', async () => {
    const { ops, mounter, setStat } = setup();
    await ops.stage('v1', '/stage/v1', nfs);
    setStat(() => {
      throw new IsolationTimeoutError('stat', '/stage/v1', 3000);
    });
    await ops.stage('v1', '/stage/v1', nfs);
    assert.equal(mounter.log.length, 1, 'a hung server is not cured by mounting again');
    setStat(() => {
      throw new IsolatedFsError('stat', '/stage/v1', 'ESTALE', 'Stale file handle');
    });
    await ops.stage('v1', '/stage/v1', nfs);
    assert.deepEqual(mounter.log.slice(1), ['umount /stage/v1', 'mount nfs4 server:/export/volumes/v1/data /stage/v1']);
  });

  it('mounts a bind staging path again when its directory was deleted under it (mountinfo root ends in //deleted)', async () => {
    const { ops, mounter } = setup();
    const bind: VolumeSource = { kind: 'bind', path: '/share/volumes/v1/data' };
    await ops.stage('v1', '/stage/v1', bind);
    // The volume was deleted while staged and made again: the old mount shows a deleted directory.
    mounter.roots.set('/stage/v1', '/share/volumes/v1/data//deleted');
    await ops.stage('v1', '/stage/v1', bind);
    assert.deepEqual(mounter.log, ['bind /share/volumes/v1/data /stage/v1', 'umount /stage/v1', 'bind /share/volumes/v1/data /stage/v1']);
  });

  it('answers NOT_FOUND to stage or publish once the staged volume was deleted, and binds nothing', async () => {
    const { ops, mounter, missing } = setup();
    const bind: VolumeSource = { kind: 'bind', path: '/share/volumes/v1/data' };
    await ops.stage('v1', '/stage/v1', bind);
    mounter.roots.set('/stage/v1', '/share/volumes/v1/data//deleted');
    missing.add('/share/volumes/v1/data');
    for (const call of [() => ops.publish('v1', '/stage/v1', '/pods/p1/mount', false), () => ops.stage('v1', '/stage/v1', bind)]) {
      await assert.rejects(call(), (err: unknown) => err instanceof CsiError && err.code === grpc.status.NOT_FOUND);
    }
    assert.deepEqual(mounter.log, ['bind /share/volumes/v1/data /stage/v1']);
  });

  it('makes a vanished staging mount again on publish, then binds the target', async () => {
    const { ops, mounter } = setup();
    await ops.stage('v1', '/stage/v1', nfs);
    mounter.mounts.delete('/stage/v1');
    await ops.publish('v1', '/stage/v1', '/pods/p1/mount', false);
    assert.deepEqual(mounter.log.slice(1), ['mount nfs4 server:/export/volumes/v1/data /stage/v1', 'bind /stage/v1 /pods/p1/mount']);
  });

  it('refuses to publish a volume that was never staged with FAILED_PRECONDITION', async () => {
    const { ops } = setup();
    await assert.rejects(ops.publish('v9', '/stage/v9', '/pods/p9/mount', false), (e) => e instanceof CsiError && e.code === grpc.status.FAILED_PRECONDITION);
  });

  it('keeps the source of a staging mount in the node state, so a restarted plugin can mount it again', async () => {
    const { ops, state } = setup();
    await ops.stage('v1', '/stage/v1', nfs);
    assert.deepEqual(state.get('/stage/v1')?.source, nfs);
  });
});
