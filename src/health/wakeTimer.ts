/**
 * One timer that fires at the earliest time asked of it: asking for a later time while an
 * earlier one is set changes nothing. It does not keep the process alive.
 */
export class WakeTimer {
  private wake: { at: number; timer: NodeJS.Timeout } | undefined;

  constructor(
    private readonly now: () => number,
    private readonly fire: () => void,
  ) {}

  /** Fires at `due` (ms on the clock), unless already set to fire no later. */
  at(due: number): void {
    if (!Number.isFinite(due)) return;
    if (this.wake && this.wake.at <= due) return;
    if (this.wake) clearTimeout(this.wake.timer);
    const timer = setTimeout(
      () => {
        this.wake = undefined;
        this.fire();
      },
      Math.max(0, due - this.now()),
    );
    timer.unref();
    this.wake = { at: due, timer };
  }

  clear(): void {
    if (this.wake) clearTimeout(this.wake.timer);
    this.wake = undefined;
  }
}
