/**
 * The fuzzer's seeded PRNG: xorshift32 seeded through a splitmix-style mix. Every request gets
 * its own stream, derived from (seed, index), so request i is the same whatever ran before it,
 * in whatever order, and one request can be rebuilt alone from the seed and its index.
 */
export class Prng {
  private state: number;

  constructor(seed: number) {
    // xorshift32 must never hold 0.
    this.state = mix32(seed) || 0x9e3779b9;
  }

  /** A stream of its own for request `index` of run `seed`. */
  static forRequest(seed: number, index: number): Prng {
    return new Prng(mix32(seed ^ mix32(index + 0x632be5ab)));
  }

  /** Uniform in [0, 1). */
  next(): number {
    let x = this.state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x >>> 0;
    return this.state / 4294967296;
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** An integer in [lo, hi]. */
  between(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** One element of a non-empty list. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[this.int(items.length)] as T;
  }

  /** One value by weight: `[[3, 'a'], [1, 'b']]` gives 'a' three times as often. */
  weighted<T>(entries: ReadonlyArray<readonly [number, T]>): T {
    const total = entries.reduce((s, [w]) => s + w, 0);
    let r = this.next() * total;
    for (const [w, v] of entries) {
      r -= w;
      if (r < 0) return v;
    }
    return (entries[entries.length - 1] as readonly [number, T])[1];
  }

  /** `n` lower-case hex digits. */
  hex(n: number): string {
    let s = '';
    while (s.length < n) s += this.int(0x10000).toString(16).padStart(4, '0');
    return s.slice(0, n);
  }
}

/** A 32-bit integer hash (murmur3's finaliser): nearby inputs give unrelated outputs. */
export function mix32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
