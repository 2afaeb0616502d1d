import type { Logger } from 'pino';
import type { IsolatedFs } from '../isolation/isolatedFs';
import type { MountTableReader } from '../mount/mountTable';
import type { Clock } from './clock';
import type { HealthIssue } from './healthIssue';
import type { MountHealth, MountState } from './mountHealth';
import type { StorageIssue } from './nodeHealthView';

export interface HealthMonitorOptions {
  isolation: Pick<IsolatedFs, 'probeRound'>;
  readTable: MountTableReader;
  clock: Clock;
  logger: Logger;
  intervalMs: number;
  timeoutMs: number;
  failureThreshold: number;
  successThreshold: number;
  /** Most probe rounds (each one helper process) running at once. */
  concurrency: number;
  /** Most mounts in one round. */
  maxRoundSize?: number;
  /** Checks the share as seen from this node; run once per interval. */
  checkStorage?: () => Promise<StorageIssue[]>;
  /** Issues and probe latency set through the fault-injection API. */
  faults?: { issuesFor(volumeId: string): HealthIssue[]; probeDelayMs(volumeId: string): number };
  observer?: MonitorObserver;
}

/** Told of every finished probe, for metrics. */
export interface MonitorObserver {
  probeDone(m: Readonly<MountHealth>, seconds: number, issue: HealthIssue | undefined): void;
  stateChanged(m: Readonly<MountHealth>, from: MountState): void;
}
