/**
 * One operation per volume at a time. A second operation on a key that is held is refused at
 * once (the caller answers ABORTED and the CO retries) rather than queued, as the CSI spec
 * recommends for concurrent calls on one volume.
 */
export class VolumeLocks {
  private readonly held = new Set<string>();

  /** Takes the lock for `key`, or returns undefined when it is held; call the returned release once. */
  tryAcquire(key: string): (() => void) | undefined {
    if (this.held.has(key)) return undefined;
    this.held.add(key);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.held.delete(key);
    };
  }

  /** How many keys are held now. */
  get size(): number {
    return this.held.size;
  }
}
