import type { ModelMetadata } from '../model/metadata.js';
import type { SampleSummary } from './uncertainty.js';

/** What a loaded engine serves. */
export interface EngineInfo {
  /** tfjs backend in use: 'tensorflow' (tfjs-node), 'wasm' or 'cpu'. */
  backend: string;
  /** Why the preferred backend was not used (e.g. tfjs-node not installed), when it was not. */
  backendFallback?: string;
  metadata: ModelMetadata;
  /** The model's location as a URL. */
  source: string;
  /**
   * 'mc-dropout' for a Layers model with Dropout layers; 'none' for a model without active dropout
   * (a graph model imported from a SavedModel, or no Dropout layer): one pass, no MC figures (SPEC §7).
   */
  uncertainty: 'mc-dropout' | 'none';
}

/** One image's answer: the SPEC §3 uncertainty figures, `confidence`, and extra evidence by name. */
export interface ImagePrediction extends SampleSummary {
  /** Calibrated estimate of P(answer is right), in [0, 1]. */
  confidence: number;
  /** confidence ≥ the served reliability threshold (runtime/engine/confidence.ts `isReliable`). */
  reliable: boolean;
  /** Evidence besides MC dropout used by `confidence` (e.g. featureDistance, inkFraction). */
  evidence: Record<string, number>;
}

export interface EngineMemory {
  numTensors: number;
  numBytes: number;
  /**
   * The worker's own memory: its V8 heap (heapTotal) plus memory outside the heap its objects hold
   * (external: ArrayBuffers, the wasm backend's memory). Threads share one process RSS, so this is
   * the per-worker share that can be told apart; the code and native libraries are shared.
   */
  workerBytes?: number;
}
