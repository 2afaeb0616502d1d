import type { Logger } from 'pino';

/**
 * Runs start-up work that may fail for a while (the share not yet reachable) until it succeeds,
 * backing off from 1 s to 30 s. Resolves after the first attempt either way, so start-up goes on;
 * `done` is called once an attempt succeeds (until then Probe answers not ready).
 */
export function retryUntilDone(
  work: () => Promise<void>,
  done: () => void,
  logger: Logger,
  what: string,
  stopped: () => boolean,
): Promise<void> {
  let delayMs = 1_000;
  const attempt = (): Promise<void> =>
    work().then(done, (err: Error) => {
      logger.error({ err: err.message, retryInMs: delayMs }, `${what} failed; trying again`);
      const timer = setTimeout(() => {
        if (!stopped()) void attempt();
      }, delayMs);
      timer.unref();
      delayMs = Math.min(delayMs * 2, 30_000);
    });
  return attempt();
}
