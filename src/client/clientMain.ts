import { connectCsiCall } from './csiCall';
import { buildClientCli } from './csiClientCli';

/** The csi-client program: one CSI call per run, its response as JSON on stdout. */
export async function clientMain(argv: string[]): Promise<void> {
  // Output piped into `head` and closed early is no error of the call.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  const opened: Array<{ close(): void }> = [];
  const cli = buildClientCli(
    (endpoint) => {
      const c = connectCsiCall(endpoint, 60_000);
      opened.push(c);
      return c.call;
    },
    (res) => process.stdout.write(`${JSON.stringify(res, null, 2)}\n`),
  );
  try {
    await cli.parseAsync(argv);
  } finally {
    for (const c of opened) c.close();
  }
}
