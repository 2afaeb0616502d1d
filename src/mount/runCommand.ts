import { spawn } from 'node:child_process';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  timeoutMs: number;
  /** Extra environment; the driver's own environment is passed as well. */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Ends the command early (its whole process group), as if its deadline had come. */
  signal?: AbortSignal;
}

/** A command that overstayed its deadline and was SIGKILLed. */
export class CommandTimeoutError extends Error {
  constructor(
    readonly command: string,
    readonly timeoutMs: number,
  ) {
    super(`${command} did not finish within ${timeoutMs}ms`);
    this.name = 'CommandTimeoutError';
  }
}

/** A command that exited non-zero; `stderr` holds its last words. */
export class CommandFailedError extends Error {
  constructor(
    readonly command: string,
    readonly result: CommandResult,
  ) {
    super(`${command} exited ${result.code}: ${result.stderr.trim().slice(-300) || result.stdout.trim().slice(-300)}`);
    this.name = 'CommandFailedError';
  }
}

/** Runs an external command without a shell. */
export type CommandRunner = (cmd: string, args: string[], opts: RunOptions) => Promise<CommandResult>;

const maxOutput = 64 * 1024;

/** SIGKILLs the process group led by `pid`; falls back to the process alone. */
function killGroup(pid: number | undefined, fallback: () => void): void {
  try {
    if (pid === undefined) throw new Error('no pid');
    process.kill(-pid, 'SIGKILL');
  } catch {
    fallback();
  }
}

/**
 * Runs a command with a hard deadline: past it the process is SIGKILLed (mount and umount on a
 * dead NFS server can wait forever otherwise). Resolves with the exit code; never throws for a
 * non-zero exit.
 */
export const runCommand: CommandRunner = (cmd, args, opts) =>
  new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: opts.env ? { ...process.env, ...opts.env } : process.env,
      cwd: opts.cwd ?? '/',
      // Its own process group, so that the deadline kills what it started too (mount.nfs, gzip).
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      if (stdout.length < maxOutput) stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      if (stderr.length < maxOutput) stderr += d.toString();
    });
    let timedOut = false;
    const kill = (): void => {
      timedOut = true;
      killGroup(child.pid, () => child.kill('SIGKILL'));
    };
    const timer = setTimeout(kill, opts.timeoutMs);
    if (opts.signal?.aborted) kill();
    opts.signal?.addEventListener('abort', kill, { once: true });
    child.on('error', (err) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', kill);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', kill);
      // The leader is gone; whatever it left running in its group goes with it.
      if (timedOut) killGroup(child.pid, () => undefined);
      const line = [cmd, ...args].join(' ');
      if (timedOut) reject(new CommandTimeoutError(line, opts.timeoutMs));
      else resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    });
  });

/** Runs a command and throws CommandFailedError on a non-zero exit. */
export async function runChecked(runner: CommandRunner, cmd: string, args: string[], opts: RunOptions): Promise<CommandResult> {
  const res = await runner(cmd, args, opts);
  if (res.code !== 0) throw new CommandFailedError([cmd, ...args].join(' '), res);
  return res;
}
