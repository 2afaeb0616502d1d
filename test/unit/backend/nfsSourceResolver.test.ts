import { strict as assert } from 'node:assert';
import { status } from '@grpc/grpc-js';
import { SystemMounter } from '../../../src/mount/mounter';
import { NfsMountPlanner, type NfsMountSettings } from '../../../src/backend/nfsMountPlan';
import type { CommandRunner } from '../../../src/mount/runCommand';
import type { VolumeSource } from '../../../src/backend/records';
import { toGrpcStatus } from '../../../src/grpc/toGrpcStatus';
import { nfsSourceResolver } from '../../../src/backend/volumeSourceResolver';

function planner(over: Partial<NfsMountSettings> = {}): NfsMountPlanner {
  return new NfsMountPlanner({
    server: '10.0.2.2',
    share: '/export',
    mountOptions: ['nfsvers=4.1', 'port=12049'],
    efsRegion: '',
    efsDnsName: '',
    efsUtilsPresent: () => false,
    ...over,
  });
}

/** The argv of the mount command a VolumeSource turns into, through the real SystemMounter. */
async function mountArgv(src: VolumeSource, target = '/staging/v'): Promise<string[]> {
  const calls: string[][] = [];
  const run: CommandRunner = async (cmd, args) => {
    calls.push([cmd, ...args]);
    return { code: 0, stdout: '', stderr: '' };
  };
  const m = new SystemMounter({ run, readTable: async () => [] });
  if (src.kind === 'bind') await m.bindMount(src.path, target, false);
  else await m.mount(src.fsType, src.device, target, src.options);
  assert.equal(calls.length, 1);
  return calls[0]!;
}

/** The refusal as a client sees it: the backend's error mapped by toGrpcStatus, exact code and a message matching re. */
function expectCsi(fn: () => unknown, code: status, re: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    const mapped = toGrpcStatus(err);
    assert.equal(mapped.code, code, `${mapped.details}`);
    assert.match(mapped.details, re);
    return true;
  });
}

const provisioned = { backend: 'nfs', volumeDir: 'volumes/pvc-1/data', server: '10.0.2.2', share: '/export' };

