import { strict as assert } from 'node:assert';
import { status } from '@grpc/grpc-js';
import { checkIdentifier, idFromName } from '../../../src/backend/ids';
import { InvalidIdentifierError } from '../../../src/backend/backendErrors';
import { toGrpcStatus } from '../../../src/grpc/toGrpcStatus';

/** The refusal as a client sees it: the backend's own error, mapped in the one place that knows codes. */
function refusal(fn: () => void): { code: status; message: string } {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof InvalidIdentifierError, 'an InvalidIdentifierError');
    const mapped = toGrpcStatus(err);
    return { code: mapped.code, message: mapped.details };
  }
  throw new Error('expected a refusal');
}

describe('checkIdentifier', () => {
  it('accepts ordinary CSI names and ids', () => {
    for (const ok of ['pvc-1', 'snapshot-0a1b', 'A.b_c-d', 'x', 'a.b', 'p'.repeat(128), 'é'.repeat(64), 'fake-vol-id:with-colon']) {
      assert.doesNotThrow(() => checkIdentifier('name', ok), ok);
    }
  });

  it('refuses an empty value as required', () => {
    const e = refusal(() => checkIdentifier('volume_id', ''));
    assert.equal(e.code, status.INVALID_ARGUMENT);
    assert.equal(e.message, 'volume_id is required');
  });

  it('refuses more than 128 bytes, counting UTF-8 bytes rather than characters', () => {
    assert.equal(refusal(() => checkIdentifier('name', 'p'.repeat(129))).code, status.INVALID_ARGUMENT);
    const e = refusal(() => checkIdentifier('name', 'é'.repeat(65)));
    assert.match(e.message, /longer than 128 bytes/);
  });

  it('refuses NUL, "/", ".." anywhere and "." alone, naming the field', () => {
    const cases: Array<[string, RegExp]> = [
      ['a\0b', /NUL/],
      ['a/b', /"\/"/],
      ['/', /"\/"/],
      ['..', /"\.\."/],
      ['a..b', /"\.\."/],
      ['.', /is "\."/],
    ];
    for (const [bad, why] of cases) {
      const e = refusal(() => checkIdentifier('snapshot_id', bad));
      assert.equal(e.code, status.INVALID_ARGUMENT);
      assert.match(e.message, /^snapshot_id /);
      assert.match(e.message, why);
    }
  });
});

describe('idFromName', () => {
  it('keeps Kubernetes-style names as they are, for operators reading the share', () => {
    assert.equal(idFromName('pvc-0f4c2a1e-9b7d-4c1e-8f3a-2d5e6f7a8b9c'), 'pvc-0f4c2a1e-9b7d-4c1e-8f3a-2d5e6f7a8b9c');
    assert.equal(idFromName('snapshot-1'), 'snapshot-1');
  });

  it('hashes names that are not safe directory names, deterministically', () => {
    for (const name of ['Upper-Case', 'sanity-controller-create-0A1B2C3D-4E5F6A7B', 'p'.repeat(64), 'has space', '-leading-dash', 'a:b']) {
      const id = idFromName(name);
      assert.match(id, /^h-[0-9a-f]{40}$/, name);
      assert.equal(idFromName(name), id, 'the same name gives the same id');
    }
    assert.notEqual(idFromName('Name-A'), idFromName('Name-B'));
  });

  it("hashes names that start with the hash prefix, so a name can never pose as another name's id", () => {
    const hashed = idFromName('Upper-Case');
    assert.notEqual(idFromName(hashed), hashed);
    assert.match(idFromName('h-plain'), /^h-[0-9a-f]{40}$/);
  });

  it('always yields an id that checkIdentifier accepts', () => {
    for (const name of ['pvc-1', 'X'.repeat(128), 'é'.repeat(64), 'a b c'])
      assert.doesNotThrow(() => checkIdentifier('volume_id', idFromName(name)));
  });
});
