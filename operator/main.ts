import { ConfigError, parseConfig } from './config.js';
import { createLogger } from './logger.js';
import { startManager } from './manager.js';

// Entry point (`npm run operator`): wiring and signal handling only.
let config;
try {
  config = parseConfig(process.argv.slice(2), process.env);
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(`digitserve-operator: ${err.message}`);
    process.exit(2);
  }
  throw err;
}
const log = createLogger(config.logLevel);
const manager = await startManager({ config, log, processMetrics: true });

let shuttingDown = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (shuttingDown) return;
    shuttingDown = true;
    log.info({ signal }, 'shutting down');
    manager.stop({ release: true }).then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err: String(err) }, 'unclean shutdown');
        process.exit(1);
      },
    );
  });
}
