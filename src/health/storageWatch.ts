import type { Clock } from './clock';
import type { StorageIssue } from './nodeHealthView';

/** Runs the share check at most once per interval, one at a time, and keeps its last answer. */
export class StorageWatch {
  private issues: StorageIssue[] = [];
  private checkedAt = 0;
  private checking = false;

  constructor(
    private readonly check: (() => Promise<StorageIssue[]>) | undefined,
    private readonly clock: Clock,
    private readonly intervalMs: number,
  ) {}

  /** Starts a check when one is due; never waits for it. */
  poll(): void {
    const check = this.check;
    if (!check || this.checking || this.clock.now() - this.checkedAt < this.intervalMs) return;
    this.checking = true;
    this.checkedAt = this.clock.now();
    check()
      .then((issues) => (this.issues = issues))
      .catch((err: Error) => (this.issues = [{ status: 'STORAGE_UNREACHABLE', reason: 'StorageCheckFailed', message: err.message }]))
      .finally(() => (this.checking = false));
  }

  last(): StorageIssue[] {
    return this.issues;
  }
}
