import { strict as assert } from 'node:assert';
import { validateMutableParameters } from '../../../src/controller/mutableParameters';
import { validateParameters } from '../../../src/controller/parameters';
import { healthDurations } from '../../../src/backend/healthParameters';
import { toGrpcStatus } from '../../../src/grpc/toGrpcStatus';

const invalid = (fn: () => unknown): void => assert.throws(fn, (err) => toGrpcStatus(err).code === 3 && !toGrpcStatus(err).unexpected);

describe('mutable parameters', () => {
  it('accepts the health durations and mount options, merged over the current set', () => {
    assert.deepEqual(validateMutableParameters({ healthCheckInterval: '10s' }, { healthCheckTimeout: '2s', mountOptions: 'hard' }), {
      healthCheckInterval: '10s',
      healthCheckTimeout: '2s',
      mountOptions: 'hard',
    });
    assert.deepEqual(healthDurations({ healthCheckInterval: '1.5m', healthCheckTimeout: '1s' }), { intervalMs: 90_000, timeoutMs: 1_000 });
  });

  it('refuses unknown and provisioner keys with INVALID_ARGUMENT', () => {
    invalid(() => validateMutableParameters({ XXX_FakeKey: 'XXX_FakeValue' }));
    invalid(() => validateMutableParameters({ 'csi.storage.k8s.io/pvc/name': 'x' }));
  });

  it('refuses durations that do not parse or lie outside the bounds', () => {
    for (const v of ['10', 'ten', '-5s', '4s', '25h', '1e3s']) invalid(() => validateMutableParameters({ healthCheckInterval: v }));
    for (const v of ['999ms', '6m']) invalid(() => validateMutableParameters({ healthCheckTimeout: v }));
  });

  it('refuses a timeout not shorter than the interval, also against the current set', () => {
    invalid(() => validateMutableParameters({ healthCheckInterval: '10s', healthCheckTimeout: '10s' }));
    invalid(() => validateMutableParameters({ healthCheckInterval: '5s' }, { healthCheckTimeout: '30s' }));
    validateMutableParameters({ healthCheckInterval: '5s', healthCheckTimeout: '4s' }, { healthCheckTimeout: '30s' });
  });

  it('refuses mount options outside the allowlist, and ones that smuggle another argument', () => {
    invalid(() => validateMutableParameters({ mountOptions: 'hard,notanoption' }));
    invalid(() => validateMutableParameters({ mountOptions: 'hard -o remount' }));
  });

  it('StorageClass parameters accept the same keys with the same checks', () => {
    assert.deepEqual(validateParameters({ healthCheckInterval: '30s', 'csi.storage.k8s.io/pvc/name': 'x' }), {
      healthCheckInterval: '30s',
    });
    invalid(() => validateParameters({ healthCheckTimeout: 'soon' }));
  });
});
