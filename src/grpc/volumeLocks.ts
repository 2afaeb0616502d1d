/**
 * One operation per volume at a time. A second operation on a key that is held is refused at
 * once (the caller answers ABORTED and the CO retries) rather than queued, as the CSI spec
 * recommends for concurrent calls on one volume.
 */
export class VolumeLocks {
  private readonly held = new Set<string>();

  /**
   * Takes the locks for all `keys` at once, or none and returns undefined when any is held (so
   * two callers can never each hold a part); call the returned release once.
   */
  tryAcquire(...keys: string[]): (() => void) | undefined {
    const unique = [...new Set(keys)];
    if (unique.some((k) => this.held.has(k))) return undefined;
    for (const k of unique) this.held.add(k);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      for (const k of unique) this.held.delete(k);
    };
  }

  /** How many keys are held now. */
  get size(): number {
    return this.held.size;
  }
}
