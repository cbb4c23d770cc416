import { mkdir, writeFile } from 'node:fs/promises';
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
