import * as tf from '@tensorflow/tfjs-core';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { loadModelVersion } from '../model/store.js';
import { selectBackend, type BackendPreference } from './backend.js';
import { confidenceOf, scaledEvidence, type Evidence } from './confidence.js';
import { featureDistance } from './feature-density.js';
import { pixelEvidence } from './pixel-evidence.js';
import { McDropoutSampler } from './mc-dropout.js';
import { splitAtFirstDropout, type SplitModel } from './split-model.js';
import type { EngineInfo, EngineMemory, ImagePrediction } from './types.js';
import { summarizeBatch } from './uncertainty.js';

export interface EngineOptions {
  modelUri: string;
  backend?: BackendPreference;
  /** Seed of the dropout masks (default: random). */
  seed?: number;
  /** Bound on one suffix activation's element count; see McDropoutSampler. */
  maxSuffixElements?: number;
}

/**
 * The in-process engine: loads a model version, warms up, and answers batches of 28×28 images
 * with MC-dropout samples summarised per image. Knows nothing of HTTP or threads
 * (engine-client.ts runs it in a worker).
 */
export class Engine {
  private constructor(
    readonly info: EngineInfo,
    readonly model: LayersModel,
    readonly split: SplitModel,
    private readonly sampler: McDropoutSampler,
  ) {}

  static async load(opts: EngineOptions): Promise<Engine> {
    const backend = await selectBackend(opts.backend ?? 'auto');
    const { model, metadata, source } = await loadModelVersion(opts.modelUri);
    const split = splitAtFirstDropout(model);
    const sampler = new McDropoutSampler(split, { seed: opts.seed, maxSuffixElements: opts.maxSuffixElements });
    const engine = new Engine({ backend: backend.name, metadata, source }, model, split, sampler);
    await engine.warmUp();
    return engine;
  }

  /** Compiles the kernels once and checks that the split model computes what the model computes. */
  private async warmUp(): Promise<void> {
    const n = 4;
    const pixels = new Float32Array(n * 784);
    for (let i = 0; i < pixels.length; i++) pixels[i] = (Math.sin(i * 12.9898) * 43758.5453) % 1 > 0.6 ? 1 : 0;
    const ours = await this.sampler.deterministic(pixels, n);
    const x = tf.tensor(pixels, [n, ...this.split.inputShape]);
    const y = this.model.predict(x) as tf.Tensor;
    const ref = await y.data();
    tf.dispose([x, y]);
    for (let i = 0; i < ref.length; i++) {
      if (Math.abs(ref[i] - ours[i]) > 1e-4) throw new Error('split model disagrees with model.predict: the model is not a linear stack the sampler understands');
    }
    const density = this.info.metadata.evidence.featureDensity;
    if (density) {
      const source = density.source ?? 'penultimate';
      const { featureDim } = await this.sampler.sample(pixels, n, 1, source);
      if (featureDim !== density.dim) throw new Error(`metadata feature density has dim ${density.dim}, the model's ${source} features ${featureDim}`);
    }
    // also proves the confidence mapping has the evidence it needs
    await this.predict(pixels, n, this.info.metadata.inference.samples);
  }

  /** Predicts `n` images (n·784 floats, 0..1, bright digit on dark) with `samples` MC-dropout samples each. */
  async predict(pixels: Float32Array, n: number, samples: number): Promise<ImagePrediction[]> {
    if (n === 0) return [];
    const { calibration, evidence: ev } = this.info.metadata;
    const density = ev.featureDensity;
    const r = await this.sampler.sample(pixels, n, samples, density ? (density.source ?? 'penultimate') : false, calibration.logitScale ?? 1);
    const summaries = summarizeBatch(r.samples, samples, n, this.split.classes);
    const scaled = r.evidenceSamples ? summarizeBatch(r.evidenceSamples, samples, n, this.split.classes) : undefined;
    const size = this.split.inputShape.reduce((a, b) => a * b, 1);
    return summaries.map((s, i) => {
      const evidence: Evidence = pixelEvidence(pixels, i * size, size, calibration.features);
      if (density && r.features) evidence.featureDistance = featureDistance(density, r.features, i * r.featureDim);
      const read = scaled?.[i] ?? s;
      if (scaled) Object.assign(evidence, scaledEvidence(read));
      return { ...s, confidence: confidenceOf(calibration, read, evidence), evidence: { ...evidence } as Record<string, number> };
    });
  }

  memory(): EngineMemory {
    const m = tf.memory();
    return { numTensors: m.numTensors, numBytes: m.numBytes };
  }

  dispose(): void {
    this.model.dispose();
  }
}
