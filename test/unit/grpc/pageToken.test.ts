import { strict as assert } from 'node:assert';
import { status } from '@grpc/grpc-js';
import { decodePageToken, encodePageToken, paginate } from '../../../src/grpc/pageToken';
import { CsiError } from '../../../src/grpc/csiError';

const items = ['a', 'b', 'c', 'd', 'e'].map((id) => ({ id }));

function codeOf(fn: () => unknown): number {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof CsiError);
    return err.code;
  }
  throw new Error('expected an error');
}

describe('page tokens', () => {
  it('round-trips the id to start at, including ids with any characters', () => {
    for (const id of ['pvc-1', 'h-0123abc', 'é:/ +']) assert.equal(decodePageToken(encodePageToken(id)), id);
  });

  it('treats an empty token as the start', () => {
    assert.equal(decodePageToken(''), undefined);
  });

  it('answers ABORTED for tokens it did not make', () => {
    for (const bad of ['invalid-token', 'p1:a', Buffer.from('p2:a').toString('base64url'), `${encodePageToken('a')}=`, '!!!']) {
      assert.equal(
        codeOf(() => decodePageToken(bad)),
        status.ABORTED,
        bad,
      );
    }
  });
});

describe('paginate', () => {
  it('returns everything without max_entries', () => {
    assert.deepEqual(paginate(items, 0, ''), { page: items, nextToken: '' });
  });

  it('walks the pages with max_entries and next tokens, each item once', () => {
    const seen: string[] = [];
    let token = '';
    let pages = 0;
    do {
      const { page, nextToken } = paginate(items, 2, token);
      seen.push(...page.map((i) => i.id));
      token = nextToken;
      pages++;
    } while (token);
    assert.deepEqual(seen, ['a', 'b', 'c', 'd', 'e']);
    assert.equal(pages, 3);
  });

  it('gives no next token when the page ends exactly at the last item', () => {
    assert.equal(paginate(items, 5, '').nextToken, '');
    assert.equal(paginate(items, 10, '').nextToken, '');
  });

  it("continues at the next id when the token's item was deleted", () => {
    const token = paginate(items, 2, '').nextToken;
    const without = items.filter((i) => i.id !== 'c');
    assert.deepEqual(
      paginate(without, 0, token).page.map((i) => i.id),
      ['d', 'e'],
    );
  });

  it('returns an empty page when every item after the token is gone', () => {
    assert.deepEqual(paginate(items.slice(0, 2), 0, encodePageToken('c')), { page: [], nextToken: '' });
  });

  it('refuses a negative or fractional max_entries with INVALID_ARGUMENT', () => {
    assert.equal(
      codeOf(() => paginate(items, -1, '')),
      status.INVALID_ARGUMENT,
    );
    assert.equal(
      codeOf(() => paginate(items, 1.5, '')),
      status.INVALID_ARGUMENT,
    );
  });
});