describe('nfs volume source resolver', () => {
  it('gives every volume mount its own superblock unless the volume asks for sharecache', async () => {
    const src = nfsSourceResolver(planner())('pvc-1', { ...provisioned, mountOptions: 'sharecache' }, []);
    assert.deepEqual(await mountArgv(src), [
      'mount',
      '-t',
      'nfs4',
      '-o',
      'nfsvers=4.1,port=12049,sharecache',
      '10.0.2.2:/export/volumes/pvc-1/data',
      '/staging/v',
    ]);
  });

  it('mounts a provisioned volume from server:<share>/volumes/<id>/data with the server options', async () => {
    const src = nfsSourceResolver(planner())('pvc-1', provisioned, []);
    assert.deepEqual(await mountArgv(src), [
      'mount',
      '-t',
      'nfs4',
      '-o',
      'nosharecache,nfsvers=4.1,port=12049',
      '10.0.2.2:/export/volumes/pvc-1/data',
      '/staging/v',
    ]);
  });

  it('adds StorageClass mountOptions and capability mount_flags, later ones winning', async () => {
    const src = nfsSourceResolver(planner())('pvc-1', { ...provisioned, mountOptions: 'hard,nconnect=2' }, ['soft', 'nfsvers=4.2']);
    assert.deepEqual(await mountArgv(src), [
      'mount',
      '-t',
      'nfs4',
      '-o',
      'nosharecache,port=12049,nconnect=2,soft,nfsvers=4.2',
      '10.0.2.2:/export/volumes/pvc-1/data',
      '/staging/v',
    ]);
  });

  it('refuses options off the allowlist from volume_context and mount_flags', () => {
    const r = nfsSourceResolver(planner());
    expectCsi(
      () => r('pvc-1', { ...provisioned, mountOptions: 'hard,bg' }, []),
      status.INVALID_ARGUMENT,
      /volume_context.mountOptions: mount option "bg" is not supported/,
    );
    expectCsi(() => r('pvc-1', { ...provisioned, mountOptions: 'hard,so ft' }, []), status.INVALID_ARGUMENT, /invalid mount option/);
    expectCsi(() => r('pvc-1', provisioned, ['nfsvers=4.1,sec=none']), status.INVALID_ARGUMENT, /mount_flags: invalid mount option/);
    expectCsi(() => r('pvc-1', provisioned, ['tls']), status.INVALID_ARGUMENT, /amazon-efs-utils option/);
  });

  it("refuses a volumeDir that is not the volume's own, and another backend's volume", () => {
    const r = nfsSourceResolver(planner());
    expectCsi(
      () => r('pvc-1', { ...provisioned, volumeDir: 'volumes/pvc-2/data' }, []),
      status.INVALID_ARGUMENT,
      /does not belong to volume pvc-1/,
    );
    expectCsi(() => r('pvc-1', { ...provisioned, backend: 'local' }, []), status.INVALID_ARGUMENT, /local backend/);
    expectCsi(() => r('pvc-1', { ...provisioned, share: '/export/../etc' }, []), status.INVALID_ARGUMENT, /volume_context.share/);
    expectCsi(() => r('pvc-1', { ...provisioned, server: 'a b' }, []), status.INVALID_ARGUMENT, /server/);
  });

  it('mounts a static NFS volume from share and subDir of the configured server', async () => {
    const r = nfsSourceResolver(planner());
    assert.deepEqual(await mountArgv(r('static-1', { share: '/export', subDir: 'team/a' }, [])), [
      'mount',
      '-t',
      'nfs4',
      '-o',
      'nosharecache,nfsvers=4.1,port=12049',
      '10.0.2.2:/export/team/a',
      '/staging/v',
    ]);
  });

  it('with --nfs-allow-other-servers, mounts other servers with the node options less the server-specific ones', async () => {
    const r = nfsSourceResolver(planner({ allowOtherServers: true, mountOptions: ['nfsvers=4.1', 'port=12049', 'nosuid', 'sec=krb5p'] }));
    assert.deepEqual(await mountArgv(r('static-2', { server: 'nas.example.com', share: '/data' }, ['nfsvers=4.2'])), [
      'mount',
      '-t',
      'nfs4',
      '-o',
      'nosharecache,nosuid,sec=krb5p,nfsvers=4.2',
      'nas.example.com:/data',
      '/staging/v',
    ]);
    assert.deepEqual(await mountArgv(r('static-3', { server: 'fd00::5', share: '/' }, [])), [
      'mount',
      '-t',
      'nfs4',
      '-o',
      'nosharecache,nfsvers=4.1,nosuid,sec=krb5p',
      '[fd00::5]:/',
      '/staging/v',
    ]);
    assert.deepEqual((await mountArgv(r('static-4', { share: '/elsewhere' }, []))).slice(-2), ['10.0.2.2:/elsewhere', '/staging/v']);
    expectCsi(
      () => r('static-5', { server: 'nas.example.com', share: '/data', mountOptions: 'suid' }, []),
      status.INVALID_ARGUMENT,
      /"suid" would weaken "nosuid"/,
    );
  });

  it('without --nfs-allow-other-servers, refuses another server, a share outside --nfs-share and an EFS handle of another file system', () => {
    const r = nfsSourceResolver(planner({ efsRegion: 'us-east-1' }));
    expectCsi(
      () => r('static-2', { server: 'nas.example.com', share: '/data' }, []),
      status.INVALID_ARGUMENT,
      /^server "nas.example.com" is not this driver's NFS server \(10.0.2.2\); static volumes on other servers need --nfs-allow-other-servers$/,
    );
    expectCsi(
      () => r('static-2', { server: '127.0.0.2', share: '/export' }, []),
      status.INVALID_ARGUMENT,
      /need --nfs-allow-other-servers/,
    );
    expectCsi(
      () => r('static-3', { share: '/etc' }, []),
      status.INVALID_ARGUMENT,
      /^export path "\/etc" is outside --nfs-share \/export; volumes elsewhere need --nfs-allow-other-servers$/,
    );
    expectCsi(() => r('static-3', { share: '/exported' }, []), status.INVALID_ARGUMENT, /outside --nfs-share/);
    expectCsi(() => r('pvc-1', { ...provisioned, server: 'nas.example.com' }, []), status.INVALID_ARGUMENT, /not this driver's NFS server/);
    expectCsi(() => r('fs-12345678', {}, []), status.INVALID_ARGUMENT, /server "fs-12345678" is not this driver's NFS server/);
  });

  it('without --nfs-allow-other-servers, still mounts any path of the configured EFS file system from its handle', async () => {
    const r = nfsSourceResolver(planner({ server: 'fs-12345678', share: '/k8s', mountOptions: ['nfsvers=4.1'], efsRegion: 'us-east-1' }));
    assert.deepEqual((await mountArgv(r('fs-12345678:/shared/team-a', {}, []))).slice(-2), [
      'fs-12345678.efs.us-east-1.amazonaws.com:/shared/team-a',
      '/staging/v',
    ]);
    expectCsi(() => r('static-1', { share: '/shared' }, []), status.INVALID_ARGUMENT, /outside --nfs-share \/k8s/);
    expectCsi(
      () => r('fs-87654321:/x', {}, []),
      status.INVALID_ARGUMENT,
      /server "fs-87654321" is not this driver's NFS server \(fs-12345678\)/,
    );
  });

  it("refuses per-volume options that weaken the node's nosuid, nodev, noexec, sec or xprtsec", () => {
    const r = nfsSourceResolver(planner({ mountOptions: ['nfsvers=4.1', 'nosuid', 'nodev', 'noexec', 'sec=krb5p', 'xprtsec=mtls'] }));
    const cases: Array<[string, RegExp]> = [
      ['suid', /^per-volume mount options: mount option "suid" would weaken "nosuid" of the node's --nfs-mount-options$/],
      ['dev', /"dev" would weaken "nodev"/],
      ['exec', /"exec" would weaken "noexec"/],
      ['sec=sys', /^per-volume mount options: mount option "sec=sys" is weaker than "sec=krb5p" of the node's --nfs-mount-options$/],
      ['sec=krb5i', /"sec=krb5i" is weaker than "sec=krb5p"/],
      ['sec=krb5p:sys', /"sec=krb5p:sys" is weaker/],
      ['xprtsec=tls', /"xprtsec=tls" is weaker than "xprtsec=mtls"/],
    ];
    for (const [opt, re] of cases) {
      expectCsi(() => r('pvc-1', { ...provisioned, mountOptions: `hard,${opt}` }, []), status.INVALID_ARGUMENT, re);
      expectCsi(() => r('pvc-1', provisioned, [opt]), status.INVALID_ARGUMENT, re);
    }
  });

  it("lets per-volume options repeat or strengthen the node's hardening", async () => {
    const r = nfsSourceResolver(planner({ mountOptions: ['nfsvers=4.1', 'nosuid', 'sec=sys'] }));
    assert.deepEqual(await mountArgv(r('pvc-1', { ...provisioned, mountOptions: 'nosuid,noexec,sec=krb5p' }, [])), [
      'mount',
      '-t',
      'nfs4',
      '-o',
      'nosharecache,nfsvers=4.1,nosuid,noexec,sec=krb5p',
      '10.0.2.2:/export/volumes/pvc-1/data',
      '/staging/v',
    ]);
  });

  it('refuses oversized mount options from volume_context and mount_flags', () => {
    const r = nfsSourceResolver(planner());
    expectCsi(
      () => r('pvc-1', { ...provisioned, mountOptions: 'hard,'.repeat(400_000) + 'hard' }, []),
      status.INVALID_ARGUMENT,
      /^volume_context.mountOptions: mount options of 2000004 characters; at most 1024$/,
    );
    expectCsi(
      () =>
        r(
          'pvc-1',
          provisioned,
          Array.from({ length: 65 }, () => 'hard'),
        ),
      status.INVALID_ARGUMENT,
      /^volume_capability.mount.mount_flags: 65 mount options; at most 64$/,
    );
    expectCsi(
      () => r('pvc-1', provisioned, [`clientaddr=${'1'.repeat(300)}`]),
      status.INVALID_ARGUMENT,
      /a mount option of 311 characters; at most 256/,
    );
  });

  it('refuses bad static volume paths', () => {
    const r = nfsSourceResolver(planner());
    expectCsi(() => r('static-4', { share: '/export', subDir: '../etc' }, []), status.INVALID_ARGUMENT, /"\.\." segments/);
    expectCsi(() => r('static-5', { share: '/export', subDir: '/abs' }, []), status.INVALID_ARGUMENT, /relative to the share/);
    expectCsi(() => r('static-6', {}, []), status.INVALID_ARGUMENT, /neither volumeDir/);
  });
});

describe('EFS mounts', () => {
  // Handles of file systems other than --nfs-server: allowed here, and the node's options (less port=) apply.
  const efs = (over: Partial<NfsMountSettings> = {}) => planner({ efsRegion: 'us-east-1', allowOtherServers: true, ...over });

  it('mounts an EFS handle with NFSv4.1 and the AWS options when efs-utils is missing', async () => {
    const r = nfsSourceResolver(efs());
    assert.deepEqual(await mountArgv(r('fs-12345678', {}, [])), [
      'mount',
      '-t',
      'nfs4',
      '-o',
      'rsize=1048576,wsize=1048576,hard,timeo=600,retrans=2,noresvport,nosharecache,nfsvers=4.1',
      'fs-12345678.efs.us-east-1.amazonaws.com:/',
      '/staging/v',
    ]);
    assert.deepEqual(await mountArgv(r('efs:fs-12345678:/sub/path', {}, ['noac'])), [
      'mount',
      '-t',
      'nfs4',
      '-o',
      'rsize=1048576,wsize=1048576,hard,timeo=600,retrans=2,noresvport,nosharecache,nfsvers=4.1,noac',
      'fs-12345678.efs.us-east-1.amazonaws.com:/sub/path',
      '/staging/v',
    ]);
  });

  it('mounts with mount -t efs -o tls[,accesspoint] when efs-utils is installed', async () => {
    const r = nfsSourceResolver(efs({ efsUtilsPresent: () => true }));
    assert.deepEqual(await mountArgv(r('fs-12345678', {}, [])), [
      'mount',
      '-t',
      'efs',
      '-o',
      'tls,nosharecache,nfsvers=4.1',
      'fs-12345678:/',
      '/staging/v',
    ]);
    assert.deepEqual(await mountArgv(r('fs-12345678:/sub/path:fsap-0123456789abcdef0', {}, [])), [
      'mount',
      '-t',
      'efs',
      '-o',
      'tls,accesspoint=fsap-0123456789abcdef0,nosharecache,nfsvers=4.1',
      'fs-12345678:/sub/path',
      '/staging/v',
    ]);
    assert.deepEqual(await mountArgv(r('fs-12345678::fsap-0123456789abcdef0', { mountOptions: 'iam' }, [])), [
      'mount',
      '-t',
      'efs',
      '-o',
      'tls,accesspoint=fsap-0123456789abcdef0,nosharecache,nfsvers=4.1,iam',
      'fs-12345678:/',
      '/staging/v',
    ]);
  });

  it('uses --efs-dns-name as the host, or as mounttargetip when it is an address', async () => {
    const byName = nfsSourceResolver(efs({ efsRegion: '', efsDnsName: 'fs-12345678.efs.eu-west-1.amazonaws.com' }));
    assert.deepEqual((await mountArgv(byName('fs-12345678', {}, []))).slice(-2), [
      'fs-12345678.efs.eu-west-1.amazonaws.com:/',
      '/staging/v',
    ]);
    const byIp = nfsSourceResolver(efs({ efsDnsName: '10.0.5.6', efsUtilsPresent: () => true }));
    assert.deepEqual(await mountArgv(byIp('fs-12345678:/a', {}, [])), [
      'mount',
      '-t',
      'efs',
      '-o',
      'tls,mounttargetip=10.0.5.6,nosharecache,nfsvers=4.1',
      'fs-12345678:/a',
      '/staging/v',
    ]);
    const byIpPlain = nfsSourceResolver(efs({ efsDnsName: '10.0.5.6' }));
    assert.deepEqual((await mountArgv(byIpPlain('fs-12345678:/a', {}, []))).slice(-2), ['10.0.5.6:/a', '/staging/v']);
  });

  it('refuses an access point or an efs-utils option without efs-utils', () => {
    const r = nfsSourceResolver(efs());
    expectCsi(
      () => r('fs-12345678::fsap-0123456789abcdef0', {}, []),
      status.FAILED_PRECONDITION,
      /access point fsap-0123456789abcdef0 needs mount -t efs/,
    );
    expectCsi(() => r('fs-12345678', {}, ['tls']), status.FAILED_PRECONDITION, /mount options tls need mount -t efs/);
  });

  it('refuses a malformed EFS handle and an unresolvable file system', () => {
    expectCsi(() => nfsSourceResolver(efs())('fs-12345678:/a/../b', {}, []), status.INVALID_ARGUMENT, /invalid EFS volume handle/);
    expectCsi(() => nfsSourceResolver(planner())('fs-12345678', {}, []), status.INVALID_ARGUMENT, /needs --efs-region/);
  });

  it('serves provisioned volumes of an EFS-backed share (--nfs-server fs-…) the EFS way', async () => {
    const p = planner({
      server: 'fs-12345678',
      share: '/k8s',
      mountOptions: ['nfsvers=4.1'],
      efsRegion: 'us-west-2',
      efsUtilsPresent: () => true,
    });
    const src = nfsSourceResolver(p)(
      'pvc-9',
      { backend: 'nfs', volumeDir: 'volumes/pvc-9/data', server: 'fs-12345678', share: '/k8s' },
      [],
    );
    assert.deepEqual(await mountArgv(src), [
      'mount',
      '-t',
      'efs',
      '-o',
      'tls,nosharecache,nfsvers=4.1',
      'fs-12345678:/k8s/volumes/pvc-9/data',
      '/staging/v',
    ]);
  });

  it('checks the configuration at start', () => {
    assert.throws(() => planner({ mountOptions: ['bg'] }), /--nfs-mount-options: mount option "bg" is not supported/);
    assert.throws(() => planner({ server: 'fs-12345678' }), /needs --efs-region/);
    assert.throws(() => planner({ server: 'bad host' }), /not a host name/);
    assert.throws(() => planner({ share: '/a/../b' }), /"\.\." segments/);
    assert.equal(planner({ mountOptions: ['port=12049'] }).configuredPort, 12049);
  });
});
