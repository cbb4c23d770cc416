import { readdir } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { loadLayersModel, type LayersModel } from '@tensorflow/tfjs-layers';
import { describeLocation, readModelFile, resolveModelLocation, type ModelLocation } from './model-location.js';
import { parseMetadata, type ModelMetadata } from './metadata.js';

export interface ModelVersion {
  model: LayersModel;
  metadata: ModelMetadata;
  /** The resolved location, as a URL. */
  source: string;
}

interface ModelJson {
  modelTopology: object;
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  format?: string;
}

function parseJson(bytes: Uint8Array, what: string): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new Error(`${what} is not valid JSON: ${(e as Error).message}`, { cause: e });
  }
}

async function loadLayers(loc: ModelLocation): Promise<LayersModel> {
  const json = parseJson(await readModelFile(loc, 'model.json'), 'model.json') as ModelJson;
  if (!json.modelTopology || !Array.isArray(json.weightsManifest)) throw new Error('model.json is not a TF.js Layers model');
  const specs: tf.io.WeightsManifestEntry[] = [];
  const shards: Uint8Array[] = [];
  for (const group of json.weightsManifest) {
    specs.push(...group.weights);
    for (const p of group.paths) shards.push(await readModelFile(loc, p));
  }
  const total = shards.reduce((s, b) => s + b.byteLength, 0);
  const weightData = new Uint8Array(total);
  let off = 0;
  for (const b of shards) {
    weightData.set(b, off);
    off += b.byteLength;
  }
  // tf.io.fromMemory works on every backend; tfjs' file:// handler needs tfjs-node.
  return loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: specs, weightData: weightData.buffer }));
}

/** Loads a model version (directory path, file:// or http(s):// URI): the Layers model and its validated metadata. */
export async function loadModelVersion(uri: string): Promise<ModelVersion> {
  const loc = resolveModelLocation(uri);
  const metadata = parseMetadata(parseJson(await readModelFile(loc, 'metadata.json'), 'metadata.json'));
  const model = await loadLayers(loc);
  return { model, metadata, source: describeLocation(loc) };
}

/** The highest numeric version directory under `models/<name>/`, or undefined when there is none. */
export async function newestVersion(modelDir: string): Promise<{ version: string; dir: string } | undefined> {
  const entries = await readdir(modelDir, { withFileTypes: true });
  const versions = entries
    .filter((e) => e.isDirectory() && /^\d+$/.test(e.name))
    .map((e) => e.name)
    .sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0));
  const v = versions.at(-1);
  return v === undefined ? undefined : { version: v, dir: path.join(modelDir, v) };
}
