import type { Logger } from 'pino';
import sharp from 'sharp';
import { Batcher } from '../batcher.js';
import { resolveServedModel, type RuntimeConfig, type ServedModel } from '../config.js';
import { EngineClient, type EngineInfo, type ImagePrediction } from '../engine/engine-client.js';
import { RuntimeMetrics } from '../metrics/runtime-metrics.js';
import { PreprocessPool, preprocessor, type Preprocess } from './preprocess-pool.js';

/** What the routes serve once the model is loaded: the engine behind the shared batcher, and the metrics. */
export interface ModelService {
  served: ServedModel;
  info: EngineInfo;
  batcher: Batcher<ImagePrediction>;
  metrics: RuntimeMetrics;
  engine: EngineClient;
  /** Image bytes → MNIST form, in the preprocessing pool. */
  preprocess: Preprocess;
  /** Stops the engine and the preprocessing workers. */
  close(): Promise<void>;
}

/** Starts the engine worker (load + warm-up) and wires the batcher and metrics to it. */
export async function startModelService(cfg: RuntimeConfig, modelUri: string, logger: Logger): Promise<ModelService> {
  const engine = await EngineClient.start({ modelUri, backend: cfg.backend, logger: logger.child({ component: 'engine' }) });
  const served = resolveServedModel(cfg, engine.info.metadata);
  const metrics = new RuntimeMetrics({ model: served.name, version: served.version, track: served.track });
  const batcher = new Batcher<ImagePrediction>({
    infer: (pixels, n) => engine.predict(pixels, n, served.samples),
    maxBatchSize: cfg.maxBatchSize,
    batchTimeoutMs: cfg.batchTimeoutMs,
    maxQueue: cfg.maxQueue,
    onDepth: (d) => metrics.queueDepth(d),
    onBatch: (images, seconds) => metrics.batch(images, seconds),
  });
  const pool = cfg.preprocessWorkers > 0 ? new PreprocessPool(cfg.preprocessWorkers, logger) : undefined;
  const preprocess = preprocessor(pool);
  await warmPath(engine, preprocess, served.samples, cfg.maxInputPixels, Math.max(1, pool?.size ?? 1));
  const close = async () => {
    await engine.close();
    await pool?.close();
  };
  return { served, info: engine.info, batcher, metrics, engine, preprocess, close };
}

/**
 * One encoded image through decoding, preprocessing and the engine at the served T before
 * readiness: the first real request must not pay for loading libvips or compiling the JS.
 */
async function warmPath(engine: EngineClient, preprocess: Preprocess, samples: number, maxInputPixels: number, workers: number): Promise<void> {
  const raw = Buffer.alloc(64 * 64, 255);
  for (let y = 12; y < 52; y++) for (let x = 29; x < 35; x++) raw[y * 64 + x] = 0;
  for (const format of ['png', 'jpeg'] as const) {
    const bytes = await sharp(raw, { raw: { width: 64, height: 64, channels: 1 } }).toFormat(format).toBuffer();
    // as many at once as there are workers, so each of them has loaded libvips and compiled the steps
    const done = await Promise.all(Array.from({ length: workers }, () => preprocess(bytes, { maxInputPixels })));
    await engine.predict(done[0].pixels, 1, samples);
  }
}
