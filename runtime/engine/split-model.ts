import type { LayersModel, layers } from '@tensorflow/tfjs-layers';

/** A model cut at its first Dropout layer: a deterministic prefix and a sampled suffix. */
export interface SplitModel {
  /** Layers run once per image (everything before the first Dropout). */
  prefix: layers.Layer[];
  /** Layers run T times, starting with the first Dropout. */
  suffix: SuffixStep[];
  /** Per-image element count of the first Dropout's input. */
  featureSize: number;
  /** Largest per-image element count of any suffix activation (bounds the chunk size). */
  maxSuffixElements: number;
  inputShape: number[];
  classes: number;
  /** Name of the last layer's input layer (the penultimate features), for the feature density. */
  penultimateLayer: string;
}

export type SuffixStep = { kind: 'dropout'; rate: number; name: string } | { kind: 'layer'; layer: layers.Layer };

const elements = (shape: (number | null)[]): number => shape.slice(1).reduce<number>((a, b) => a * (b ?? 1), 1);

function outputShape(layer: layers.Layer): (number | null)[] {
  const s = layer.outputShape;
  if (Array.isArray(s[0])) throw new Error(`layer ${layer.name} has several outputs; MC sampling needs a linear stack`);
  return s as (number | null)[];
}

/**
 * Splits a linear stack of layers at its first Dropout. BatchNorm and every other non-Dropout layer
 * run in inference mode in both parts; only Dropout layers are sampled (by the engine's own masks).
 * The split is checked numerically against `model.predict` at warm-up (engine.ts).
 */
export function splitAtFirstDropout(model: LayersModel): SplitModel {
  const layers = model.layers.filter((l) => l.getClassName() !== 'InputLayer');
  const first = layers.findIndex((l) => l.getClassName() === 'Dropout');
  if (first < 0) throw new Error('model has no Dropout layer: MC-dropout sampling needs one');
  if (layers.length - first < 2) throw new Error('model ends with a Dropout layer');
  for (let i = 0; i < layers.length; i++) {
    const nodes = layers[i].inboundNodes;
    const prev = nodes[0]?.inboundLayers ?? [];
    const expected = i === 0 ? 'InputLayer' : layers[i - 1].name;
    if (nodes.length !== 1 || prev.length !== 1 || (i === 0 ? prev[0].getClassName() !== expected : prev[0].name !== expected)) {
      throw new Error(`layer ${layers[i].name} is not fed only by the previous layer: MC sampling needs a linear stack`);
    }
  }
  const suffix: SuffixStep[] = layers.slice(first).map((layer) => {
    if (layer.getClassName() !== 'Dropout') return { kind: 'layer', layer };
    const cfg = layer.getConfig();
    if (cfg.noiseShape != null) throw new Error(`Dropout ${layer.name} uses noiseShape, which the sampler does not support`);
    return { kind: 'dropout', rate: Number(cfg.rate), name: layer.name };
  });
  const inShape = model.inputs[0].shape;
  const outShape = outputShape(layers[layers.length - 1]);
  return {
    prefix: layers.slice(0, first),
    suffix,
    featureSize: elements(first === 0 ? inShape : outputShape(layers[first - 1])),
    maxSuffixElements: Math.max(...layers.slice(first).map((l) => elements(outputShape(l)))),
    inputShape: inShape.slice(1).map((d) => d ?? 1),
    classes: elements(outShape),
    penultimateLayer: layers[layers.length - 2].name,
  };
}
