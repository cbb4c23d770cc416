import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { BATCH_TIMEOUT_MS, MAX_BATCH_SIZE, RELIABILITY_THRESHOLD, SAMPLES } from './limits.js';
import { newestVersion } from './model/store.js';
import { PACKAGE_ROOT } from './package-root.js';

/**
 * The runtime's configuration: environment → typed object, validated once at start-up (SPEC §3).
 * Inference settings left unset stay undefined here and fall back to the model's metadata.json
 * (see `resolveInference`), because the calibrated threshold belongs to the model and its T.
 */

export const DEFAULT_MODEL_DIR = path.join(PACKAGE_ROOT, 'models', 'mnist-cnn') + path.sep;

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const optionalInt = (min: number, max: number) => int(min, max).optional();

const envSchema = z.object({
  PORT: int(0, 65535).default(8080),
  METRICS_PORT: int(0, 65535).default(9090),
  MODEL_URI: z.string().min(1).optional(),
  MODEL_NAME: z
    .string()
    .regex(/^[a-z0-9]([a-z0-9._-]{0,251}[a-z0-9])?$/i, 'letters, digits, ".", "_" or "-", starting and ending with a letter or digit')
    .default('mnist-cnn'),
  MODEL_VERSION: z.string().min(1).max(128).optional(),
  MODEL_TRACK: z.enum(['stable', 'canary']).default('stable'),
  MC_SAMPLES: optionalInt(SAMPLES.min, SAMPLES.max),
  MAX_BATCH_SIZE: int(MAX_BATCH_SIZE.min, MAX_BATCH_SIZE.max).default(16),
  BATCH_TIMEOUT_MS: int(BATCH_TIMEOUT_MS.min, BATCH_TIMEOUT_MS.max).default(2),
  MAX_QUEUE: int(1, 1_000_000).default(512),
  MAX_IMAGES_PER_REQUEST: int(1, 10_000).default(64),
  REQUEST_TIMEOUT_MS: int(1, 3_600_000).default(10_000),
  RELIABILITY_THRESHOLD: z.coerce.number().min(RELIABILITY_THRESHOLD.min).max(RELIABILITY_THRESHOLD.max).optional(),
  MAX_BODY_BYTES: int(1, 1 << 30).default(10 * 1024 * 1024),
  MAX_INPUT_PIXELS: int(1, 1_000_000_000).default(40_000_000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Time to keep serving after SIGTERM before the listener closes (endpoints propagate meanwhile). */
  SHUTDOWN_DELAY_MS: int(0, 600_000).default(0),
  /** Worker threads that decode and preprocess images (0: on the main thread). */
  PREPROCESS_WORKERS: int(0, 64).default(Math.max(1, Math.min(4, os.availableParallelism() - 1))),
  /** Upper bound on draining after SIGTERM; past it the process exits anyway (code 1). */
  SHUTDOWN_TIMEOUT_MS: int(1, 3_600_000).default(30_000),
});

export interface RuntimeConfig {
  port: number;
  metricsPort: number;
  /** Model version location; undefined = newest version under models/mnist-cnn/. */
  modelUri?: string;
  /** The name the runtime answers under (the DigitModel's name in a cluster). */
  modelName: string;
  /** Overrides the version reported (default: metadata.json's). */
  modelVersion?: string;
  modelTrack: 'stable' | 'canary';
  /** Overrides of the model's metadata.json inference settings. */
  samples?: number;
  reliabilityThreshold?: number;
  maxBatchSize: number;
  batchTimeoutMs: number;
  maxQueue: number;
  maxImagesPerRequest: number;
  requestTimeoutMs: number;
  maxBodyBytes: number;
  maxInputPixels: number;
  logLevel: string;
  preprocessWorkers: number;
  shutdownDelayMs: number;
  shutdownTimeoutMs: number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses the environment; throws a ConfigError naming every bad variable and what it accepts. */
export function parseConfig(env: Record<string, string | undefined>): RuntimeConfig {
  // an empty variable means unset, as in a pod spec with `value: ""`
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v.trim() !== ''));
  const r = envSchema.safeParse(present);
  if (!r.success) {
    const issues = r.error.issues.map((i) => `${i.path.join('.')}=${JSON.stringify(env[String(i.path[0])] ?? '')}: ${i.message}`);
    throw new ConfigError(`invalid runtime configuration: ${issues.join('; ')}`);
  }
  const e = r.data;
  if (e.MAX_QUEUE < e.MAX_IMAGES_PER_REQUEST) {
    throw new ConfigError(`invalid runtime configuration: MAX_QUEUE (${e.MAX_QUEUE}) must be at least MAX_IMAGES_PER_REQUEST (${e.MAX_IMAGES_PER_REQUEST}), or a full request could never be queued`);
  }
  return {
    port: e.PORT,
    metricsPort: e.METRICS_PORT,
    modelUri: e.MODEL_URI,
    modelName: e.MODEL_NAME,
    modelVersion: e.MODEL_VERSION,
    modelTrack: e.MODEL_TRACK,
    samples: e.MC_SAMPLES,
    reliabilityThreshold: e.RELIABILITY_THRESHOLD,
    maxBatchSize: e.MAX_BATCH_SIZE,
    batchTimeoutMs: e.BATCH_TIMEOUT_MS,
    maxQueue: e.MAX_QUEUE,
    maxImagesPerRequest: e.MAX_IMAGES_PER_REQUEST,
    requestTimeoutMs: e.REQUEST_TIMEOUT_MS,
    maxBodyBytes: e.MAX_BODY_BYTES,
    maxInputPixels: e.MAX_INPUT_PIXELS,
    logLevel: e.LOG_LEVEL,
    preprocessWorkers: e.PREPROCESS_WORKERS,
    shutdownDelayMs: e.SHUTDOWN_DELAY_MS,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
  };
}

/** MODEL_URI, or the newest version directory under `modelDir` (the bundled default model). */
export async function resolveModelUri(cfg: RuntimeConfig, modelDir = DEFAULT_MODEL_DIR): Promise<string> {
  if (cfg.modelUri) return cfg.modelUri;
  const newest = await newestVersion(modelDir).catch(() => undefined);
  if (!newest) throw new ConfigError(`MODEL_URI is not set and ${path.resolve(modelDir)} holds no numeric version directory`);
  return newest.dir;
}

/** What the runtime serves under and computes with, once the model's metadata is known. */
export interface ServedModel {
  name: string;
  storeName: string;
  version: string;
  track: 'stable' | 'canary';
  samples: number;
  reliabilityThreshold: number;
}

/** Environment overrides first, the model's metadata.json otherwise. */
export function resolveServedModel(
  cfg: RuntimeConfig,
  metadata: { name: string; version: string; inference: { samples: number; reliabilityThreshold: number } },
): ServedModel {
  return {
    name: cfg.modelName,
    storeName: metadata.name,
    version: cfg.modelVersion ?? metadata.version,
    track: cfg.modelTrack,
    samples: cfg.samples ?? metadata.inference.samples,
    reliabilityThreshold: cfg.reliabilityThreshold ?? metadata.inference.reliabilityThreshold,
  };
}
