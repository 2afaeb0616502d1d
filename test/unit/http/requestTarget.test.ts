import { strict as assert } from 'node:assert';
import { decodePathSegment, parseRequestTarget } from '../../../src/http/requestTarget';

describe('parseRequestTarget', () => {
  it('refuses the targets that used to throw out of the request handler', () => {
    for (const t of ['//[', 'http://[::1/', 'http://a:99999/', 'http://x:1:2/']) assert.equal(parseRequestTarget(t), undefined, t);
  });

  it('refuses the asterisk form, empty, protocol-relative, backslashed, non-http and over-long targets', () => {
    for (const t of ['*', '', undefined, '//evil/x', '/\\x', 'ftp://h/x', `/${'a'.repeat(2048)}`])
      assert.equal(parseRequestTarget(t), undefined, String(t));
  });

  it('splits an origin-form target into path and query', () => {
    const t = parseRequestTarget('/healthz/mounts?volume=a%2Fb');
    assert.equal(t?.path, '/healthz/mounts');
    assert.equal(t?.query.get('volume'), 'a/b');
  });

  it('takes the path of an absolute-form target', () => {
    assert.equal(parseRequestTarget('http://node-1:9910/healthz')?.path, '/healthz');
  });

  it('decodes a path segment, and answers undefined for a malformed escape instead of throwing', () => {
    assert.equal(decodePathSegment('vol%201'), 'vol 1');
    assert.equal(decodePathSegment('%E0%A4%A'), undefined);
  });
});
