/**
 * Sizes of the reliability suites. `npm test` (and so CI) runs the bounded sizes;
 * `npm run test:reliability` sets RELIABILITY=full and runs the full ones.
 */
export const fullReliability = process.env.RELIABILITY === 'full';

/** The bounded value under `npm test`, the full value under `npm run test:reliability`. */
export function scaled(bounded: number, full: number): number {
  return fullReliability ? full : bounded;
}
