import type { Logger } from 'pino';
import sharp from 'sharp';
import { resolveServedModel, type RuntimeConfig, type ServedModel } from '../config.js';
import type { EngineInfo, ImagePrediction } from '../engine/engine-client.js';
import { EnginePool } from '../engine/engine-pool.js';
import { enginePlan } from '../cpu-quota.js';
import { RuntimeMetrics } from '../metrics/runtime-metrics.js';
import { Batcher } from './batcher.js';
import type { ImageInput } from './inputs.js';
import { Mirror } from './mirror.js';
import { predictImages, type Prediction, type PredictOptions } from './predict.js';
import { libvipsCache, PreprocessPool, preprocessor, type Preprocess } from './preprocess-pool.js';

/**
 * The application layer once the model is loaded: the engine behind the shared batcher, the
 * preprocessing pool and the metrics. Protocol-free: the HTTP edge (runtime/server/) and any
 * other edge call `predict` with the images they parsed.
 */
export interface ModelService {
  served: ServedModel;
  info: EngineInfo;
  batcher: Batcher<ImagePrediction>;
  metrics: RuntimeMetrics;
  /** The engine workers (ENGINE_WORKERS). */
  engine: EnginePool;
  /** Image bytes → MNIST form, in the preprocessing pool. */
  preprocess: Preprocess;
  /** The images of one request → predictions in the same order, within `timeoutMs` (see predictImages). */
  predict(inputs: ImageInput[], timeoutMs: number, opts?: PredictOptions): Promise<Prediction[]>;
  /** Mirroring to the other track (MIRROR_URL, MIRROR_PERCENT > 0), else undefined. */
  mirror?: Mirror;
  /** Stops the engine and the preprocessing workers. */
  close(): Promise<void>;
}

/**
 * Native TensorFlow sizes its thread pools from the host's cores, once per worker. The variables
 * it reads (process-wide, read when a worker's TensorFlow context starts) are set from the plan
 * unless the operator set them.
 */
function boundNativeThreads(intraOpThreads: number): void {
  process.env.TF_NUM_INTRAOP_THREADS ||= String(intraOpThreads);
  process.env.TF_NUM_INTEROP_THREADS ||= '1';
}

/**
 * Starts the engine workers (load + warm-up) and wires the batcher and metrics to them. Without
 * ENGINE_WORKERS the count follows the backend (cpu-quota.ts enginePlan): one worker starts with
 * the native plan; if its backend is not native TensorFlow, the pool grows to one per CPU.
 */
export async function startModelService(cfg: RuntimeConfig, modelUri: string, logger: Logger): Promise<ModelService> {
  const native = enginePlan(cfg.cpus, true, cfg.engineWorkers);
  boundNativeThreads(native.intraOpThreads);
  const engine = await EnginePool.start({
    workers: native.engineWorkers,
    modelUri,
    backend: cfg.backend,
    modelAuthHeader: cfg.modelAuthHeader,
    modelSha256: cfg.modelSha256,
    logger: logger.child({ component: 'engine' }),
    resourceLimits: { maxOldGenerationSizeMb: cfg.engineWorkerHeapMb },
  });
  let served: ServedModel;
  try {
    if (cfg.engineWorkers === undefined && engine.info.backend !== 'tensorflow') await engine.grow(enginePlan(cfg.cpus, false).engineWorkers);
    served = resolveServedModel(cfg, engine.info.metadata, engine.info.uncertainty);
  } catch (e) {
    await engine.close();
    throw e;
  }
  const metrics = new RuntimeMetrics({ model: served.name, version: served.version, track: served.track });
  metrics.observeEngine(engine);
  const batcher = new Batcher<ImagePrediction>({
    infer: (pixels, n) => engine.predict(pixels, n, served.samples, served.reliabilityThreshold),
    maxBatchSize: cfg.maxBatchSize,
    batchTimeoutMs: cfg.batchTimeoutMs,
    maxQueue: cfg.maxQueue,
    // one batch per worker in inference: the pool hands each to an idle worker
    maxInFlight: engine.size,
    onDepth: (d) => metrics.queueDepth(d),
    onBatch: (images, seconds) => metrics.batch(images, seconds),
    maxRetryAfterSeconds: Math.ceil(cfg.requestTimeoutMs / 1000),
  });
  // libvips threads from the CPU quota (process-wide; the pool's workers set it again after loading sharp)
  sharp.concurrency(cfg.libvipsThreads);
  sharp.cache(libvipsCache(cfg.libvipsCacheMb));
  const pool = cfg.preprocessWorkers > 0 ? new PreprocessPool(cfg.preprocessWorkers, logger, { libvipsThreads: cfg.libvipsThreads, libvipsCacheMb: cfg.libvipsCacheMb }) : undefined;
  // warm-up goes through the same path, uncounted
  const capacity = await warmPath(engine, preprocessor(pool), served, cfg, Math.max(1, pool?.size ?? 1));
  // per worker; the batcher scales the service rate by the batches it keeps in flight
  batcher.observeCapacity(capacity.images, capacity.seconds);
  pool?.observe((o) => metrics.preprocess(o));
  const preprocess = preprocessor(pool, (o) => metrics.preprocess(o));
  const deps = { batcher, metrics, preprocess, maxInputPixels: cfg.maxInputPixels };
  const close = async () => {
    await engine.close();
    await pool?.close();
  };
  const mirror =
    cfg.mirrorUrl && cfg.mirrorPercent > 0
      ? new Mirror({ url: cfg.mirrorUrl, percent: cfg.mirrorPercent, timeoutMs: cfg.mirrorTimeoutMs, onResult: (r) => metrics.mirror(r.outcome, r.disagreed), logger: logger.child({ component: 'mirror' }) })
      : undefined;
  return { served, info: engine.info, batcher, metrics, engine, preprocess, predict: (inputs, timeoutMs, opts) => predictImages(deps, inputs, timeoutMs, opts), mirror, close };
}

/**
 * One encoded image through decoding, preprocessing and the engine at the served T before
 * readiness: the first real request must not pay for loading libvips or compiling the JS. Then one
 * full batch, timed: the engine's capacity before any traffic (the Retry-After estimate's seed).
 */
async function warmPath(engine: EnginePool, preprocess: Preprocess, served: ServedModel, cfg: RuntimeConfig, workers: number): Promise<{ images: number; seconds: number }> {
  const raw = Buffer.alloc(64 * 64, 255);
  for (let y = 12; y < 52; y++) for (let x = 29; x < 35; x++) raw[y * 64 + x] = 0;
  let digit = new Float32Array(0);
  for (const format of ['png', 'jpeg'] as const) {
    const bytes = await sharp(raw, { raw: { width: 64, height: 64, channels: 1 } }).toFormat(format).toBuffer();
    // as many at once as there are workers, so each of them has loaded libvips and compiled the steps
    const done = await Promise.all(Array.from({ length: workers }, () => preprocess(bytes, { maxInputPixels: cfg.maxInputPixels })));
    digit = done[0].pixels.slice();
    await engine.predict(done[0].pixels, 1, served.samples, served.reliabilityThreshold);
  }
  const n = Math.min(cfg.maxBatchSize, 64); // enough for the rate; a 1024-image batch at T = 256 would delay readiness
  const batch = new Float32Array(n * digit.length);
  for (let i = 0; i < n; i++) batch.set(digit, i * digit.length);
  const t0 = performance.now();
  await engine.predict(batch, n, served.samples, served.reliabilityThreshold);
  return { images: n, seconds: (performance.now() - t0) / 1000 };
}
