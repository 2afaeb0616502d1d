import { fork, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';

/** Event-loop lag over one window, in ms, as prom-client records it (its timer's period included). */
export interface LagFigures {
  p99Ms: number;
  maxMs: number;
}

/**
 * An idle node process beside the driver that measures its own event-loop lag the way the
 * driver's prom-client does. It does nothing else, so its lag is what the machine alone costs
 * any process at that moment (CPUs taken by helpers, commands, daemons, the kernel): the floor
 * under the driver's figure.
 */
export class LagCanary {
  private readonly child: ChildProcess;
  private readonly ready: Promise<void>;

  constructor() {
    this.child = fork(path.join(__dirname, 'lagCanaryMain.js'), [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    this.ready = new Promise((resolve) => this.child.once('message', () => resolve()));
  }

  /** Lag since the last window (or the start), and starts a new window. */
  async window(): Promise<LagFigures> {
    await this.ready;
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('the lag canary did not answer')), 10_000);
      this.child.once('message', (m: LagFigures) => {
        clearTimeout(t);
        resolve(m);
      });
      this.child.send('window');
    });
  }

  stop(): void {
    this.child.kill('SIGKILL');
  }
}
