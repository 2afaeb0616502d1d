import { strict as assert } from 'node:assert';
import { forTheLog, maxLoggedRequestChars, redactSecrets } from '../../../src/grpc/redact';

describe('redactSecrets', () => {
  it('replaces a non-empty secrets map with a marker and keeps the other fields', () => {
    const out = redactSecrets({ volume_id: 'v1', secrets: { password: 'hunter2' } });
    assert.deepEqual(out, { volume_id: 'v1', secrets: '[REDACTED]' });
  });

  it('redacts *_secrets fields at any depth, inside arrays too', () => {
    const out = redactSecrets({ a: { b: [{ node_stage_secrets: { k: 'v' } }] }, Secret: 'x' });
    assert.deepEqual(out, { a: { b: [{ node_stage_secrets: '[REDACTED]' }] }, Secret: '[REDACTED]' });
  });

  it('leaves an empty secrets map visible as empty, since it reveals nothing', () => {
    assert.deepEqual(redactSecrets({ secrets: {} }), { secrets: {} });
  });

  it('does not mistake fields that only contain the word for secrets', () => {
    const req = { secretsPath: '/etc/x', mysecretsfile: 'f' };
    const out = redactSecrets(req) as Record<string, unknown>;
    assert.equal(out.secretsPath, '/etc/x');
    assert.equal(out.mysecretsfile, 'f');
  });

  it('never leaks the secret value into the serialised copy, and leaves the request untouched', () => {
    const req = { secrets: { token: 'TOP-SECRET-VALUE' }, volume_context: { server: 'nfs' } };
    assert.ok(!JSON.stringify(redactSecrets(req)).includes('TOP-SECRET-VALUE'));
    assert.equal(req.secrets.token, 'TOP-SECRET-VALUE');
  });

  it('passes primitives, null and buffers through', () => {
    assert.equal(redactSecrets('s'), 's');
    assert.equal(redactSecrets(null), null);
    const b = Buffer.from('x');
    assert.equal(redactSecrets(b), b);
  });
});

describe('forTheLog', () => {
  it('keeps a small request whole and cuts a huge one to its start and size', () => {
    const small = { volume_id: 'v1' };
    assert.deepEqual(forTheLog(small), small);
    const huge = { parameters: { mountOptions: 'x'.repeat(2_000_000) } };
    const cut = forTheLog(huge) as { truncated: boolean; chars: number; start: string };
    assert.equal(cut.truncated, true);
    assert.ok(cut.chars > 2_000_000);
    assert.equal(cut.start.length, maxLoggedRequestChars);
  });
});
