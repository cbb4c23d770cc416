import type { ServedModel } from '../config.js';
import type { RuntimeMetrics } from '../metrics/runtime-metrics.js';
import type { Logger } from '../logger.js';
import type { Predictor } from './predictor.js';

/** What the HTTP layer needs from the rest of the runtime. */
export interface ServerDeps {
  model: ServedModel;
  predictor: Predictor;
  metrics: RuntimeMetrics;
  log: Logger;
  limits: { maxBodyBytes: number; maxImagesPerRequest: number; maxInputPixels: number; maxBatchSize: number; maxQueue: number; requestTimeoutMs: number };
  /** Throws not_ready / draining unless predictions are accepted now. */
  ensureReady(): void;
  ready(): boolean;
  live(): boolean;
  /** Model metadata for GET /v1/models/{name} and the OIP model metadata. */
  describe(): Record<string, unknown>;
  backend: string;
}
