import type { Registry } from 'prom-client';

/** One series: its label values, by label name, and its value. */
export type Series = [labels: Record<string, string>, value: number];

/**
 * A gauge family rebuilt from `collect` at each scrape, registered as prom-client's registry
 * expects a metric (name, help, type and `get()`), without prom-client's Gauge underneath. A
 * Gauge reset and set once per series hashes every label set on each scrape: with a thousand
 * mounts that was 10 to 40 ms of the event loop for the health-state family alone, at every
 * scrape.
 */
export function registerSeriesGauge(registry: Registry, name: string, help: string, collect: () => Iterable<Series>): void {
  const family = {
    name,
    help,
    type: 'gauge' as const,
    aggregator: 'sum' as const,
    get: async () => ({
      name,
      help,
      type: 'gauge' as const,
      aggregator: 'sum' as const,
      values: Array.from(collect(), ([labels, value]) => ({ labels, value })),
    }),
    reset: () => undefined,
  };
  // The registry keeps any object with these fields; its types ask for a Metric instance.
  registry.registerMetric(family as unknown as Parameters<Registry['registerMetric']>[0]);
}
