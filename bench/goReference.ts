import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { connectCsi, type CsiClient } from '../test/helpers/csiClient';
import { mountCap } from '../test/helpers/publish';
import { timedCalls } from './latencyStats';

/**
 * The Go CSI controller of bench/go-reference (built by its build.sh), started on a socket and a
 * share of its own under `root`: the same file work as the driver's CreateVolume and
 * DeleteVolume, in Go, with nothing else. `null` when no binary is given.
 */
export async function startGoReference(binary: string | undefined, root: string): Promise<{ client: CsiClient; stop(): void } | null> {
  if (!binary) return null;
  if (!existsSync(binary)) throw new Error(`BENCH_GO_REFERENCE: ${binary} does not exist (bench/go-reference/build.sh builds it)`);
  const socket = path.join(root, 'go-reference.sock');
  const child = spawn(binary, [socket, path.join(root, 'go-share')], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`go-reference exited (${code})`)));
    child.stdout.once('data', () => resolve());
  });
  const client = connectCsi(`unix://${socket}`);
  return {
    client,
    stop() {
      client.close();
      child.kill('SIGKILL');
    },
  };
}

/** One CreateVolume and DeleteVolume of a fresh 1 GiB volume, as the rpc bench makes them. */
export async function createThenDelete(client: CsiClient, name: string): Promise<void> {
  const { volume } = await client.controller.CreateVolume({
    name,
    volume_capabilities: [mountCap],
    capacity_range: { required_bytes: '1073741824', limit_bytes: '0' },
  });
  await client.controller.DeleteVolume({ volume_id: volume!.volume_id });
}

/** createThenDelete against `client`, `calls` times at each concurrency after a warm-up; per-call times. */
export async function timeCreateDelete(client: CsiClient, prefix: string, calls: number, concurrency: number): Promise<number[]> {
  await timedCalls(Math.min(50, calls), concurrency, (i) => createThenDelete(client, `${prefix}-w${concurrency}-${i}`));
  return timedCalls(calls, concurrency, (i) => createThenDelete(client, `${prefix}-${concurrency}-${i}`));
}
