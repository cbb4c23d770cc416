import type { Batcher } from '../batcher.js';
import type { ServedModel } from '../config.js';
import type { ImagePrediction } from '../engine/types.js';
import type { RuntimeMetrics } from '../metrics/runtime-metrics.js';
import { preprocessImage } from '../preprocess/index.js';
import type { ImageInput } from './inputs.js';

/** One answered image, SPEC §3 shape. */
export interface PredictionBody {
  digit: number;
  probability: number;
  probabilities: number[];
  confidence: number;
  reliable: boolean;
  uncertainty: Record<string, unknown>;
}

const round = (x: number) => Math.round(x * 1e6) / 1e6;

/** Preprocesses every image of a request, queues them as one job, and shapes the answers. */
export class Predictor {
  constructor(
    private readonly deps: {
      model: ServedModel;
      batcher: Batcher<ImagePrediction>;
      metrics: RuntimeMetrics;
      maxInputPixels: number;
      requestTimeoutMs: number;
    },
  ) {}

  async predict(inputs: ImageInput[]): Promise<PredictionBody[]> {
    const pixels = new Float32Array(inputs.length * 784);
    const ink: number[] = [];
    for (let i = 0; i < inputs.length; i++) {
      const input = inputs[i];
      if (input.kind === 'pixels') {
        pixels.set(input.pixels, i * 784);
        continue;
      }
      const pre = await preprocessImage(input.bytes, { maxInputPixels: this.deps.maxInputPixels });
      pixels.set(pre.pixels, i * 784);
      ink.push(pre.facts.inkFraction);
    }
    const results = await this.deps.batcher.submit(pixels, inputs.length, this.deps.requestTimeoutMs);
    return results.map((r) => this.shape(r));
  }

  private shape(r: ImagePrediction): PredictionBody {
    const { model, metrics } = this.deps;
    const reliable = r.confidence >= model.reliabilityThreshold;
    metrics.prediction(r.digit, r.confidence, reliable);
    const evidence = Object.fromEntries(Object.entries(r.evidence).map(([k, v]) => [k, round(v)]));
    return {
      digit: r.digit,
      probability: round(r.probability),
      probabilities: r.probabilities.map(round),
      confidence: round(r.confidence),
      reliable,
      uncertainty: {
        method: 'mc-dropout',
        samples: model.samples,
        predictiveEntropy: round(r.predictiveEntropy),
        expectedEntropy: round(r.expectedEntropy),
        mutualInformation: round(r.mutualInformation),
        variationRatio: round(r.variationRatio),
        stdDev: round(r.stdDev),
        ...evidence,
      },
    };
  }
}
