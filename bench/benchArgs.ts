import { outageVariants, type OutageVariant } from '../test/helpers/frozenStorage';

/** Options of the outage section. */
export interface OutageArgs {
  n: number;
  h: number;
  variants: OutageVariant[];
  /** Interval and timeout pairs, one run each. */
  settings: Array<{ intervalMs: number; timeoutMs: number }>;
  parallel: number;
}

/** Command-line options of `npm run bench`. */
export interface BenchArgs {
  /** Where the JSON report goes. */
  jsonFile: string;
  /** Sections to run; all when empty. */
  only: string[];
  outage: OutageArgs;
}

export const sections = ['rpc', 'monitor', 'detection', 'hung', 'startup', 'outage'] as const;
export type Section = (typeof sections)[number];

function durationMs(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s)$/.exec(text);
  if (!m) throw new Error(`bad duration ${text}; use e.g. 5s or 500ms`);
  return Math.round(Number(m[1]) * (m[2] === 's' ? 1000 : 1));
}

function positiveInt(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} needs a positive integer, got ${text}`);
  return n;
}

/** `5s/2s,30s/5s` as interval/timeout pairs. */
function parseSettings(text: string): OutageArgs['settings'] {
  return text.split(',').map((pair) => {
    const [i, t, extra] = pair.split('/');
    if (!i || !t || extra !== undefined) throw new Error(`bad outage setting ${pair}; use interval/timeout, e.g. 5s/2s`);
    return { intervalMs: durationMs(i), timeoutMs: durationMs(t) };
  });
}

const usage = `use --json FILE, --only ${sections.join(',')}, and for the outage section --outage-n N, --outage-h H, --outage-variant per-volume|one-server|both, --outage-settings 5s/2s,30s/5s, --outage-parallel 8`;

/**
 * `--json FILE` (default test-results/bench.json) and `--only a,b` (or BENCH_ONLY), where the
 * sections are rpc, monitor, detection, hung, startup and outage; the outage section's own
 * options (defaults N=200, H=150, both variants, 5s/2s and 30s/5s, 8 teardowns at a time).
 */
export function parseBenchArgs(argv: string[], env: NodeJS.ProcessEnv): BenchArgs {
  let jsonFile = 'test-results/bench.json';
  let only = (env.BENCH_ONLY ?? '').split(',').filter(Boolean);
  const outage: OutageArgs = { n: 200, h: 150, variants: [...outageVariants], settings: parseSettings('5s/2s,30s/5s'), parallel: 8 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--json') jsonFile = value();
    else if (a === '--only') only = value().split(',').filter(Boolean);
    else if (a === '--outage-n') outage.n = positiveInt(a, value());
    else if (a === '--outage-h') outage.h = positiveInt(a, value());
    else if (a === '--outage-parallel') outage.parallel = positiveInt(a, value());
    else if (a === '--outage-settings') outage.settings = parseSettings(value());
    else if (a === '--outage-variant') {
      const v = value();
      if (v !== 'both' && !(outageVariants as readonly string[]).includes(v))
        throw new Error(`unknown outage variant ${v}; per-volume, one-server or both`);
      outage.variants = v === 'both' ? [...outageVariants] : [v as OutageVariant];
    } else throw new Error(`unknown option ${a}; ${usage}`);
  }
  for (const s of only)
    if (!(sections as readonly string[]).includes(s)) throw new Error(`unknown section ${s}; sections: ${sections.join(', ')}`);
  if (outage.h >= outage.n)
    throw new Error(`--outage-h (${outage.h}) must be below --outage-n (${outage.n}): the outage needs a healthy volume`);
  return { jsonFile, only, outage };
}

export function wants(args: BenchArgs, s: Section): boolean {
  return args.only.length === 0 || args.only.includes(s);
}
