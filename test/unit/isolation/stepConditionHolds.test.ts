import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { stepConditionHolds } from '../../../src/isolation/stepConditionHolds';
import { FsHelperPool } from '../../../src/isolation/fsHelperPool';
import type { BatchOutcome, BatchStep, StepCondition } from '../../../src/isolation/fsOps';
import { IsolatedFsError } from '../../../src/isolation/isolationErrors';

const statfs = { bsize: '4096', blocks: '1000', bfree: '10', bavail: '5', files: '9', ffree: '1' };
const outcomes: BatchOutcome[] = [
  { ok: false, code: 'ENOENT', message: 'no such file' },
  { ok: true, value: false },
  { ok: true, value: statfs },
  { ok: false, code: 'EIO', message: 'input/output error' },
];
const holds = (cond: unknown) => stepConditionHolds(cond as StepCondition, outcomes);
const isEinval = (err: unknown) => (err as NodeJS.ErrnoException).code === 'EINVAL';

describe('stepConditionHolds', () => {
  it('failedWith: only a failure with one of the codes', () => {
    assert.equal(holds({ step: 0, failedWith: ['ENOENT'] }), true);
    assert.equal(holds({ step: 0, failedWith: ['ENOTDIR'] }), false);
    assert.equal(holds({ step: 3, failedWith: ['ENOENT'] }), false, 'an I/O error is no missing file');
    assert.equal(holds({ step: 1, failedWith: ['ENOENT'] }), false, 'a success is no failure');
  });

  it('answered: only that very answer of a step that succeeded', () => {
    assert.equal(holds({ step: 1, answered: false }), true);
    assert.equal(holds({ step: 1, answered: true }), false);
    assert.equal(holds({ step: 0, answered: false }), false, 'a failed step answered nothing');
  });

  it('totalBytesAtLeast: compares the exact size, and a failed statfs holds nothing', () => {
    assert.equal(holds({ step: 2, totalBytesAtLeast: String(4096 * 1000) }), true);
    assert.equal(holds({ step: 2, totalBytesAtLeast: String(4096 * 1000 + 1) }), false);
    assert.equal(holds({ step: 3, totalBytesAtLeast: '1' }), false);
  });

  it('refuses, as EINVAL, a condition on a step that has not run or that is malformed', () => {
    for (const bad of [
      { step: 4, failedWith: ['ENOENT'] },
      { step: -1, failedWith: ['ENOENT'] },
      { step: 0.5, failedWith: ['ENOENT'] },
      { step: 0, failedWith: 'ENOENT' },
      { step: 1, answered: 'no' },
      { step: 2, totalBytesAtLeast: '-1' },
      { step: 2, totalBytesAtLeast: 12 },
      { step: 1, totalBytesAtLeast: '1' },
    ])
      assert.throws(() => holds(bad), isEinval, JSON.stringify(bad));
  });
});

describe('batch steps with conditions (helper process)', () => {
  let pool: FsHelperPool;
  let root: string;
  before(() => {
    pool = new FsHelperPool({ maxIdle: 1 });
    root = mkdtempSync(path.join(os.tmpdir(), 'step-conditions-'));
  });
  after(() => {
    pool.close();
    rmSync(root, { recursive: true, force: true });
  });
  const batch = (steps: BatchStep[]) => pool.run({ op: 'batch', path: 'conditions', steps }, 30_000);

  it('ends the batch, with no error, before a step whose condition does not hold', async () => {
    const made = path.join(root, 'made');
    const later = path.join(root, 'later');
    const out = await batch([
      { req: { op: 'exists', path: root } },
      { req: { op: 'mkdir', path: made }, onlyIf: [{ step: 0, answered: false }] },
      { req: { op: 'mkdir', path: later } },
    ]);
    assert.deepEqual(out, [{ ok: true, value: true }]);
    assert.equal(existsSync(made), false);
    assert.equal(existsSync(later), false, 'nothing after the stop ran');
  });

  it('runs the step and the rest when every condition holds', async () => {
    const made = path.join(root, 'made');
    const out = await batch([
      { req: { op: 'readFile', path: path.join(root, 'missing'), maxBytes: 10 }, tolerate: 'all' },
      { req: { op: 'exists', path: made } },
      {
        req: { op: 'mkdir', path: made },
        onlyIf: [
          { step: 0, failedWith: ['ENOENT'] },
          { step: 1, answered: false },
        ],
      },
      { req: { op: 'exists', path: made } },
    ]);
    assert.equal(out.length, 4);
    assert.deepEqual(out[3], { ok: true, value: true });
    assert.ok(existsSync(made));
  });

  it('fails the batch with EINVAL for a malformed condition, even beside one that does not hold', async () => {
    const never = path.join(root, 'never');
    await assert.rejects(
      batch([
        { req: { op: 'exists', path: root } },
        {
          req: { op: 'mkdir', path: never },
          onlyIf: [
            { step: 0, answered: false },
            { step: 5, answered: true },
          ],
        },
      ]),
      (err: unknown) => err instanceof IsolatedFsError && err.code === 'EINVAL' && err.op === 'batch',
    );
    assert.equal(existsSync(never), false);
    await assert.rejects(
      batch([
        { req: { op: 'exists', path: root } },
        { req: { op: 'mkdir', path: never }, onlyIf: { step: 0, answered: true } as unknown as StepCondition[] },
      ]),
      (err: unknown) => err instanceof IsolatedFsError && err.code === 'EINVAL',
    );
    assert.equal(existsSync(never), false);
  });
});
