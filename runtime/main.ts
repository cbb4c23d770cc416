// The runtime's entry point: wiring only. Configuration → engine (worker thread) → batcher →
// HTTP API on PORT and /metrics on METRICS_PORT; SIGTERM drains and exits.
import http from 'node:http';
import { Batcher } from './batcher.js';
import { ConfigError, parseConfig, resolveModelUri, resolveServedModel, type RuntimeConfig } from './config.js';
import { EngineClient } from './engine/engine-client.js';
import type { ImagePrediction } from './engine/types.js';
import { RuntimeError } from './errors.js';
import { Lifecycle } from './lifecycle.js';
import { createLogger } from './logger.js';
import { startMetricsServer } from './metrics/metrics-server.js';
import { RuntimeMetrics } from './metrics/runtime-metrics.js';
import { createApp } from './server/app.js';
import { Predictor } from './server/predictor.js';

let cfg: RuntimeConfig;
try {
  cfg = parseConfig(process.env);
} catch (e) {
  if (!(e instanceof ConfigError)) throw e;
  process.stderr.write(`digitserve runtime: ${e.message}\n`);
  process.exit(2);
}
const log = createLogger(cfg.logLevel);
const life = new Lifecycle();

const modelUri = await resolveModelUri(cfg);
log.info({ modelUri }, 'loading model');
const engine = await EngineClient.start({ modelUri, logger: log });
const model = resolveServedModel(cfg, engine.info.metadata);
const metrics = new RuntimeMetrics({ model: model.name, version: model.version, track: model.track });
const batcher = new Batcher<ImagePrediction>({
  infer: (pixels, n) => engine.predict(pixels, n, model.samples),
  maxBatchSize: cfg.maxBatchSize,
  batchTimeoutMs: cfg.batchTimeoutMs,
  maxQueue: cfg.maxQueue,
  onDepth: (images) => metrics.queueDepth(images),
  onBatch: (images, seconds) => metrics.batch(images, seconds),
});
const limits = {
  maxBodyBytes: cfg.maxBodyBytes,
  maxImagesPerRequest: cfg.maxImagesPerRequest,
  maxInputPixels: cfg.maxInputPixels,
  maxBatchSize: cfg.maxBatchSize,
  maxQueue: cfg.maxQueue,
  requestTimeoutMs: cfg.requestTimeoutMs,
};
const predictor = new Predictor({ model, batcher, metrics, maxInputPixels: cfg.maxInputPixels, requestTimeoutMs: cfg.requestTimeoutMs });
const meta = engine.info.metadata;
const app = createApp({
  model,
  predictor,
  metrics,
  log,
  limits,
  backend: engine.info.backend,
  ready: () => life.ready(),
  live: () => life.live(),
  ensureReady: () => {
    if (life.current === 'draining') throw new RuntimeError('draining', 'the server is shutting down; retry on another replica');
    if (!life.ready()) throw new RuntimeError('not_ready', 'the model is not loaded yet; retry shortly');
  },
  describe: () => ({
    labels: meta.labels,
    input: meta.input,
    samples: model.samples,
    reliabilityThreshold: model.reliabilityThreshold,
    backend: engine.info.backend,
    limits,
    training: meta.training,
    evaluation: meta.evaluation,
  }),
});

const server = http.createServer(app.callback());
server.requestTimeout = cfg.requestTimeoutMs + 30_000;
await new Promise<void>((resolve) => server.listen(cfg.port, resolve));
const metricsServer = await startMetricsServer(metrics.registry, cfg.metricsPort);
life.markReady();
log.info({ port: cfg.port, metricsPort: cfg.metricsPort, model, backend: engine.info.backend }, 'ready');

async function shutdown(signal: string): Promise<void> {
  if (!life.beginDrain()) return;
  log.info({ signal }, 'draining: readiness is false, finishing queued and in-flight requests');
  const force = setTimeout(() => {
    log.error('drain timed out; exiting');
    process.exit(1);
  }, cfg.shutdownTimeoutMs);
  force.unref();
  if (cfg.shutdownDelayMs > 0) await new Promise((r) => setTimeout(r, cfg.shutdownDelayMs));
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
  batcher.close();
  await batcher.idle();
  await engine.close();
  await new Promise<void>((resolve) => metricsServer.close(() => resolve()));
  life.markStopped();
  log.info('stopped');
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
