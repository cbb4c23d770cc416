/** Metric names and buckets that are part of the contract (SPEC §3): imported, never retyped. */
export const METRIC = {
  requests: 'digitserve_requests_total',
  requestDuration: 'digitserve_request_duration_seconds',
  queueDepth: 'digitserve_queue_depth',
  latencyP95: 'digitserve_request_latency_p95_seconds',
  batchSize: 'digitserve_batch_size',
  inferenceDuration: 'digitserve_inference_duration_seconds',
  predictions: 'digitserve_predictions_total',
  confidence: 'digitserve_confidence',
  unreliable: 'digitserve_unreliable_total',
  preprocess: 'digitserve_preprocess_total',
  mirrorRequests: 'digitserve_mirror_requests_total',
  mirrorDisagreements: 'digitserve_mirror_disagreements_total',
  engineWorkers: 'digitserve_engine_workers',
  engineWorkerMemory: 'digitserve_engine_worker_memory_bytes',
  engineWorkerReplacements: 'digitserve_engine_worker_replacements',
} as const;

/** Labels every series carries. */
export const COMMON_LABELS = ['model', 'version', 'track'] as const;

/** Include the SPEC's 0.005 … 5 so the 2 s objective is measurable. */
export const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10];
export const BATCH_SIZE_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];
export const CONFIDENCE_BUCKETS = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1];

/** Window of the time-averaged queue depth and of the p95 latency gauge. */
export const QUEUE_DEPTH_WINDOW_MS = 30_000;
export const LATENCY_WINDOW_MS = 60_000;
