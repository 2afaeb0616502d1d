import { strict as assert } from 'node:assert';
import { IsolatedFsError, IsolationTimeoutError } from '../../../src/isolation/isolationErrors';
import pino from 'pino';
import { RecordingMounter } from '../../helpers/recordingMounter';
import type { FsHelperPool } from '../../../src/isolation/fsHelperPool';
import type { FsRequest } from '../../../src/isolation/fsOps';
import { createNfsBackend, shareWorkDir } from '../../../src/backend/nfsBackend';
import type { ServerPing } from '../../../src/backend/nfsServerPing';
import type { DriverMode } from '../../../src/config';

const pool = {
  run: async (req: FsRequest) =>
    req.op === 'statfs'
      ? { bsize: '4096', blocks: '100', bfree: '50', bavail: '50', files: '10', ffree: '5' }
      : req.op === 'readdir'
        ? []
        : null,
} as unknown as FsHelperPool;

function backend(mode: DriverMode, mounter: RecordingMounter, pings: unknown[] = [], shareRootOnNode = false) {
  const ping: ServerPing = async (...args) => void pings.push(args);
  return createNfsBackend({
    nfs: {
      server: '10.0.2.2',
      share: '/export',
      mountOptions: ['nfsvers=4.1', 'port=12049'],
      efsRegion: '',
      efsDnsName: '',
      allowOtherServers: false,
    },
    mode,
    stateDir: '/state',
    pool,
    mounter,
    logger: pino({ level: 'silent' }),
    checkTimeoutMs: 1_000,
    efsUtilsPresent: () => false,
    ping,
    shareRootOnNode,
  });
}

const settle = () => new Promise((r) => setImmediate(r));

describe('nfs backend', () => {
  it('mounts the share root at the controller work dir with the configured options', async () => {
    const m = new RecordingMounter();
    const b = backend('controller', m);
    await b.init();
    await settle();
    assert.equal(await b.store.root(), shareWorkDir('/state'));
    assert.deepEqual(m.calls, ['mount -t nfs4 -o nfsvers=4.1,port=12049 10.0.2.2:/export /state/nfs-share-root']);
    assert.deepEqual(await b.store.capacity(), { totalBytes: 409600n, availableBytes: 204800n });
    await b.close();
    assert.equal(m.calls.at(-1), 'umount /state/nfs-share-root');
  });

  it('mounts nothing in node mode, and its storage check only asks the server', async () => {
    const m = new RecordingMounter();
    const pings: unknown[] = [];
    const b = backend('node', m, pings);
    await b.init();
    await settle();
    assert.deepEqual(await b.checkStorage(), []);
    assert.deepEqual(m.calls, []);
    assert.deepEqual(pings, [['10.0.2.2', 12049, 1_000, 'nfs-null']]);
    await assert.rejects(b.store.root(), /no controller share mount/);
  });

  it('with attach in node mode, mounts the share root too, where the node announces itself', async () => {
    const m = new RecordingMounter();
    const b = backend('node', m, [], true);
    await b.init();
    await settle();
    assert.equal(await b.store.root(), shareWorkDir('/state'));
    assert.deepEqual(m.calls, ['mount -t nfs4 -o nfsvers=4.1,port=12049 10.0.2.2:/export /state/nfs-share-root']);
    await b.close();
  });

  it('tells nodes the server and share in volume_context and resolves provisioned volumes', () => {
    const b = backend('all', new RecordingMounter());
    assert.deepEqual(b.context, { backend: 'nfs', server: '10.0.2.2', share: '/export' });
    assert.deepEqual(
      b.resolveSource('pvc-1', { backend: 'nfs', volumeDir: 'volumes/pvc-1/data', server: '10.0.2.2', share: '/export' }, []),
      {
        kind: 'nfs',
        fsType: 'nfs4',
        device: '10.0.2.2:/export/volumes/pvc-1/data',
        options: ['nosharecache', 'nfsvers=4.1', 'port=12049'],
      },
    );
  });

  it('mounts the share root again after a check finds it stale, and not when it only overstays', async () => {
    const m = new RecordingMounter();
    let failure: Error | undefined;
    const failing = {
      run: async (req: FsRequest) => {
        if (failure && req.op !== 'mkdir' && req.path === shareWorkDir('/state')) throw failure;
        return pool.run(req, 1_000);
      },
    } as unknown as FsHelperPool;
    const b = createNfsBackend({
      nfs: { server: '10.0.2.2', share: '/export', mountOptions: ['nfsvers=4.1'], efsRegion: '', efsDnsName: '', allowOtherServers: false },
      mode: 'controller',
      stateDir: '/state',
      pool: failing,
      mounter: m,
      logger: pino({ level: 'silent' }),
      checkTimeoutMs: 1_000,
      efsUtilsPresent: () => false,
      ping: async () => undefined,
    });
    await b.store.root();
    const mounts = () => m.calls.filter((c) => c.startsWith('mount ')).length;
    assert.equal(mounts(), 1);
    failure = new IsolationTimeoutError('stat', shareWorkDir('/state'), 1_000);
    assert.equal((await b.checkStorage())[0]?.reason, 'ShareUnresponsive');
    await settle();
    assert.equal(mounts(), 1, 'a root that only overstays is not mounted again by the check');
    failure = new IsolatedFsError('stat', shareWorkDir('/state'), 'ESTALE', 'Stale file handle');
    assert.equal((await b.checkStorage())[0]?.reason, 'StaleFileHandle');
    for (let i = 0; i < 20 && mounts() < 2; i++) await settle();
    assert.equal(mounts(), 2, 'a stale root is mounted again');
    assert.ok(m.calls.includes('umount /state/nfs-share-root'));
  });

  it('refuses a configuration that cannot work', () => {
    assert.throws(
      () =>
        createNfsBackend({
          nfs: {
            server: '10.0.2.2',
            share: '/export',
            mountOptions: ['nfsvers=3'],
            efsRegion: '',
            efsDnsName: '',
            allowOtherServers: false,
          },
          mode: 'all',
          stateDir: '/s',
          pool,
          mounter: new RecordingMounter(),
          logger: pino({ level: 'silent' }),
          checkTimeoutMs: 1000,
        }),
      /--nfs-mount-options: mount option "nfsvers=3"/,
    );
  });
});
