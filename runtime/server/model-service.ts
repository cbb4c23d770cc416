import type { Logger } from 'pino';
import { Batcher } from '../batcher.js';
import { resolveServedModel, type RuntimeConfig, type ServedModel } from '../config.js';
import { EngineClient, type EngineInfo, type ImagePrediction } from '../engine/engine-client.js';
import { RuntimeMetrics } from '../metrics/runtime-metrics.js';

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
  return { served, info: engine.info, batcher, metrics, engine };
}
