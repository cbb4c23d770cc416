import type { BackendPreference } from './backend-preference.js';
import type { EngineInfo, EngineMemory, ImagePrediction } from './types.js';

/** Data the worker starts with. */
export interface WorkerInit {
  modelUri: string;
  modelAuthHeader?: string;
  modelSha256?: string;
  backend?: BackendPreference;
  seed?: number;
  maxSuffixElements?: number;
}

/** Parent → worker. */
export type Request =
  | { type: 'predict'; id: number; pixels: Float32Array; n: number; samples: number; threshold?: number }
  | { type: 'memory'; id: number }
  | { type: 'close'; id: number };

/** Worker → parent. */
export type Reply =
  | { type: 'ready'; info: EngineInfo; loadMs: number; memory: EngineMemory }
  | { type: 'failed'; message: string }
  /** `memory` as measured after the batch: the pool's per-worker figures without a call that would queue behind a batch. */
  | { type: 'predicted'; id: number; predictions: ImagePrediction[]; memory: EngineMemory }
  | { type: 'memory'; id: number; memory: EngineMemory }
  | { type: 'closed'; id: number }
  | { type: 'error'; id: number; message: string };
