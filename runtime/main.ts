// The runtime's entry point (`npm start`): wiring only. Environment → config → the API on PORT
// (liveness at once), the model in a worker thread, /metrics on METRICS_PORT; SIGTERM drains.
import { ConfigError, parseConfig, type RuntimeConfig } from './config.js';
import { startRuntime } from './lifecycle-start.js';
import { createLogger } from './logger.js';
import { writeTerminationMessage } from './termination.js';

let cfg: RuntimeConfig;
try {
  cfg = parseConfig(process.env);
} catch (e) {
  if (!(e instanceof ConfigError)) throw e;
  process.stderr.write(`digitserve runtime: ${e.message}\n`);
  writeTerminationMessage(e.message);
  process.exit(2);
}
const logger = createLogger(cfg.logLevel);

const runtime = await startRuntime(cfg, logger).catch((e: Error) => {
  logger.fatal({ err: e, port: cfg.port }, 'cannot listen');
  process.exit(1);
});
// a model that cannot be loaded, or that contradicts MODEL_VERSION / MC_SAMPLES: refuse to serve,
// with the reason in the termination message (the operator surfaces it in the Degraded condition)
runtime.ready.catch((e: Error) => {
  logger.fatal({ err: e, terminationMessage: writeTerminationMessage(`the model could not be served: ${e.message}`) }, 'the model could not be served');
  process.exit(1);
});

function onSignal(signal: NodeJS.Signals): void {
  const force = setTimeout(() => {
    logger.error({ signal, timeoutMs: cfg.shutdownTimeoutMs }, 'drain did not finish within SHUTDOWN_TIMEOUT_MS; exiting');
    process.exit(1);
  }, cfg.shutdownTimeoutMs);
  force.unref();
  runtime.shutdown(signal).then(
    () => process.exit(0),
    (e: Error) => {
      logger.error({ err: e }, 'shutdown failed');
      process.exit(1);
    },
  );
}
process.on('SIGTERM', onSignal);
process.on('SIGINT', onSignal);
