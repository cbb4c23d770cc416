import { pino, type Logger } from 'pino';

/** The operator's one JSON-lines logger; reconcile lines carry namespace and name via child loggers. */
export function createLogger(level: string): Logger {
  return pino({ level, base: { component: 'digitserve-operator' }, timestamp: pino.stdTimeFunctions.isoTime });
}
