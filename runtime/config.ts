import path from 'node:path';
import { z } from 'zod';
import { detectCpuFacts, effectiveCpus, threadPlan, type CpuFacts } from './cpu-quota.js';
import { BACKEND_PREFERENCES, type BackendPreference } from './engine/backend-preference.js';
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

function isBaseUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return (u.protocol === 'http:' || u.protocol === 'https:') && !u.search && !u.hash;
  } catch {
    return false;
  }
}

const envSchema = z.object({
  PORT: int(0, 65535).default(8080),
  METRICS_PORT: int(0, 65535).default(9090),
  /** The Open Inference Protocol over gRPC (SPEC §7). */
  GRPC_PORT: int(0, 65535).default(8081),
  MODEL_URI: z.string().min(1).optional(),
  MODEL_NAME: z
    .string()
    .regex(/^[a-z0-9]([a-z0-9._-]{0,251}[a-z0-9])?$/i, 'letters, digits, ".", "_" or "-", starting and ending with a letter or digit')
    .default('mnist-cnn'),
  MODEL_VERSION: z.string().min(1).max(128).optional(),
  /** Digest the model version must have (runtime/model/digest.ts): 64 hex digits. */
  MODEL_SHA256: z.string().regex(/^[0-9a-fA-F]{64}$/, '64 hex digits (sha256)').optional(),
  /** Authorization header value sent with http(s) model downloads (from a Secret). */
  MODEL_AUTH_HEADER: z.string().min(1).max(8192).optional(),
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
  PREPROCESS_WORKERS: int(0, 64).optional(),
  /**
   * libvips operation cache (sharp.cache) in MiB. Off by default: every request brings new bytes, so
   * an operation on them never hits the cache, which would only hold up to sharp's 50 MiB of them.
   */
  LIBVIPS_CACHE_MB: int(0, 65_536).default(0),
  /** Engine worker threads, each with its own copy of the model (default: cpu-quota.ts enginePlan). */
  ENGINE_WORKERS: optionalInt(1, 64),
  /** Bound on each engine worker's JS heap (old generation), MiB; past it the worker is replaced. */
  ENGINE_WORKER_HEAP_MB: int(32, 65_536).default(512),
  /** The pod's CPU limit (downward API limits.cpu, divisor 1m); thread pools are sized from it and the cgroup quota. */
  CPU_LIMIT_MILLICORES: optionalInt(1, 1_000_000),
  /** Upper bound on draining after SIGTERM; past it the process exits anyway (code 1). */
  SHUTDOWN_TIMEOUT_MS: int(1, 3_600_000).default(30_000),
  /** tfjs backend: auto = native TensorFlow where @tensorflow/tfjs-node is installed, else wasm. */
  TFJS_BACKEND: z.enum(BACKEND_PREFERENCES).default('auto'),
  /** Base URL of the other track (canary analysis, SPEC §7): a sample of :predict requests is mirrored there. */
  MIRROR_URL: z.string().refine(isBaseUrl, 'an http:// or https:// base URL, without query or fragment').optional(),
  /** Percentage (0–100) of answered :predict requests mirrored to MIRROR_URL. */
  MIRROR_PERCENT: z.coerce.number().min(0).max(100).default(0),
  /** Longest wait for the other track's answer to a mirrored request (then counted as error). */
  MIRROR_TIMEOUT_MS: int(1, 600_000).default(2000),
});

