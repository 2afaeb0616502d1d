import { strict as assert } from 'node:assert';
import { bindArgv, mountArgv, remountReadOnlyArgv, umountSteps } from '../../../src/mount/pinnedCommands';

describe('mount and umount argv on pinned directories', () => {
  it('binds fd 3 onto fd 4 by their magic links, without canonicalizing', () => {
    assert.deepEqual(['mount', ...bindArgv()].join(' '), 'mount -c --bind /proc/self/fd/3 /proc/self/fd/4');
  });

  it('remounts a bind read-only through the name in the pinned parent (fd 3)', () => {
    assert.equal(['mount', ...remountReadOnlyArgv('mount')].join(' '), 'mount -c -o remount,bind,ro /proc/self/fd/3/mount');
  });

  it('mounts a filesystem onto fd 3 with joined options, and leaves -o out without options', () => {
    assert.equal(
      ['mount', ...mountArgv('nfs4', 'srv:/export/volumes/v1/data', ['nfsvers=4.1', 'hard'])].join(' '),
      'mount -c -t nfs4 -o nfsvers=4.1,hard srv:/export/volumes/v1/data /proc/self/fd/3',
    );
    assert.equal(['mount', ...mountArgv('nfs4', 'srv:/e', [])].join(' '), 'mount -c -t nfs4 srv:/e /proc/self/fd/3');
  });

  it('unmounts the name in the pinned parent (fd 3): plain, then -f, then -l, the last two without a filesystem helper', () => {
    assert.deepEqual(
      umountSteps('v1').map((s) => [s.op, ['umount', ...s.argv].join(' ')]),
      [
        ['umount', 'umount -c /proc/self/fd/3/v1'],
        ['umount_force', 'umount -c -i -f /proc/self/fd/3/v1'],
        ['umount_lazy', 'umount -c -i -l /proc/self/fd/3/v1'],
      ],
    );
  });

  it('unmounts a mount known dead in one forced, detaching step', () => {
    assert.deepEqual(
      umountSteps('v1', true).map((s) => [s.op, ['umount', ...s.argv].join(' ')]),
      [['umount_dead', 'umount -c -i -f -l /proc/self/fd/3/v1']],
    );
  });
});
