import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { repoRoot } from '../../helpers/driverProcess';

/** A running swapper: `stop()` ends it and says how many exchanges it made. */
export interface Swapper {
  stop(): Promise<{ swaps: number; failures: number }>;
}

const source = path.join(repoRoot, 'test', 'reliability', 'races', 'swap.c');

/** Builds the swapper once per source version (cc is part of the machine's toolchain). */
function swapBinary(): string {
  const dir = path.join(os.tmpdir(), 'csi-race-bin');
  mkdirSync(dir, { recursive: true });
  const bin = path.join(dir, `csi-race-swap-${Math.floor(statSync(source).mtimeMs)}`);
  if (!existsSync(bin)) {
    const tmp = `${bin}.${process.pid}`;
    execFileSync('cc', ['-O2', '-Wall', '-o', tmp, source], { stdio: 'inherit', timeout: 60_000 });
    execFileSync('mv', ['-f', tmp, bin], { timeout: 10_000 });
  }
  return bin;
}

/**
 * Starts a process that atomically exchanges `a` and `b` in a tight loop (renameat2 with
 * RENAME_EXCHANGE), e.g. a real directory and a symlink pointing outside the roots. Resolves
 * once the loop runs.
 */
export async function startSwapper(a: string, b: string): Promise<Swapper> {
  const child = spawn(swapBinary(), [a, b], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8');
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: string): void => {
      out += chunk;
      if (out.includes('ready\n')) {
        child.stdout.off('data', onData);
        resolve();
      }
    };
    child.stdout.on('data', onData);
    child.once('error', reject);
    void exited.then((code) => reject(new Error(`swapper exited with ${code} before it started`)));
  });
  child.stdout.on('data', (chunk: string) => (out += chunk));
  return {
    async stop() {
      child.kill('SIGTERM');
      await exited;
      const m = /swaps (\d+) failures (\d+)/.exec(out);
      if (!m) throw new Error(`swapper printed no count: ${out}`);
      return { swaps: Number(m[1]), failures: Number(m[2]) };
    },
  };
}
