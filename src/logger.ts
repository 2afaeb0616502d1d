import pino, { type Logger } from 'pino';

/** The process logger: JSON lines on stderr, secrets redacted wherever they appear. */
export function createLogger(level: string): Logger {
  return pino(
    {
      level,
      base: { component: 'csi-driver' },
      redact: { paths: ['secrets', '*.secrets', '*.*.secrets', 'request.secrets'], censor: '[REDACTED]' },
    },
    pino.destination(2),
  );
}
