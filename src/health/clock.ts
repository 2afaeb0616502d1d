/** Time and randomness, injected so tests can drive the monitor. */
export interface Clock {
  now(): number;
  random(): number;
}

export const systemClock: Clock = { now: () => Date.now(), random: () => Math.random() };
