import { strict as assert } from 'node:assert';
import { status } from '@grpc/grpc-js';
import {
  capabilityProblem,
  capacityFor,
  isReadOnlyMode,
  requireAbsolutePath,
  requireCapabilities,
  requireCapability,
} from '../../../src/grpc/validateCommon';
import { CsiError } from '../../../src/grpc/csiError';
import type { VolumeCapability } from '../../../src/grpc/csiTypes';

type Mode = VolumeCapability['access_mode'] extends infer A ? (A extends { mode: infer M } ? M : never) : never;

/** A capability as the server receives it (proto-loader output: oneofs resolved, defaults filled). */
function mountCap(mode: Mode = 'SINGLE_NODE_WRITER', fsType = '', flags: string[] = []): VolumeCapability {
  return { access_mode: { mode }, mount: { fs_type: fsType, mount_flags: flags, volume_mount_group: '' }, access_type: 'mount' };
}
const blockCap: VolumeCapability = { access_mode: { mode: 'SINGLE_NODE_WRITER' }, block: {}, access_type: 'block' };

function refusal(fn: () => unknown): CsiError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof CsiError);
    assert.equal(err.code, status.INVALID_ARGUMENT);
    return err;
  }
  throw new Error('expected INVALID_ARGUMENT');
}

describe('capabilityProblem', () => {
  it('accepts every access mode on a mount with nfs, nfs4, efs or no fs_type', () => {
    const modes: Mode[] = [
      'SINGLE_NODE_WRITER',
      'SINGLE_NODE_READER_ONLY',
      'MULTI_NODE_READER_ONLY',
      'MULTI_NODE_SINGLE_WRITER',
      'MULTI_NODE_MULTI_WRITER',
      'SINGLE_NODE_SINGLE_WRITER',
      'SINGLE_NODE_MULTI_WRITER',
    ];
    for (const m of modes) assert.equal(capabilityProblem(mountCap(m)), undefined, String(m));
    for (const fs of ['nfs', 'nfs4', 'efs']) assert.equal(capabilityProblem(mountCap('SINGLE_NODE_WRITER', fs)), undefined, fs);
  });

  it('names the problem of block access, an unknown mode, a missing mode or access type, and a foreign fs_type', () => {
    assert.match(String(capabilityProblem(blockCap)), /block/);
    assert.match(String(capabilityProblem(mountCap('UNKNOWN'))), /not supported/);
    assert.match(String(capabilityProblem({ ...mountCap(), access_mode: null })), /access_mode is required/);
    assert.match(String(capabilityProblem({ access_mode: { mode: 'SINGLE_NODE_WRITER' } })), /access_type is required/);
    assert.match(String(capabilityProblem(mountCap('SINGLE_NODE_WRITER', 'ext4'))), /ext4/);
  });

  it('accepts plain mount flags and refuses flags that could smuggle more options or arguments', () => {
    assert.equal(capabilityProblem(mountCap('SINGLE_NODE_WRITER', '', ['noatime', 'nfsvers=4.1', 'rsize=1048576'])), undefined);
    for (const bad of ['ro,remount', 'a b', 'x=$(id)', 'opt=a;b', 'a=b\nc', '']) {
      assert.match(String(capabilityProblem(mountCap('SINGLE_NODE_WRITER', '', [bad]))), /not allowed/, JSON.stringify(bad));
    }
  });
});

describe('requireCapability / requireCapabilities', () => {
  it('returns a good capability and refuses a missing one as required', () => {
    const cap = mountCap();
    assert.equal(requireCapability('volume_capability', cap), cap);
    assert.equal(refusal(() => requireCapability('volume_capability', null)).message, 'volume_capability is required');
    assert.equal(refusal(() => requireCapability('volume_capability', undefined)).message, 'volume_capability is required');
  });

  it('refuses an empty list, and names the index of a bad entry', () => {
    assert.equal(refusal(() => requireCapabilities('volume_capabilities', [])).message, 'volume_capabilities is required');
    assert.match(
      refusal(() => requireCapabilities('volume_capabilities', [mountCap(), blockCap])).message,
      /^volume_capabilities\[1\]: block/,
    );
  });
});

