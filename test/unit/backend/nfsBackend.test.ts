import { strict as assert } from 'node:assert';
import pino from 'pino';
import { RecordingMounter } from '../../helpers/recordingMounter';
import type { FsHelperPool } from '../../../src/isolation/fsHelperPool';
import type { FsRequest } from '../../../src/isolation/fsOps';
import { createNfsBackend, shareWorkDir } from '../../../src/backend/nfsBackend';
import type { ServerPing } from '../../../src/backend/nfsServerPing';
import type { DriverMode } from '../../../src/config';


const pool = {
  run: async (req: FsRequest) => (req.op === 'statfs' ? { bsize: 4096, blocks: 100, bfree: 50, bavail: 50, files: 10, ffree: 5 } : req.op === 'readdir' ? [] : null),
} as unknown as FsHelperPool;

function backend(mode: DriverMode, mounter: RecordingMounter, pings: unknown[] = [], shareRootOnNode = false) {
  const ping: ServerPing = async (...args) => void pings.push(args);
  return createNfsBackend({
    nfs: { server: '10.0.2.2', share: '/export', mountOptions: ['nfsvers=4.1', 'port=12049'], efsRegion: '', efsDnsName: '' },
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
    assert.deepEqual(await b.store.capacity(), { totalBytes: 409600, availableBytes: 204800 });
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
    assert.deepEqual(b.resolveSource('pvc-1', { backend: 'nfs', volumeDir: 'volumes/pvc-1/data', server: '10.0.2.2', share: '/export' }, []), {
      kind: 'nfs',
      fsType: 'nfs4',
      device: '10.0.2.2:/export/volumes/pvc-1/data',
      options: ['nosharecache', 'nfsvers=4.1', 'port=12049'],
    });
  });

  it('refuses a configuration that cannot work', () => {
    assert.throws(
      () => createNfsBackend({ nfs: { server: '10.0.2.2', share: '/export', mountOptions: ['nfsvers=3'], efsRegion: '', efsDnsName: '' }, mode: 'all', stateDir: '/s', pool, mounter: new RecordingMounter(), logger: pino({ level: 'silent' }), checkTimeoutMs: 1000 }),
      /--nfs-mount-options: mount option "nfsvers=3"/,
    );
  });
});
