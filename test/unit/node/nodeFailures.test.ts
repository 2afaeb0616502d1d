import { strict as assert } from 'node:assert';
import { NodeFailures } from '../../../src/node/nodeFailures';

describe('NodeFailures', () => {
  it('explains a failed stage and publish until they are cleared', () => {
    const f = new NodeFailures();
    f.record('v1', 'stage', new Error('mount timed out'));
    f.record('v1', 'publish', new Error('target busy'));
    assert.deepEqual(
      f.issuesOf('v1').map((i) => i.reason),
      ['StageFailed', 'PublishFailed'],
    );
    assert.match(f.issuesOf('v1')[0]!.message, /mount timed out/);
    f.clear('v1', 'stage');
    assert.deepEqual(
      f.issuesOf('v1').map((i) => i.reason),
      ['PublishFailed'],
    );
  });

  it('keeps at most its limit, dropping the failures that are oldest by their last occurrence', () => {
    const f = new NodeFailures(3);
    for (const v of ['a', 'b', 'c']) f.record(v, 'stage', new Error(v));
    f.record('a', 'stage', new Error('again'));
    f.record('d', 'stage', new Error('d'));
    assert.deepEqual(f.issuesOf('b'), [], 'b was the oldest');
    for (const v of ['a', 'c', 'd']) assert.equal(f.issuesOf(v).length, 1, v);
  });
});
