/** Command-line options of `npm run bench`. */
export interface BenchArgs {
  /** Where the JSON report goes. */
  jsonFile: string;
  /** Sections to run; all when empty. */
  only: string[];
}

export const sections = ['rpc', 'monitor', 'detection', 'hung', 'startup'] as const;
export type Section = (typeof sections)[number];

/**
 * `--json FILE` (default test-results/bench.json) and `--only a,b` (or BENCH_ONLY), where the
 * sections are rpc, monitor, detection, hung and startup.
 */
export function parseBenchArgs(argv: string[], env: NodeJS.ProcessEnv): BenchArgs {
  let jsonFile = 'test-results/bench.json';
  let only = (env.BENCH_ONLY ?? '').split(',').filter(Boolean);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--json') jsonFile = value();
    else if (a === '--only') only = value().split(',').filter(Boolean);
    else throw new Error(`unknown option ${a}; use --json FILE and --only ${sections.join(',')}`);
  }
  for (const s of only) if (!(sections as readonly string[]).includes(s)) throw new Error(`unknown section ${s}; sections: ${sections.join(', ')}`);
  return { jsonFile, only };
}

export function wants(args: BenchArgs, s: Section): boolean {
  return args.only.length === 0 || args.only.includes(s);
}