describe('isReadOnlyMode', () => {
  it('is true only for the reader-only modes', () => {
    assert.equal(isReadOnlyMode(mountCap('SINGLE_NODE_READER_ONLY')), true);
    assert.equal(isReadOnlyMode(mountCap('MULTI_NODE_READER_ONLY')), true);
    assert.equal(isReadOnlyMode(mountCap('SINGLE_NODE_WRITER')), false);
    assert.equal(isReadOnlyMode(mountCap('MULTI_NODE_MULTI_WRITER')), false);
  });
});

describe('requireAbsolutePath', () => {
  it('normalises an absolute path and drops trailing slashes', () => {
    assert.equal(requireAbsolutePath('target_path', '/var/lib/kubelet/pods/x/mount'), '/var/lib/kubelet/pods/x/mount');
    assert.equal(requireAbsolutePath('target_path', '/var//lib/./kubelet/'), '/var/lib/kubelet');
    assert.equal(requireAbsolutePath('target_path', '/'), '/');
  });

  it('refuses empty, relative, "..", NUL and overlong paths, naming the field', () => {
    assert.equal(refusal(() => requireAbsolutePath('target_path', '')).message, 'target_path is required');
    assert.match(refusal(() => requireAbsolutePath('target_path', 'relative/path')).message, /absolute/);
    assert.match(refusal(() => requireAbsolutePath('target_path', '/a/../etc')).message, /"\.\."/);
    assert.match(refusal(() => requireAbsolutePath('target_path', '/a/..')).message, /"\.\."/);
    assert.match(refusal(() => requireAbsolutePath('staging_target_path', '/a\0b')).message, /^staging_target_path contains a NUL/);
    assert.match(refusal(() => requireAbsolutePath('target_path', '/' + 'a'.repeat(4096))).message, /too long/);
  });

  it('allows names that merely contain dots', () => {
    assert.equal(requireAbsolutePath('target_path', '/a/..b/c..'), '/a/..b/c..');
  });
});

describe('capacityFor', () => {
  const def = 1024n;
  it('uses the default without a range, and required_bytes when given', () => {
    assert.deepEqual(capacityFor(null, def), { bytes: def, limit: 0n });
    assert.deepEqual(capacityFor({ required_bytes: '5000', limit_bytes: '0' }, def), { bytes: 5000n, limit: 0n });
  });

  it('keeps a limit-only request within its limit', () => {
    assert.deepEqual(capacityFor({ required_bytes: '0', limit_bytes: '100' }, def), { bytes: 100n, limit: 100n });
    assert.deepEqual(capacityFor({ required_bytes: '0', limit_bytes: '4096' }, def), { bytes: def, limit: 4096n });
  });

  it('keeps values of 2^53 and up exact, up to 2^63-1', () => {
    assert.deepEqual(capacityFor({ required_bytes: '9007199254740993', limit_bytes: '0' }, def), { bytes: 9007199254740993n, limit: 0n });
    assert.deepEqual(capacityFor({ required_bytes: '9223372036854775807', limit_bytes: '9223372036854775807' }, def), {
      bytes: 9223372036854775807n,
      limit: 9223372036854775807n,
    });
  });

  it('refuses required above limit, negative values and values beyond int64', () => {
    assert.match(refusal(() => capacityFor({ required_bytes: '200', limit_bytes: '100' }, def)).message, /larger than limit_bytes/);
    assert.match(
      refusal(() => capacityFor({ required_bytes: '9007199254740993', limit_bytes: '9007199254740992' }, def)).message,
      /larger than limit_bytes/,
    );
    refusal(() => capacityFor({ required_bytes: '-1', limit_bytes: '0' }, def));
    refusal(() => capacityFor({ required_bytes: '0', limit_bytes: '-5' }, def));
    assert.match(
      refusal(() => capacityFor({ required_bytes: '9223372036854775808', limit_bytes: '0' }, def)).message,
      /required_bytes is invalid/,
    );
  });
});
