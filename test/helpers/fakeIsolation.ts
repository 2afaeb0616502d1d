import type { ProbeItem, ProbeResult } from '../../src/isolation/fsOps';
import type { IsolatedFs, ProbeRound, ProbeRoundOutcome } from '../../src/isolation/isolatedFs';
import { IsolationTimeoutError } from '../../src/isolation/isolationErrors';

/** A round the fake has handed out: what it held and with which timeout. */
export interface FakeRound {
  items: ProbeItem[];
  timeoutMs: number;
}

/**
 * Probe rounds whose answers the test decides. A mount answering 'timeout' makes its round end
 * as a round that overstayed (IsolationTimeoutError); with `holdRounds`, rounds stay open until
 * `finishHeld()`, as rounds that wait out their deadline do; a path in `stuckPaths` keeps its
 * round's helper "not yet exited" until `letStuckGo()`.
 */
export class FakeIsolation implements Pick<IsolatedFs, 'probeRound'> {
  answer: (path: string) => ProbeResult | 'timeout' | 'broken';
  rounds: FakeRound[] = [];
  inFlight = 0;
  maxInFlight = 0;
  holdRounds = false;
  stuckPaths = new Set<string>();
  private held: Array<() => void> = [];
  private releaseStuck: Array<() => void> = [];

  constructor(okStatfs: ProbeResult['statfs']) {
    this.answer = () => ({ ok: true, statfs: okStatfs });
  }

  probeRound(items: ProbeItem[], timeoutMs: number): ProbeRound {
    this.rounds.push({ items, timeoutMs });
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    const answers = items.map((i) => this.answer(i.path));
    const outcome = (): ProbeRoundOutcome => {
      const results = answers.map((a) => (typeof a === 'string' ? undefined : { ...a, elapsedMs: 1 }));
      if (answers.includes('broken')) return { results, failure: new Error('file helpers unavailable') };
      if (answers.includes('timeout'))
        return { results, failure: new IsolationTimeoutError('probeMany', `${items.length} mounts`, timeoutMs) };
      return { results };
    };
    const done = new Promise<ProbeRoundOutcome>((resolve) => {
      const finish = (): void => {
        this.inFlight--;
        resolve(outcome());
      };
      if (this.holdRounds) this.held.push(finish);
      else finish();
    });
    const stuck = answers.includes('timeout') && items.some((i) => this.stuckPaths.has(i.path));
    const gone = stuck ? done.then(() => new Promise<void>((r) => this.releaseStuck.push(r))) : done.then(() => undefined);
    return { done, gone };
  }

  finishHeld(): void {
    for (const f of this.held.splice(0)) f();
  }

  letStuckGo(): void {
    for (const r of this.releaseStuck.splice(0)) r();
  }

  probesOf(p: string): number {
    return this.rounds.filter((r) => r.items.some((i) => i.path === p)).length;
  }
}
