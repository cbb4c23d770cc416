/**
 * Bounds of the runtime settings a DigitModel can set (SPEC §2 `spec.inference`, §3 environment).
 * One source for both sides: runtime/config.ts parses the environment with them, and the
 * operator's CRD generator (operator/api/definition/) writes them into the CRD schema, so the
 * apiserver admits exactly the values the runtime accepts. Plain data, no imports: the runtime
 * image and the operator image both carry this module.
 */

/** MC_SAMPLES / spec.inference.samples: Monte-Carlo-dropout forward samples T per image. */
export const SAMPLES = { min: 1, max: 256 } as const;

/** MAX_BATCH_SIZE / spec.inference.maxBatchSize: images per engine batch. */
export const MAX_BATCH_SIZE = { min: 1, max: 1024 } as const;

/** BATCH_TIMEOUT_MS / spec.inference.batchTimeoutMs: how long the batcher waits to fill a batch. */
export const BATCH_TIMEOUT_MS = { min: 0, max: 10_000 } as const;

/** RELIABILITY_THRESHOLD / spec.inference.reliabilityThreshold: confidence below it is reliable=false. */
export const RELIABILITY_THRESHOLD = { min: 0, max: 1 } as const;

/** MODEL_SHA256 / spec.model.sha256: a SHA-256 digest as 64 lowercase hex digits (as sha256sum prints it). */
export const SHA256_HEX_PATTERN = '^[0-9a-f]{64}$';
