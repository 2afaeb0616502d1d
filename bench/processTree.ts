import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { descendants } from '../test/helpers/processTree';

const run = promisify(execFile);

// smaps_rollup takes the target's memory-map lock; a shell reads it, so a process that holds the
// lock while stuck on frozen storage stalls the shell (killed at its deadline), never the bench.
// One cat for all (it goes on past a process that ended) and one awk: two execs per sample.
const pssScript =
  'for p in "$@"; do set -- "$@" "/proc/$p/smaps_rollup"; shift; done; cat "$@" 2>/dev/null | awk \'/^Pss:/ { kb += $2 } END { print kb + 0 }\'';

/** Sum of the proportional set size (PSS) of `pids` in KiB; processes that ended count 0. */
export async function pssKiB(pids: readonly number[], timeoutMs = 10_000): Promise<number> {
  if (pids.length === 0) return 0;
  const { stdout } = await run('sh', ['-c', pssScript, 'sh', ...pids.map(String)], { timeout: timeoutMs, killSignal: 'SIGKILL' });
  return Number(stdout.trim());
}

/** The peak number of processes below a driver and the peak PSS of the driver with them. */
export interface ProcessPeak {
  helpersMax: number;
  pssMaxMiB: number;
  samples: number;
}

/**
 * Samples the driver's process tree every `everyMs` until stopped: the processes below it
 * (helpers and the commands they run), less `excluded` (FUSE daemons), and the PSS of all of
 * them with the driver. A sample that fails is skipped.
 */
export function sampleProcessTree(driverPid: number, excluded: () => readonly number[], everyMs = 1000): { stop(): Promise<ProcessPeak> } {
  const peak: ProcessPeak = { helpersMax: 0, pssMaxMiB: 0, samples: 0 };
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      try {
        const skip = new Set(excluded());
        const below = descendants(driverPid).filter((p) => !skip.has(p));
        const pss = await pssKiB([driverPid, ...below]);
        peak.helpersMax = Math.max(peak.helpersMax, below.length);
        peak.pssMaxMiB = Math.max(peak.pssMaxMiB, pss / 1024);
        peak.samples++;
      } catch {
        // a stalled or failed sample is left out
      }
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return peak;
    },
  };
}
