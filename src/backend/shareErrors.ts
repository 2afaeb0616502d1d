import { CommandFailedError, type CommandResult } from '../mount/runCommand';

/** The share has no room (ENOSPC) or the quota is used up (EDQUOT) for what `op` had to write. */
export class ShareFullError extends Error {
  constructor(
    readonly op: string,
    readonly code: 'ENOSPC' | 'EDQUOT',
  ) {
    super(`no space left on the share during ${op} (${code})`);
    this.name = 'ShareFullError';
  }
}

/**
 * The volume's content changed under an archive in a way that made an entry unreadable (a
 * directory turned into a symlink between tar's look and its no-follow open): nothing was read
 * outside the volume, and a retry will do.
 */
export class VolumeContentChangedError extends Error {
  constructor(
    readonly op: string,
    readonly detail: string,
  ) {
    super(`the volume's content changed while ${op} read it (${detail}); retry`);
    this.name = 'VolumeContentChangedError';
  }
}

/** What tar (and its gzip) say when an entry changed between a look and a read. */
const raceLine =
  /^tar: .*: (?:(?:Cannot (?:open|savedir|stat|readlink|read|opendir)|Read error at byte \d+, while reading \d+ bytes): (?:Too many levels of symbolic links|Not a directory|No such file or directory|Invalid argument)|file changed as we read it|File removed before we read it|File shrank by \d+ bytes; padding with zeros)$/;
const ignoredLine = /^tar: (?:Exiting with failure status due to previous errors|\.: file changed as we read it)$/;

/**
 * The typed error of a failed tar run: a full share; when tar read a live volume, a volume that
 * changed under it (every complaint is of that kind); or else the command's own failure.
 */
export function tarFailure(op: string, command: string, res: CommandResult, readLiveVolume: boolean): Error {
  // A short write to a regular file ("Wrote only 3072 of 10240 bytes") is how the kernel says the space ran out mid-write.
  if (/No space left on device|: Wrote only \d+ of \d+ bytes/.test(res.stderr)) return new ShareFullError(op, 'ENOSPC');
  if (/Disk quota exceeded/.test(res.stderr)) return new ShareFullError(op, 'EDQUOT');
  if (!readLiveVolume) return new CommandFailedError(command, res);
  const lines = res.stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !ignoredLine.test(l));
  if (lines.length > 0 && lines.every((l) => raceLine.test(l))) return new VolumeContentChangedError(op, lines[0]!.slice(0, 200));
  return new CommandFailedError(command, res);
}
