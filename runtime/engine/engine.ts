import * as tf from '@tensorflow/tfjs-core';
import type { GraphModel } from '@tensorflow/tfjs-converter';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { loadModelVersion } from '../model/store.js';
import { selectBackend, type BackendPreference } from './backend.js';
import { confidenceOf, isReliable, scaledEvidence, type Evidence } from './confidence.js';
import { distanceFromWhitened } from './feature-density.js';
import { pixelEvidence } from './pixel-evidence.js';
import { McDropoutSampler } from './mc-dropout.js';
import { splitAtFirstDropout, type SplitModel } from './split-model.js';
import type { EngineInfo, EngineMemory, ImagePrediction } from './types.js';
import { summarizeBatch } from './uncertainty.js';

export interface EngineOptions {
  modelUri: string;
  /** MODEL_AUTH_HEADER: Authorization header for http(s) model URIs. */
  modelAuthHeader?: string;
  /** MODEL_SHA256: the digest the model version must have. */
  modelSha256?: string;
  /** Default: TFJS_BACKEND, else auto (backend.ts). */
  backend?: BackendPreference;
  /** Seed of the dropout masks (default: random). */
  seed?: number;
  /** Bound on one suffix activation's element count; see McDropoutSampler. */
  maxSuffixElements?: number;
}

const isLayersModel = (m: LayersModel | GraphModel): m is LayersModel => 'layers' in m;

/**
 * The in-process engine: loads a model version, warms up, and answers batches of 28×28 images
 * with MC-dropout samples summarised per image — or, for a model without active dropout (a graph
 * model imported from a SavedModel, a Layers model without Dropout layers), with one deterministic
 * pass per image (`info.uncertainty` 'none'; SPEC §7). Knows nothing of HTTP or threads
 * (engine-client.ts runs it in a worker).
 */
export class Engine {
  private constructor(
    readonly info: EngineInfo,
    readonly model: LayersModel | GraphModel,
    /** The MC-dropout split; undefined when the model is served with uncertainty 'none'. */
    readonly split: SplitModel | undefined,
    private readonly sampler: McDropoutSampler | undefined,
    /** Wᵀ of the feature density ([dim, dim]): the sampler returns W z, whitened in the backend. */
    private readonly whitening: tf.Tensor2D | undefined,
  ) {}

  static async load(opts: EngineOptions): Promise<Engine> {
    const backend = await selectBackend(opts.backend);
    const { model, metadata, source } = await loadModelVersion(opts.modelUri, { authHeader: opts.modelAuthHeader, sha256: opts.modelSha256 });
    const dropout = isLayersModel(model) && model.layers.some((l) => l.getClassName() === 'Dropout');
    const split = dropout ? splitAtFirstDropout(model) : undefined;
    const sampler = split ? new McDropoutSampler(split, { seed: opts.seed, maxSuffixElements: opts.maxSuffixElements }) : undefined;
    const info: EngineInfo = { backend: backend.name, backendFallback: backend.fallbackReason, metadata, source, uncertainty: split ? 'mc-dropout' : 'none' };
    const density = metadata.evidence.featureDensity;
    const whitening = sampler && density ? tf.tidy(() => tf.transpose(tf.tensor2d(density.whitening, [density.dim, density.dim]))) : undefined;
    const engine = new Engine(info, model, split, sampler, whitening);
    await engine.warmUp();
    return engine;
  }

  /** Per-image input shape of the model (metadata input.shape; the sampler's split agrees). */
  private get inputShape(): number[] {
    return this.split?.inputShape ?? [...this.info.metadata.input.shape];
  }

  /** The model reads pixels in [0, 1] or [0, 255] (metadata input.range); the engine is given [0, 1]. */
  private scaled(pixels: Float32Array): Float32Array {
    const top = this.info.metadata.input.range[1];
    return top === 1 ? pixels : pixels.map((v) => v * top);
  }

  /** One pass with no dropout (`predict`); [n, classes] probabilities. */
  private async forward(pixels: Float32Array, n: number): Promise<Float32Array> {
    const x = tf.tensor(pixels, [n, ...this.inputShape]);
    const y = this.model.predict(x) as tf.Tensor;
    const out = await y.data<'float32'>();
    tf.dispose([x, y]);
    if (out.length !== n * this.info.metadata.labels.length) throw new Error(`the model answers ${out.length / n} values per image, metadata.json has ${this.info.metadata.labels.length} labels`);
    return out;
  }

  /** Compiles the kernels once and checks that the split model computes what the model computes. */
  private async warmUp(): Promise<void> {
    const n = 4;
    const raw = new Float32Array(n * 784);
    for (let i = 0; i < raw.length; i++) raw[i] = (Math.sin(i * 12.9898) * 43758.5453) % 1 > 0.6 ? 1 : 0;
    if (!this.sampler || !this.split) {
      await this.forward(this.scaled(raw), n);
      await this.predict(raw, n, 1);
      return;
    }
    const pixels = this.scaled(raw);
    const ours = await this.sampler.deterministic(pixels, n);
    const ref = await this.forward(pixels, n);
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
    await this.predict(raw, n, this.info.metadata.inference.samples);
  }

  /**
   * Predicts `n` images (n·784 floats, 0..1, bright digit on dark) with `samples` MC-dropout
   * samples each; `reliable` against `threshold` (default: the metadata's).
   */
  async predict(pixels: Float32Array, n: number, samples: number, threshold = this.info.metadata.inference.reliabilityThreshold): Promise<ImagePrediction[]> {
    if (n === 0) return [];
    const { calibration, evidence: ev } = this.info.metadata;
    const features = calibration?.features ?? [];
    const size = 784;
    if (!this.sampler || !this.split) {
      // uncertainty 'none': one pass; the summary of a single sample (entropies equal, MI 0)
      const classes = this.info.metadata.labels.length;
      const summaries = summarizeBatch(await this.forward(this.scaled(pixels), n), 1, n, classes);
      return summaries.map((s, i) => {
        const evidence = pixelEvidence(pixels, i * size, size, features);
        // without a fitted mapping: the model's own top probability (docs/models.md)
        const confidence = calibration ? confidenceOf(calibration, s, evidence) : s.probability;
        return { ...s, confidence, reliable: isReliable(confidence, threshold), evidence: calibration ? ({ ...evidence } as Record<string, number>) : {} };
      });
    }
    const density = ev.featureDensity;
    const r = await this.sampler.sample(this.scaled(pixels), n, samples, density ? (density.source ?? 'penultimate') : false, calibration?.logitScale ?? 1, this.whitening);
    const summaries = summarizeBatch(r.samples, samples, n, this.split.classes);
    const scaled = r.evidenceSamples ? summarizeBatch(r.evidenceSamples, samples, n, this.split.classes) : undefined;
    return summaries.map((s, i) => {
      const evidence: Evidence = pixelEvidence(pixels, i * size, size, features);
      if (density && r.features) evidence.featureDistance = distanceFromWhitened(density, r.features, i * r.featureDim);
      const read = scaled?.[i] ?? s;
      if (scaled) Object.assign(evidence, scaledEvidence(read));
      const confidence = calibration ? confidenceOf(calibration, read, evidence) : s.probability;
      return { ...s, confidence, reliable: isReliable(confidence, threshold), evidence: calibration ? ({ ...evidence } as Record<string, number>) : {} };
    });
  }

  memory(): EngineMemory {
    const m = tf.memory();
    return { numTensors: m.numTensors, numBytes: m.numBytes };
  }

  dispose(): void {
    this.whitening?.dispose();
    this.model.dispose();
  }
}
