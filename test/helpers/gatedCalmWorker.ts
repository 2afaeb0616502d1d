/**
 * The calm-probe thread (probeWorkerMain) held back at two gates, as a slow or starved machine
 * holds it: it does not finish loading until the file `start` exists in $CALM_GATE_DIR, and it
 * does not look at a round until the file `round` exists there. The gates block the thread
 * itself (a synchronous wait), exactly as a slow start or a stall does.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { parentPort } from 'node:worker_threads';

const gateDir = process.env.CALM_GATE_DIR ?? '/nonexistent';
const pause = new Int32Array(new SharedArrayBuffer(4));

function waitFor(gate: string): void {
  while (!existsSync(path.join(gateDir, gate))) Atomics.wait(pause, 0, 0, 20);
}

waitFor('start');
// Registered before the real thread's listener, so it runs first on every round.
parentPort?.on('message', () => waitFor('round'));
void import('../../src/isolation/probeWorkerMain');
