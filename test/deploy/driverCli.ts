import { spawnSync } from 'node:child_process';
import { buildCli } from '../../src/cli';
import { buildConfig, type Config, type RawOptions } from '../../src/config';
import { driverBin } from '../helpers/driverProcess';

let helpText: string | undefined;

/** `bin/csi-driver --help`, whitespace collapsed (commander wraps long lines). */
export function driverHelp(): string {
  if (helpText === undefined) {
    const r = spawnSync(process.execPath, [driverBin, '--help'], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`csi-driver --help failed: ${r.stderr}`);
    helpText = r.stdout.replace(/\s+/g, ' ');
  }
  return helpText;
}

/** Long flags listed by --help, without the dashes. */
export function helpFlags(): Set<string> {
  return new Set([...driverHelp().matchAll(/(?:^|\s)--([a-z][a-z0-9-]*)/g)].map((m) => m[1] as string));
}

/** Environment variables listed by --help. */
export function helpEnvVars(): Set<string> {
  return new Set([...driverHelp().matchAll(/env: ([A-Z][A-Z0-9_]*)/g)].map((m) => m[1] as string));
}

/** Long flag names used in an argument list. */
export function flagsIn(args: readonly string[]): string[] {
  return args.filter((a) => a.startsWith('--')).map((a) => a.slice(2).split('=')[0] as string);
}

/**
 * Parses args and environment exactly as the driver does at start (commander, then
 * buildConfig's validation), without starting anything. Throws the driver's own message.
 */
export function driverConfig(args: readonly string[], env: Record<string, string>): Config {
  const keys = new Set([...helpEnvVars(), ...Object.keys(env)]);
  const saved = new Map([...keys].map((k) => [k, process.env[k]]));
  for (const k of keys) delete process.env[k];
  Object.assign(process.env, env);
  try {
    const cmd = buildCli('0.0.0').exitOverride().configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
    cmd.parse(['node', 'csi-driver', ...args]);
    return buildConfig(cmd.opts<RawOptions>(), '/');
  } finally {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}
