import type { BatchOutcome, StatfsResult, StepCondition } from './fsOps';

const badCondition = (why: string): Error => Object.assign(new Error(`a batch step condition ${why}`), { code: 'EINVAL' });

/** A statfs result's size in bytes, or undefined when the value is not one. */
function totalBytesOf(value: unknown): bigint | undefined {
  const s = value as Partial<StatfsResult> | null;
  if (typeof s?.blocks !== 'string' || typeof s.bsize !== 'string') return undefined;
  try {
    return BigInt(s.blocks) * BigInt(s.bsize);
  } catch {
    return undefined;
  }
}

/**
 * Whether a condition holds of the outcomes of a batch's earlier steps. A condition that names
 * this step or a later one, or that is malformed, is an EINVAL error: it is the caller's mistake,
 * never a reason to run or to skip the step.
 */
export function stepConditionHolds(cond: StepCondition, outcomes: readonly BatchOutcome[]): boolean {
  if (!Number.isInteger(cond.step) || cond.step < 0 || cond.step >= outcomes.length)
    throw badCondition(`names step ${String(cond.step)}, which has not run (${outcomes.length} have)`);
  const outcome = outcomes[cond.step]!;
  if ('failedWith' in cond) {
    if (!Array.isArray(cond.failedWith)) throw badCondition('has no list of codes');
    return !outcome.ok && cond.failedWith.includes(outcome.code);
  }
  if ('answered' in cond) {
    if (typeof cond.answered !== 'boolean') throw badCondition('asks for an answer that is not yes or no');
    return outcome.ok && outcome.value === cond.answered;
  }
  if (typeof cond.totalBytesAtLeast !== 'string' || !/^\d{1,30}$/.test(cond.totalBytesAtLeast)) throw badCondition('has no byte count');
  if (!outcome.ok) return false;
  const total = totalBytesOf(outcome.value);
  if (total === undefined) throw badCondition(`asks a size of step ${cond.step}, which is not a statfs`);
  return total >= BigInt(cond.totalBytesAtLeast);
}
