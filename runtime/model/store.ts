import { readdir } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { loadGraphModel, type GraphModel } from '@tensorflow/tfjs-converter';
import { loadLayersModel, type LayersModel } from '@tensorflow/tfjs-layers';
import { modelDigest, sha256Hex, type ModelFile } from './digest.js';
import { describeLocation, readModelFile, resolveModelLocation, type ModelLocation, type ReadOptions } from './model-location.js';
import { parseMetadata, type ModelMetadata } from './metadata.js';

export interface ModelVersion {
  /**
   * A TF.js Layers model, or a graph model (model.json `format: "graph-model"`: a SavedModel
   * imported by runtime/import/convert.py, served without MC dropout).
   */
  model: LayersModel | GraphModel;
  metadata: ModelMetadata;
  /** The resolved location, as a URL. */
  source: string;
}

interface ModelJson {
  modelTopology: object;
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  format?: string;
  signature?: object;
}

function parseJson(bytes: Uint8Array, what: string): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new Error(`${what} is not valid JSON: ${(e as Error).message}`, { cause: e });
  }
}

/** model.json and its weight shards, read (and kept as files, for the digests). */
async function readLayers(loc: ModelLocation, read: ReadOptions, files: ModelFile[]): Promise<{ json: ModelJson; specs: tf.io.WeightsManifestEntry[]; shards: Uint8Array[] }> {
  const jsonBytes = await readModelFile(loc, 'model.json', read);
  files.push({ path: 'model.json', bytes: jsonBytes });
  const json = parseJson(jsonBytes, 'model.json') as ModelJson;
  if (!json.modelTopology || !Array.isArray(json.weightsManifest)) throw new Error('model.json is not a TF.js Layers or graph model');
  const specs: tf.io.WeightsManifestEntry[] = [];
  const shards: Uint8Array[] = [];
  for (const group of json.weightsManifest) {
    specs.push(...group.weights);
    for (const p of group.paths) {
      const bytes = await readModelFile(loc, p, read);
      files.push({ path: p, bytes });
      shards.push(bytes);
    }
  }
  return { json, specs, shards };
}

function toModel(json: ModelJson, specs: tf.io.WeightsManifestEntry[], shards: Uint8Array[]): Promise<LayersModel | GraphModel> {
  const total = shards.reduce((s, b) => s + b.byteLength, 0);
  const weightData = new Uint8Array(total);
  let off = 0;
  for (const b of shards) {
    weightData.set(b, off);
    off += b.byteLength;
  }
  // tf.io.fromMemory works on every backend; tfjs' file:// handler needs tfjs-node.
  if (json.format === 'graph-model') {
    return loadGraphModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: specs, weightData: weightData.buffer, format: json.format, signature: json.signature }));
  }
  return loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: specs, weightData: weightData.buffer }));
}

export interface LoadOptions extends ReadOptions {
  /** MODEL_SHA256: the version's digest (runtime/model/digest.ts `modelDigest`), checked before anything is built from it. */
  sha256?: string;
}

/**
 * Checks every file read against the digests metadata.json records (`files`) and the version's
 * digest against `expected` (MODEL_SHA256); throws naming what differs. Pure.
 */
export function verifyModelFiles(files: ModelFile[], metadata: ModelMetadata, expected?: string): void {
  const recorded = metadata.files;
  if (recorded) {
    for (const f of files) {
      if (f.path === 'metadata.json') continue;
      const want = recorded[f.path];
      if (!want) throw new Error(`metadata.json records digests of its files, but none for ${f.path}`);
      const got = sha256Hex(f.bytes);
      if (got !== want.sha256 || f.bytes.byteLength !== want.bytes) {
        throw new Error(`${f.path} does not match the digest metadata.json records (sha256 ${got}, ${f.bytes.byteLength} bytes; recorded ${want.sha256}, ${want.bytes} bytes): corrupt or swapped`);
      }
    }
  }
  if (expected !== undefined) {
    const got = modelDigest(files);
    if (got !== expected.toLowerCase()) throw new Error(`the model's digest is ${got}, not the ${expected} MODEL_SHA256 requires (sha256 of the sorted sha256sum listing of ${files.map((f) => f.path).join(', ')})`);
  }
}

/**
 * Loads a model version (directory path, file:// or http(s):// URI): the Layers model and its
 * validated metadata. Every file is read first (over HTTP with retries and the Authorization
 * header), then checked (verifyModelFiles), and only then built into a model.
 */
export async function loadModelVersion(uri: string, opts: LoadOptions = {}): Promise<ModelVersion> {
  const loc = resolveModelLocation(uri);
  const metaBytes = await readModelFile(loc, 'metadata.json', opts);
  const files: ModelFile[] = [{ path: 'metadata.json', bytes: metaBytes }];
  const metadata = parseMetadata(parseJson(metaBytes, 'metadata.json'));
  const { json, specs, shards } = await readLayers(loc, opts, files);
  verifyModelFiles(files, metadata, opts.sha256);
  const model = await toModel(json, specs, shards);
  return { model, metadata, source: describeLocation(loc) };
}

/** The Layers model of a version; throws for a graph model (a SavedModel imported by runtime/import). */
export function asLayersModel(model: LayersModel | GraphModel): LayersModel {
  if (!('layers' in model)) throw new Error('this is a graph model (imported from a SavedModel): it has no layers to train, split or sample');
  return model;
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
