import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { sha256Hex } from '../model/digest.js';
import type { ModelMetadata } from '../model/metadata.js';

/**
 * Writes a standard TF.js Layers model (`model.json` + `weights.bin`) and `metadata.json` into
 * `dir`; metadata.json records the sha256 digests of the other two (`files`), which the runtime
 * checks on load.
 */
export async function saveModelVersion(model: tf.LayersModel, metadata: ModelMetadata, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const files: NonNullable<ModelMetadata['files']> = {};
  const write = async (name: string, bytes: Uint8Array) => {
    await writeFile(path.join(dir, name), bytes);
    files[name] = { sha256: sha256Hex(bytes), bytes: bytes.byteLength };
  };
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weightData = artifacts.weightData;
      if (!weightData || !artifacts.weightSpecs) throw new Error('model has no weights to save');
      const buffers = Array.isArray(weightData) ? weightData : [weightData];
      await write('weights.bin', Buffer.concat(buffers.map((b) => new Uint8Array(b))));
      const json = {
        modelTopology: artifacts.modelTopology,
        format: 'layers-model',
        generatedBy: `TensorFlow.js tfjs-layers v${tf.version.tfjs}`,
        convertedBy: null,
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
      };
      await write('model.json', Buffer.from(JSON.stringify(json)));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  await writeFile(path.join(dir, 'metadata.json'), JSON.stringify({ ...metadata, files }, null, 1) + '\n');
}

/**
 * The trained network as it left training (no temperature folded in, no calibration), with its
 * training record: written before the evaluation, so a calibration can be redone from it
 * (`npm run train -- --from-trained DIR`) without training again.
 */
export async function saveTrained(model: tf.LayersModel, record: Record<string, unknown>, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weightData = artifacts.weightData;
      if (!weightData || !artifacts.weightSpecs) throw new Error('model has no weights to save');
      const buffers = Array.isArray(weightData) ? weightData : [weightData];
      await writeFile(path.join(dir, 'weights.bin'), Buffer.concat(buffers.map((b) => new Uint8Array(b))));
      await writeFile(path.join(dir, 'model.json'), JSON.stringify({ modelTopology: artifacts.modelTopology, weightSpecs: artifacts.weightSpecs }));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  await writeFile(path.join(dir, 'training.json'), JSON.stringify(record, null, 1) + '\n');
}

/** Reads what `saveTrained` wrote. */
export async function loadTrained(dir: string): Promise<{ model: tf.LayersModel; record: Record<string, unknown> }> {
  const json = JSON.parse(await readFile(path.join(dir, 'model.json'), 'utf8')) as { modelTopology: object; weightSpecs: tf.io.WeightsManifestEntry[] };
  const w = new Uint8Array(await readFile(path.join(dir, 'weights.bin')));
  const model = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightSpecs, weightData: w.buffer.slice(w.byteOffset, w.byteOffset + w.byteLength) }));
  return { model, record: JSON.parse(await readFile(path.join(dir, 'training.json'), 'utf8')) as Record<string, unknown> };
}
