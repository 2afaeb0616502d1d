import { strict as assert } from 'node:assert';
import { checkIdentifier } from '../../../src/backend/ids';
import {
  checkNodeVolumeId,
  efsDnsNameFor,
  EfsHandleError,
  looksLikeEfsHandle,
  parseEfsDnsName,
  parseEfsVolumeHandle,
} from '../../../src/backend/efsVolumeHandle';

describe('EFS volume handles', () => {
  it('parses a bare file system id as its root', () => {
    assert.deepEqual(parseEfsVolumeHandle('fs-12345678'), { fileSystemId: 'fs-12345678', path: '/' });
    assert.deepEqual(parseEfsVolumeHandle('fs-0123456789abcdef0'), { fileSystemId: 'fs-0123456789abcdef0', path: '/' });
  });

  it('parses a sub-path, normalising a trailing slash', () => {
    assert.deepEqual(parseEfsVolumeHandle('fs-12345678:/sub/path'), { fileSystemId: 'fs-12345678', path: '/sub/path' });
    assert.deepEqual(parseEfsVolumeHandle('fs-12345678:/sub/path/'), { fileSystemId: 'fs-12345678', path: '/sub/path' });
    assert.deepEqual(parseEfsVolumeHandle('fs-12345678:/'), { fileSystemId: 'fs-12345678', path: '/' });
  });

  it('parses a path with an access point, and an access point without a path', () => {
    assert.deepEqual(parseEfsVolumeHandle('fs-12345678:/sub/path:fsap-0123456789abcdef0'), {
      fileSystemId: 'fs-12345678',
      path: '/sub/path',
      accessPointId: 'fsap-0123456789abcdef0',
    });
    assert.deepEqual(parseEfsVolumeHandle('fs-12345678::fsap-0123456789abcdef0'), {
      fileSystemId: 'fs-12345678',
      path: '/',
      accessPointId: 'fsap-0123456789abcdef0',
    });
  });

  it('accepts the efs: prefix', () => {
    assert.deepEqual(parseEfsVolumeHandle('efs:fs-12345678:/a:fsap-12345678'), {
      fileSystemId: 'fs-12345678',
      path: '/a',
      accessPointId: 'fsap-12345678',
    });
  });

  it('refuses malformed handles strictly', () => {
    const bad = [
      'fs-1234567', // too short
      'fs-1234567G',
      'FS-12345678',
      'efs:',
      'efs:fs-12345678:/a:fsap-12345678:x',
      'fs-12345678:relative',
      'fs-12345678:/a/../b',
      'fs-12345678:/a/./b',
      'fs-12345678:/a b',
      'fs-12345678:/a,b',
      'fs-12345678:/a:ap-12345678',
      'fs-12345678:/a:fsap-',
      'fs-12345678:/a:',
    ];
    for (const h of bad) assert.throws(() => parseEfsVolumeHandle(h), EfsHandleError, h);
  });

  it('tells EFS-looking ids from volume names', () => {
    assert.equal(looksLikeEfsHandle('fs-12345678'), true);
    assert.equal(looksLikeEfsHandle('fs-12345678:/x'), true);
    assert.equal(looksLikeEfsHandle('efs:anything'), true);
    assert.equal(looksLikeEfsHandle('pvc-1234'), false);
    assert.equal(looksLikeEfsHandle('fs-data-volume'), false);
  });

  it('builds and parses the regional DNS name', () => {
    assert.equal(efsDnsNameFor('fs-12345678', 'us-east-1'), 'fs-12345678.efs.us-east-1.amazonaws.com');
    assert.equal(efsDnsNameFor('fs-12345678', 'cn-north-1'), 'fs-12345678.efs.cn-north-1.amazonaws.com.cn');
    assert.throws(() => efsDnsNameFor('fs-12345678', 'nowhere'), /not an AWS region/);
    assert.deepEqual(parseEfsDnsName('fs-12345678.efs.eu-west-1.amazonaws.com'), { fileSystemId: 'fs-12345678', region: 'eu-west-1' });
    assert.equal(parseEfsDnsName('nfs.example.com'), undefined);
  });

  it('lets a valid EFS handle with a path through the node-side id check, and nothing else with "/"', () => {
    const check = (v: string) => checkIdentifier('volume_id', v);
    checkNodeVolumeId('fs-12345678:/sub/path:fsap-0123456789abcdef0', check);
    checkNodeVolumeId('pvc-1', check);
    assert.throws(() => checkNodeVolumeId('fs-12345678:/a/../b', check), EfsHandleError);
    assert.throws(() => checkNodeVolumeId('pvc/1', check), /contains "\/"/);
    assert.throws(() => checkNodeVolumeId(`fs-12345678:/${'a'.repeat(130)}`, check), /longer than 128 bytes/);
  });
});
