import { spawn } from 'node:child_process';
import { existsSync, openSync, readFileSync, rmSync } from 'node:fs';
import { connectCsi } from '../test/helpers/csiClient';
import { driverBin, driverDirs, freePort } from '../test/helpers/driverProcess';
import { unmountLeftovers } from '../test/helpers/cleanup';
import { childPids, percentile, sleep } from './benchKit';

export interface StartupResult {
  /** Spawn of bin/csi-driver to the first answered Probe, per round. */
  toProbeMs: number[];
  medianToProbeMs: number;
  /** After `idleMs` without calls, the driver process alone. */
  idleRssMiB: number;
  /** Its probe helper processes, alive when idle, and their RSS together. */
  idleHelpers: number;
  idleHelpersRssMiB: number;
  idleMs: number;
}

function rssMiB(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m?.[1] ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** Start-up time to a served Probe (fresh directories each round) and the RSS of an idle driver. */
export async function startupBench(rounds: number, idleMs: number): Promise<StartupResult> {
  const toProbeMs: number[] = [];
  let idle = { rss: 0, helpers: 0, helpersRss: 0 };
  for (let r = 0; r < rounds; r++) {
    const dirs = driverDirs('csi-bench-start-');
    const out = openSync(dirs.log, 'a');
    const t0 = performance.now();
    const child = spawn(
      process.execPath,
      [
        driverBin,
        '--endpoint',
        `unix://${dirs.socket}`,
        '--node-id',
        'bench',
        '--backend',
        'local',
        '--local-dir',
        dirs.share,
        '--state-dir',
        dirs.state,
        '--health-port',
        String(freePort()),
        '--health-address',
        '127.0.0.1',
      ],
      { stdio: ['ignore', out, out], cwd: dirs.root },
    );
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const client = connectCsi(`unix://${dirs.socket}`);
    try {
      for (;;) {
        if (child.exitCode !== null) throw new Error(`driver exited: ${readFileSync(dirs.log, 'utf8').slice(-1000)}`);
        if (performance.now() - t0 > 30_000) throw new Error('driver did not answer Probe within 30 s');
        if (existsSync(dirs.socket)) {
          try {
            await client.identity.Probe({}, 1000);
            break;
          } catch {
            // not listening yet
          }
        }
        await sleep(2);
      }
      toProbeMs.push(performance.now() - t0);
      if (r === rounds - 1) {
        await sleep(idleMs);
        const helpers = childPids(child.pid!);
        idle = { rss: rssMiB(child.pid!), helpers: helpers.length, helpersRss: helpers.reduce((s, p) => s + rssMiB(p), 0) };
      }
    } finally {
      client.close();
      child.kill('SIGTERM');
      await exited;
      await unmountLeftovers(dirs.root);
      rmSync(dirs.root, { recursive: true, force: true });
    }
  }
  return {
    toProbeMs,
    medianToProbeMs: percentile(toProbeMs, 50),
    idleRssMiB: idle.rss,
    idleHelpers: idle.helpers,
    idleHelpersRssMiB: idle.helpersRss,
    idleMs,
  };
}
