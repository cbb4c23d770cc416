import type { Logger } from 'pino';
import sharp from 'sharp';
import { Batcher } from '../batcher.js';
import { resolveServedModel, type RuntimeConfig, type ServedModel } from '../config.js';
import { EngineClient, type EngineInfo, type ImagePrediction } from '../engine/engine-client.js';
import { RuntimeMetrics } from '../metrics/runtime-metrics.js';
import { preprocessImage } from '../preprocess/index.js';

/** What the routes serve once the model is loaded: the engine behind the shared batcher, and the metrics. */
export interface ModelService {
  served: ServedModel;
  info: EngineInfo;
  batcher: Batcher<ImagePrediction>;
  metrics: RuntimeMetrics;
  engine: EngineClient;
}

/** Starts the engine worker (load + warm-up) and wires the batcher and metrics to it. */
export async function startModelService(cfg: RuntimeConfig, modelUri: string, logger: Logger): Promise<ModelService> {
  const engine = await EngineClient.start({ modelUri, logger: logger.child({ component: 'engine' }) });
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
  await warmPath(engine, served.samples, cfg.maxInputPixels);
  return { served, info: engine.info, batcher, metrics, engine };
}

/**
 * One encoded image through decoding, preprocessing and the engine at the served T before
 * readiness: the first real request must not pay for loading libvips or compiling the JS.
 */
async function warmPath(engine: EngineClient, samples: number, maxInputPixels: number): Promise<void> {
  const raw = Buffer.alloc(64 * 64, 255);
  for (let y = 12; y < 52; y++) for (let x = 29; x < 35; x++) raw[y * 64 + x] = 0;
  for (const format of ['png', 'jpeg'] as const) {
    const bytes = await sharp(raw, { raw: { width: 64, height: 64, channels: 1 } }).toFormat(format).toBuffer();
    const { pixels } = await preprocessImage(bytes, { maxInputPixels });
    await engine.predict(pixels, 1, samples);
  }
}
