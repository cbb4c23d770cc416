import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { ModelMetadata } from '../model/metadata.js';

/** Writes a standard TF.js Layers model (`model.json` + `weights.bin`) and `metadata.json` into `dir`. */
export async function saveModelVersion(model: tf.LayersModel, metadata: ModelMetadata, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weightData = artifacts.weightData;
      if (!weightData || !artifacts.weightSpecs) throw new Error('model has no weights to save');
      const buffers = Array.isArray(weightData) ? weightData : [weightData];
      await writeFile(path.join(dir, 'weights.bin'), Buffer.concat(buffers.map((b) => new Uint8Array(b))));
      const json = {
        modelTopology: artifacts.modelTopology,
        format: 'layers-model',
        generatedBy: `TensorFlow.js tfjs-layers v${tf.version.tfjs}`,
        convertedBy: null,
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
      };
      await writeFile(path.join(dir, 'model.json'), JSON.stringify(json));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  await writeFile(path.join(dir, 'metadata.json'), JSON.stringify(metadata, null, 1) + '\n');
}
