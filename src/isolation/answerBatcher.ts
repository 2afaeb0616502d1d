import type { PartialAnswers } from './fsOps';

export interface AnswerBatcher {
  add(index: number, result: unknown): void;
  /** Sends what is waiting now (before the round's final reply). */
  flush(): void;
}

/**
 * Collects a probe round's answers and sends them a few at a time: at most `flushMs` after the
 * first unsent one, and at once on flush(). One message per answer made the helper, the pool
 * thread and the event loop each wake once per mount checked, which cost more than the check.
 * The helper's main thread never blocks on storage, so the timer fires even while a mount hangs;
 * an answer found in the last `flushMs` before the round's deadline may be lost with the kill,
 * and that mount is then reported as not answering in time, which it barely did.
 */
export function answerBatcher(send: (answers: PartialAnswers) => void, flushMs: number): AnswerBatcher {
  let waiting: PartialAnswers = [];
  let timer: NodeJS.Timeout | undefined;
  const flush = (): void => {
    clearTimeout(timer);
    timer = undefined;
    if (waiting.length === 0) return;
    const answers = waiting;
    waiting = [];
    send(answers);
  };
  return {
    add(index, result) {
      waiting.push([index, result]);
      timer ??= setTimeout(flush, flushMs);
    },
    flush,
  };
}
