import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { asLayersModel, loadModelVersion, newestVersion } from '../../../../runtime/model/store.js';
import { pseudoImages, tinyModel, writeTinyModelVersion } from './tiny-model.js';

let dir: string;
let server: http.Server;
let base: string;
const requests: string[] = [];

beforeAll(async () => {
  await tf.setBackend('cpu');
  dir = await writeTinyModelVersion(0.5, '3');
  // a real HTTP server on port 0 serving the version directory under /models/tiny/3/
  server = http.createServer((req, res) => {
    requests.push(req.url ?? '');
    const name = (req.url ?? '').replace(/^\/models\/tiny\/3\//, '');
    if (!['model.json', 'weights.bin', 'metadata.json'].includes(name)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200);
    createReadStream(path.join(dir, name)).pipe(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
});

/** The loaded model computes what the model that was saved computes. */
async function expectSameAsSaved(model: tf.LayersModel): Promise<void> {
  const x = tf.tensor4d(pseudoImages(2), [2, 28, 28, 1]);
  const ref = tinyModel(0.5);
  const a = (model.predict(x) as tf.Tensor).dataSync();
  const b = (ref.predict(x) as tf.Tensor).dataSync();
  for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThan(1e-5);
  ref.dispose();
}

describe('loadModelVersion', () => {
  it('loads from a directory path with its metadata', async () => {
    const v = await loadModelVersion(dir);
    expect(v.metadata.version).toBe('3');
    expect(v.source).toBe(pathToFileURL(dir).href);
    await expectSameAsSaved(asLayersModel(v.model));
  });

  it('loads from a file:// URL of the directory and of model.json', async () => {
    for (const uri of [pathToFileURL(dir).href, pathToFileURL(path.join(dir, 'model.json')).href]) {
      const v = await loadModelVersion(uri);
      await expectSameAsSaved(asLayersModel(v.model));
    }
  });

  it('loads over real HTTP from a model.json URL and from a directory URL', async () => {
    requests.length = 0;
    const v = await loadModelVersion(`${base}/models/tiny/3/model.json`);
    expect(v.source).toBe(`${base}/models/tiny/3/`);
    await expectSameAsSaved(asLayersModel(v.model));
    expect(requests.sort()).toEqual(['/models/tiny/3/metadata.json', '/models/tiny/3/model.json', '/models/tiny/3/weights.bin']);
    await expectSameAsSaved(asLayersModel((await loadModelVersion(`${base}/models/tiny/3`)).model));
  });

  it('fails with the URL and status when the server answers 404', async () => {
    await expect(loadModelVersion(`${base}/models/other/1/model.json`)).rejects.toThrow(/HTTP 404/);
  });

  it('fails clearly for a directory without a model', async () => {
    const empty = await mkdtemp(path.join(os.tmpdir(), 'digitserve-empty-'));
    await expect(loadModelVersion(empty)).rejects.toThrow(/metadata\.json/);
  });

  it('rejects invalid metadata before loading weights', async () => {
    const bad = await mkdtemp(path.join(os.tmpdir(), 'digitserve-bad-'));
    await writeFile(path.join(bad, 'metadata.json'), JSON.stringify({ name: 'x' }));
    await expect(loadModelVersion(bad)).rejects.toThrow(/invalid metadata\.json/);
  });

  it('rejects unsupported URI schemes', async () => {
    await expect(loadModelVersion('s3://bucket/model')).rejects.toThrow(/unsupported model URI scheme/);
  });
});

describe('newestVersion', () => {
  it('picks the highest numeric version, numerically, ignoring other entries', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'digitserve-store-'));
    for (const v of ['1', '2', '10', '9', 'latest', '3a']) await mkdir(path.join(root, v));
    await writeFile(path.join(root, '11'), 'a file, not a version');
    expect(await newestVersion(root)).toEqual({ version: '10', dir: path.join(root, '10') });
  });

  it('returns undefined when there is no version', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'digitserve-store-'));
    expect(await newestVersion(root)).toBeUndefined();
  });
});