export interface RuntimeConfig {
  port: number;
  metricsPort: number;
  /** GRPC_PORT: the OIP gRPC service (0: any free port). */
  grpcPort: number;
  /** Model version location; undefined = newest version under models/mnist-cnn/. */
  modelUri?: string;
  /** The name the runtime answers under (the DigitModel's name in a cluster). */
  modelName: string;
  /** The version the model must have (refused at start-up when metadata.json says otherwise). */
  modelVersion?: string;
  modelTrack: 'stable' | 'canary';
  /** The model version's digest (MODEL_SHA256), lower-case hex; checked before serving. */
  modelSha256?: string;
  /** Authorization header for http(s) model URIs (MODEL_AUTH_HEADER). */
  modelAuthHeader?: string;
  /** T (must be the model's calibrated T) and the threshold (overrides metadata.json's). */
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
  /** CPUs this process may use: min(host, cgroup quota, CPU_LIMIT_MILLICORES). */
  cpus: number;
  /** PREPROCESS_WORKERS, or sized from `cpus`. */
  preprocessWorkers: number;
  /** ENGINE_WORKERS if set; else planned from `cpus` and the backend once it is known (cpu-quota.ts enginePlan). */
  engineWorkers?: number;
  /** ENGINE_WORKER_HEAP_MB. */
  engineWorkerHeapMb: number;
  /** libvips threads per image operation (sharp.concurrency), sized from `cpus`. */
  libvipsThreads: number;
  /** LIBVIPS_CACHE_MB: the libvips operation cache's memory bound in MiB (0: off). */
  libvipsCacheMb: number;
  shutdownDelayMs: number;
  shutdownTimeoutMs: number;
  /** TFJS_BACKEND; the backend in use is reported by GET /v1/models/{name} and the `engine ready` log. */
  backend: BackendPreference;
  /** MIRROR_URL: where a sample of :predict requests is mirrored (undefined: no mirroring). */
  mirrorUrl?: string;
  /** MIRROR_PERCENT: the sample's share in percent (0 = none). */
  mirrorPercent: number;
  /** MIRROR_TIMEOUT_MS. */
  mirrorTimeoutMs: number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Parses the environment; throws a ConfigError naming every bad variable and what it accepts.
 * `cpuFacts` (host CPUs, cgroup quota) default to this process's.
 */
export function parseConfig(env: Record<string, string | undefined>, cpuFacts?: Omit<CpuFacts, 'limitCpus'>): RuntimeConfig {
  // an empty variable means unset, as in a pod spec with `value: ""`
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v.trim() !== ''));
  const r = envSchema.safeParse(present);
  if (!r.success) {
    const shown = (name: string) => (name === 'MODEL_AUTH_HEADER' ? '"(redacted)"' : JSON.stringify(env[name] ?? '')); // a credential stays out of logs
    const issues = r.error.issues.map((i) => `${i.path.join('.')}=${shown(String(i.path[0]))}: ${i.message}`);
    throw new ConfigError(`invalid runtime configuration: ${issues.join('; ')}`);
  }
  const e = r.data;
  if (e.MAX_QUEUE < e.MAX_IMAGES_PER_REQUEST) {
    throw new ConfigError(`invalid runtime configuration: MAX_QUEUE (${e.MAX_QUEUE}) must be at least MAX_IMAGES_PER_REQUEST (${e.MAX_IMAGES_PER_REQUEST}), or a full request could never be queued`);
  }
  if (e.MIRROR_PERCENT > 0 && !e.MIRROR_URL) {
    throw new ConfigError(`invalid runtime configuration: MIRROR_PERCENT (${e.MIRROR_PERCENT}) needs MIRROR_URL, the other track's base URL`);
  }
  const facts = cpuFacts ?? detectCpuFacts();
  const cpus = effectiveCpus({ ...facts, limitCpus: e.CPU_LIMIT_MILLICORES === undefined ? undefined : e.CPU_LIMIT_MILLICORES / 1000 });
  const threads = threadPlan(cpus, e.PREPROCESS_WORKERS);
  return {
    port: e.PORT,
    metricsPort: e.METRICS_PORT,
    grpcPort: e.GRPC_PORT,
    modelUri: e.MODEL_URI,
    modelName: e.MODEL_NAME,
    modelVersion: e.MODEL_VERSION,
    modelTrack: e.MODEL_TRACK,
    modelSha256: e.MODEL_SHA256?.toLowerCase(),
    modelAuthHeader: e.MODEL_AUTH_HEADER,
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
    cpus,
    preprocessWorkers: threads.preprocessWorkers,
    libvipsThreads: threads.libvipsThreads,
    libvipsCacheMb: e.LIBVIPS_CACHE_MB,
    engineWorkers: e.ENGINE_WORKERS,
    engineWorkerHeapMb: e.ENGINE_WORKER_HEAP_MB,
    shutdownDelayMs: e.SHUTDOWN_DELAY_MS,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    backend: e.TFJS_BACKEND,
    mirrorUrl: e.MIRROR_URL,
    mirrorPercent: e.MIRROR_PERCENT,
    mirrorTimeoutMs: e.MIRROR_TIMEOUT_MS,
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
  /** 'none' for a model served without MC dropout (one pass; SPEC §7 model formats): samples is then 1. */
  uncertainty: 'mc-dropout' | 'none';
}

/** A model that contradicts what the environment asks for: the runtime refuses to start (SPEC §3). */
export class ModelMismatchError extends Error {
  override name = 'ModelMismatchError';
}

/**
 * Environment overrides first, the model's metadata.json otherwise — except for what the model
 * itself decides, which the environment may state but not contradict (throws ModelMismatchError):
 * - MODEL_VERSION must be the loaded metadata's version: a wrong URI must not serve another model
 *   under the requested version label.
 * - MC_SAMPLES (T) must be the T the confidence mapping and the reliability threshold were
 *   calibrated at (metadata calibration.samples): at another T the same images give other
 *   uncertainty figures, so the fitted mapping would mis-state confidence, silently.
 */
export function resolveServedModel(
  cfg: RuntimeConfig,
  metadata: { name: string; version: string; inference: { samples: number; reliabilityThreshold: number }; calibration?: { samples: number } },
  uncertainty: 'mc-dropout' | 'none' = 'mc-dropout',
): ServedModel {
  if (cfg.modelVersion !== undefined && cfg.modelVersion !== metadata.version) {
    throw new ModelMismatchError(
      `MODEL_VERSION is "${cfg.modelVersion}" but the model loaded is version "${metadata.version}" (its metadata.json); refusing to serve it under another version's label: check the model URI, or the version asked for`,
    );
  }
  const base = { name: cfg.modelName, storeName: metadata.name, version: metadata.version, track: cfg.modelTrack, reliabilityThreshold: cfg.reliabilityThreshold ?? metadata.inference.reliabilityThreshold };
  if (uncertainty === 'none') {
    if (cfg.samples !== undefined && cfg.samples !== 1) {
      throw new ModelMismatchError(`MC_SAMPLES (T) is ${cfg.samples} but the model has no active dropout (served with uncertainty method "none", one pass per image); unset MC_SAMPLES or set it to 1`);
    }
    return { ...base, samples: 1, uncertainty };
  }
  // without a fitted mapping (an imported version not yet calibrated) any T is consistent
  const samples = cfg.samples ?? metadata.inference.samples;
  const calibratedAt = metadata.calibration?.samples ?? samples;
  if (samples !== calibratedAt) {
    throw new ModelMismatchError(
      `MC_SAMPLES (T) is ${samples} but the model's confidence mapping and reliability threshold were calibrated at T = ${calibratedAt} (metadata.json calibration.samples); unset MC_SAMPLES (DigitModel inference.samples) or set it to ${calibratedAt}, or serve a model calibrated at T = ${samples}`,
    );
  }
  return { ...base, samples, uncertainty };
}
