import { strict as assert } from 'node:assert';
import pino from 'pino';
import type { FsHelperPool } from '../../../src/isolation/fsHelperPool';
import type { FsRequest } from '../../../src/isolation/fsOps';
import { IsolatedFsError, IsolationTimeoutError } from '../../../src/isolation/isolationErrors';
import type { VolumeSource } from '../../../src/backend/records';
import { CsiError } from '../../../src/grpc/csiError';
import { grpc } from '../../helpers/csiClient';
import type { HealthIssue } from '../../../src/health/healthIssue';
import type { NodeHealthView } from '../../../src/health/nodeHealthView';
import { NodeMountOps } from '../../../src/node/nodeMountOps';
import { NodeStateStore } from '../../../src/node/nodeStateStore';
import { MemoryStateFileIo } from '../../helpers/memoryStateFileIo';

const nfs: VolumeSource = { kind: 'nfs', fsType: 'nfs4', device: 'server:/export/volumes/v1/data', options: ['nfsvers=4.1'] };

interface FakeMount {
  device: string;
  root: string;
  fsType: string;
  source: string;
}

/**
 * The helper's pinned operations over an in-memory mount table, with a log of the mount
 * commands they stand for. Unmount refuses a mount of another identity, as the helper does.
 */
class FakePinnedFs {
  mounts = new Map<string, FakeMount>();
  log: string[] = [];
  /** Makes the next mount command fail with this code. */
  failNext?: string;
  private nextDev = 50;
  run(req: FsRequest): unknown {
    switch (req.op) {
      case 'pinnedInspect': {
        const m = this.mounts.get(req.path);
        return m
          ? {
              kind: 'mount',
              mountId: 1,
              fsType: m.fsType,
              source: m.source,
              rootDeleted: m.root.endsWith('//deleted'),
              device: m.device,
              root: m.root.replace(/\/\/deleted$/, ''),
            }
          : { kind: 'directory' };
      }
      case 'pinnedMount': {
        if (this.mounts.has(req.path)) throw new IsolatedFsError(req.op, req.path, 'EBUSY', `${req.path} is already a mount point`);
        if (this.failNext) {
          const code = this.failNext;
          this.failNext = undefined;
          throw new IsolatedFsError(req.op, req.path, code, `mount -c --bind /proc/self/fd/3 /proc/self/fd/4 exited 32: mount failed`);
        }
        let m: FakeMount;
        if (req.source.kind === 'fs') {
          this.log.push(`mount ${req.source.fsType} ${req.source.device} ${req.path}`);
          m = { device: `0:${this.nextDev++}`, root: '/', fsType: req.source.fsType, source: req.source.device };
        } else {
          this.log.push(`bind ${req.source.path} ${req.path}${req.readOnly ? ' ro' : ''}`);
          const from = this.mounts.get(req.source.path);
          if (
            req.source.expect &&
            (!from || from.device !== req.source.expect.device || from.root.replace(/\/\/deleted$/, '') !== req.source.expect.root)
          ) {
            throw new IsolatedFsError(req.op, req.path, 'EFOREIGN', `${req.source.path} no longer holds the mount this driver made there`);
          }
          m = from ? { ...from } : { device: '254:0', root: req.source.path, fsType: 'ext4', source: '/dev/vda' };
        }
        this.mounts.set(req.path, m);
        return { mountId: 1, device: m.device, root: m.root, commands: [] };
      }
      case 'pinnedUnmount': {
        const m = this.mounts.get(req.path);
        if (m) {
          const ok = req.expect ? req.expect.device === m.device && req.expect.root === m.root.replace(/\/\/deleted$/, '') : req.anyMount;
          if (!ok)
            throw new IsolatedFsError(
              req.op,
              req.path,
              'EFOREIGN',
              `${req.path} is the mount point of something this driver did not mount there`,
            );
          this.log.push(`umount ${req.knownDead ? '(known dead) ' : ''}${req.path}`);
          this.mounts.delete(req.path);
        }
        return { unmounted: m ? 1 : 0, removed: true, commands: [] };
      }
      default:
        return null;
    }
  }
}

