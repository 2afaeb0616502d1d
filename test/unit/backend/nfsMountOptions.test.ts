import { strict as assert } from 'node:assert';
import {
  checkAgainstFloor,
  checkMountOptions,
  isEfsOnlyOption,
  mergeMountOptions,
  MountOptionError,
  nfsPortOf,
  parseCheckedMountOptions,
} from '../../../src/backend/nfsMountOptions';

describe('NFS mount option allowlist', () => {
  it('accepts the usual NFSv4 options', () => {
    const opts = [
      'nfsvers=4.1',
      'port=12049',
      'hard',
      'timeo=600',
      'retrans=2',
      'rsize=1048576',
      'wsize=1048576',
      'noresvport',
      'nconnect=4',
      'sec=krb5:krb5i',
      'noatime',
      'lookupcache=positive',
      'proto=tcp6',
      'clientaddr=10.0.0.7',
    ];
    assert.deepEqual(checkMountOptions(opts, 'nfs'), opts);
  });

  it('refuses anything that could smuggle another option or argument', () => {
    for (const bad of ['hard,soft', 'nfsvers=4.1 -o', 'port=1;reboot', '', '-o', 'a=b=c', 'sec=sys\n']) {
      assert.throws(() => checkMountOptions([bad], 'nfs'), MountOptionError, bad);
    }
    assert.throws(() => parseCheckedMountOptions('hard,,soft', 'nfs'), /invalid mount option ""/);
  });

  it('refuses unknown options and bad values with a message naming them', () => {
    assert.throws(() => checkMountOptions(['bg'], 'nfs'), /mount option "bg" is not supported/);
    assert.throws(() => checkMountOptions(['nfsvers=3'], 'nfs'), /this driver mounts NFSv4/);
    assert.throws(() => checkMountOptions(['port=70000'], 'nfs'), /"port=70000" has an invalid value/);
    assert.throws(() => checkMountOptions(['hard=1'], 'nfs'), /"hard" takes no value/);
    assert.throws(() => checkMountOptions(['timeo'], 'nfs'), /"timeo" has an invalid value/);
    assert.throws(() => checkMountOptions(['clientaddr=host.example'], 'nfs'), /invalid value/);
  });

  it('refuses ro and rw: read-only comes from the access mode', () => {
    assert.throws(() => checkMountOptions(['ro'], 'nfs'), /use a read-only access mode/);
    assert.throws(() => checkMountOptions(['rw'], 'efs'), /use a read-only access mode/);
  });

  it('allows efs-utils options only for EFS', () => {
    const efs = [
      'tls',
      'accesspoint=fsap-0123456789abcdef0',
      'iam',
      'mounttargetip=10.1.2.3',
      'region=eu-west-1',
      'az=eu-west-1a',
      'awsprofile=prod',
    ];
    assert.deepEqual(checkMountOptions(efs, 'efs'), efs);
    assert.throws(() => checkMountOptions(['tls'], 'nfs'), /"tls" is not supported \(an amazon-efs-utils option/);
    assert.throws(() => checkMountOptions(['accesspoint=ap-1'], 'efs'), /invalid value/);
    assert.equal(isEfsOnlyOption('accesspoint=fsap-0123456789abcdef0'), true);
    assert.equal(isEfsOnlyOption('hard'), false);
  });

  it('merges lists, later options overriding earlier ones of the same kind', () => {
    assert.deepEqual(mergeMountOptions(['nfsvers=4.1', 'port=12049', 'hard'], ['soft', 'vers=4.2'], ['noac']), [
      'port=12049',
      'soft',
      'vers=4.2',
      'noac',
    ]);
    assert.deepEqual(mergeMountOptions(['ac', 'atime'], ['noac', 'relatime']), ['noac', 'relatime']);
    assert.deepEqual(mergeMountOptions(['tls'], ['notls']), ['notls']);
  });

  it('finds the server port in the options, 2049 by default', () => {
    assert.equal(nfsPortOf(['nfsvers=4.1', 'port=12049']), 12049);
    assert.equal(nfsPortOf(['nfsvers=4.1']), 2049);
  });
});

describe('checkAgainstFloor', () => {
  it('lets per-volume options add to the floor, repeat it or strengthen it', () => {
    assert.doesNotThrow(() =>
      checkAgainstFloor(['nosuid', 'sec=sys', 'xprtsec=tls'], ['hard', 'nosuid', 'noexec', 'sec=krb5i', 'xprtsec=mtls']),
    );
    assert.doesNotThrow(() => checkAgainstFloor([], ['suid', 'dev', 'exec', 'sec=none']));
  });

  it('refuses each weakening with a message naming both options', () => {
    assert.throws(() => checkAgainstFloor(['nodev'], ['dev']), {
      name: 'MountOptionError',
      message: 'mount option "dev" would weaken "nodev" of the node\'s --nfs-mount-options',
    });
    assert.throws(() => checkAgainstFloor(['tls'], ['notls']), /"notls" would weaken "tls"/);
    assert.throws(() => checkAgainstFloor(['sec=krb5p'], ['sec=sys']), {
      message: 'mount option "sec=sys" is weaker than "sec=krb5p" of the node\'s --nfs-mount-options',
    });
    assert.throws(() => checkAgainstFloor(['sec=krb5:krb5p'], ['sec=none']), /"sec=none" is weaker than "sec=krb5:krb5p"/);
    assert.throws(() => checkAgainstFloor(['xprtsec=tls'], ['xprtsec=none']), /"xprtsec=none" is weaker/);
  });
});

describe('mount option bounds', () => {
  it('refuses a text over 1024 characters, over 64 options and an option over 256 characters', () => {
    assert.throws(() => parseCheckedMountOptions('hard,'.repeat(205), 'nfs'), {
      message: 'mount options of 1025 characters; at most 1024',
    });
    assert.throws(
      () =>
        checkMountOptions(
          Array.from({ length: 65 }, () => 'hard'),
          'nfs',
        ),
      { message: '65 mount options; at most 64' },
    );
    assert.throws(() => checkMountOptions([`x${'y'.repeat(256)}`], 'nfs'), { message: 'a mount option of 257 characters; at most 256' });
  });
});
