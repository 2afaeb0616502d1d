import { strict as assert } from 'node:assert';
import { maxStatusDetails, statusDetails } from '../../../src/grpc/statusDetails';

describe('statusDetails', () => {
  it('leaves a message of normal length as it is', () => {
    assert.equal(statusDetails('volume_id is required'), 'volume_id is required');
    assert.equal(statusDetails('x'.repeat(maxStatusDetails)), 'x'.repeat(maxStatusDetails));
  });

  it('cuts a message that quotes a huge request value, and says how much was cut', () => {
    const out = statusDetails(`unknown parameter "${'k'.repeat(100_000)}"`);
    assert.ok(out.length < maxStatusDetails + 40);
    assert.match(out, /… \[\d+ more characters\]$/);
  });

  it('never cuts inside a surrogate pair (a lone surrogate cannot be encoded into the grpc-message trailer)', () => {
    const out = statusDetails(`a${'\u{1F4E6}'.repeat(2000)}`);
    assert.doesNotThrow(() => encodeURI(out));
  });
});