function setup() {
  const mounter = new FakePinnedFs();
  let statAnswer: () => unknown = () => ({ isDirectory: true });
  const missing = new Set<string>();
  const pool = {
    run: async (req: FsRequest) => {
      if (req.op === 'stat') return statAnswer();
      if (req.op === 'exists') return !missing.has(req.path);
      return mounter.run(req);
    },
  } as unknown as FsHelperPool;
  const issues = new Map<string, HealthIssue[]>();
  const dead = new Set<string>();
  const calls: string[] = [];
  const health: NodeHealthView = {
    register: () => undefined,
    unregister: (p) => void calls.push(`unregister ${p}`),
    retire: (p, retiring = true) => void calls.push(`${retiring ? 'retire' : 'resume'} ${p}`),
    knownDead: (p) => dead.has(p),
    issuesOf: (p) => issues.get(p) ?? [],
    lastStatfs: () => undefined,
    recordStatfs: () => undefined,
    storageIssues: () => [],
  };
  const state = new NodeStateStore('/state', new MemoryStateFileIo());
  const ops = new NodeMountOps({ pool, state, health, logger: pino({ level: 'silent' }), kubeletDir: '/' });
  return { ops, mounter, state, issues, missing, dead, calls, setStat: (f: () => unknown) => (statAnswer = f) };
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
    mounter.mounts.get('/stage/v1')!.root = '/share/volumes/v1/data//deleted';
    await ops.stage('v1', '/stage/v1', bind);
    assert.deepEqual(mounter.log, ['bind /share/volumes/v1/data /stage/v1', 'umount /stage/v1', 'bind /share/volumes/v1/data /stage/v1']);
  });

  it('answers NOT_FOUND to stage or publish once the staged volume was deleted, and binds nothing', async () => {
    const { ops, mounter, missing } = setup();
    const bind: VolumeSource = { kind: 'bind', path: '/share/volumes/v1/data' };
    await ops.stage('v1', '/stage/v1', bind);
    mounter.mounts.get('/stage/v1')!.root = '/share/volumes/v1/data//deleted';
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
    await assert.rejects(
      ops.publish('v9', '/stage/v9', '/pods/p9/mount', false),
      (e) => e instanceof CsiError && e.code === grpc.status.FAILED_PRECONDITION,
    );
  });

  it('keeps the source of a staging mount in the node state, so a restarted plugin can mount it again', async () => {
    const { ops, state } = setup();
    await ops.stage('v1', '/stage/v1', nfs);
    assert.deepEqual(state.get('/stage/v1')?.source, nfs);
  });

  const precondition = (err: unknown) => err instanceof CsiError && err.code === grpc.status.FAILED_PRECONDITION;

  it('never adopts or unmounts a foreign mount whose source text ends in /volumes/<id>/data', async () => {
    const { ops, mounter } = setup();
    mounter.mounts.set('/stage/v1', { device: '0:99', root: '/', fsType: 'tmpfs', source: '/evil/volumes/v1/data' });
    await assert.rejects(ops.stage('v1', '/stage/v1', nfs), precondition);
    await assert.rejects(ops.unstage('v1', '/stage/v1'), precondition);
    assert.equal(mounter.mounts.get('/stage/v1')?.fsType, 'tmpfs');
    assert.deepEqual(mounter.log, []);
  });

  it('leaves a mount that replaced the recorded one alone on unpublish, and keeps the record', async () => {
    const { ops, mounter, state } = setup();
    await ops.stage('v1', '/stage/v1', nfs);
    await ops.publish('v1', '/stage/v1', '/pods/p1/mount', false);
    mounter.mounts.set('/pods/p1/mount', { device: '0:99', root: '/', fsType: 'tmpfs', source: 'tmpfs' });
    await assert.rejects(ops.unpublish('v1', '/pods/p1/mount'), precondition);
    assert.equal(mounter.mounts.get('/pods/p1/mount')?.fsType, 'tmpfs');
    assert.ok(state.get('/pods/p1/mount'));
  });

  it('refuses NodeUnpublish of a staging path under a live publish, and NodeUnstage of a publish target (FAILED_PRECONDITION)', async () => {
    const { ops, mounter } = setup();
    await ops.stage('v1', '/stage/v1', nfs);
    await ops.publish('v1', '/stage/v1', '/pods/p1/mount', false);
    await assert.rejects(ops.unpublish('v1', '/stage/v1'), precondition);
    await assert.rejects(ops.unstage('v1', '/pods/p1/mount'), precondition);
    assert.deepEqual([...mounter.mounts.keys()].sort(), ['/pods/p1/mount', '/stage/v1']);
    assert.ok(!mounter.log.some((l) => l.startsWith('umount')));
  });

  it('takes a mount made just before a crash (a pending record) as its own on the retry', async () => {
    const { ops, mounter, state } = setup();
    await ops.stage('v1', '/stage/v1', nfs);
    const staged = mounter.mounts.get('/stage/v1')!;
    await state.put({
      volumeId: 'v1',
      path: '/pods/p1/mount',
      kind: 'publish',
      readOnly: false,
      expectedSource: '',
      stagingPath: '/stage/v1',
      pending: true,
    });
    mounter.mounts.set('/pods/p1/mount', { ...staged });
    await ops.publish('v1', '/stage/v1', '/pods/p1/mount', false);
    assert.equal(mounter.log.filter((l) => l.startsWith('bind')).length, 0, 'bound again over the mount');
    assert.deepEqual(state.get('/pods/p1/mount')?.identity, { device: staged.device, root: staged.root });
    assert.equal(state.get('/pods/p1/mount')?.pending, undefined);
  });

  it('refuses to bind a staging path whose mount was replaced (FAILED_PRECONDITION), and binds nothing', async () => {
    const { ops, mounter, state } = setup();
    await ops.stage('v1', '/stage/v1', nfs);
    mounter.mounts.get('/stage/v1')!.device = '0:7';
    await assert.rejects(ops.publish('v1', '/stage/v1', '/pods/p1/mount', false), precondition);
    assert.equal(state.get('/pods/p1/mount'), undefined);
    assert.equal(mounter.mounts.has('/pods/p1/mount'), false);
  });

  it('drops the pending record of a mount that failed and left nothing mounted', async () => {
    const { ops, mounter, state } = setup();
    await ops.stage('v1', '/stage/v1', nfs);
    mounter.failNext = 'EMOUNTCMD';
    await assert.rejects(
      ops.publish('v1', '/stage/v1', '/pods/p1/mount', false),
      (err: unknown) => err instanceof CsiError && err.code === grpc.status.INTERNAL && /exited 32/.test(err.message),
    );
    assert.equal(state.get('/pods/p1/mount'), undefined);
    assert.equal(mounter.mounts.has('/pods/p1/mount'), false);
  });

  it('takes a mount the monitor knows dead straight to the forced unmount, reporting its last verdict until it is gone', async () => {
    const { ops, mounter, state, dead, calls } = setup();
    await ops.stage('v1', '/stage/v1', nfs);
    await ops.publish('v1', '/stage/v1', '/pods/p1/mount', false);
    dead.add('/pods/p1/mount');
    await ops.unpublish('v1', '/pods/p1/mount');
    assert.deepEqual(mounter.log.slice(-1), ['umount (known dead) /pods/p1/mount']);
    assert.deepEqual(calls, ['retire /pods/p1/mount', 'unregister /pods/p1/mount'], 'retired first, forgotten last');
    assert.equal(state.get('/pods/p1/mount'), undefined);
    await ops.unstage('v1', '/stage/v1');
    assert.deepEqual(mounter.log.slice(-1), ['umount /stage/v1'], 'a healthy mount gets the normal umount first');
  });
});
