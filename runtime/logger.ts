import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

/** The runtime's one structured logger: JSON lines on stdout, child loggers carry the request id. */
export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  const options = {
    level,
    base: { service: 'digitserve-runtime' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  // pino's default destination writes synchronously: nothing is lost when the process exits
  return destination ? pino(options, destination) : pino(options);
}
