import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { disposeParams, paramList, type ArchSpec } from '../../../../runtime/train/architecture.js';
import { loadMnistSplit, pick, type ImageSet } from '../../../../runtime/train/datasets.js';
import { DEFAULT_TRAIN, trainNetwork } from '../../../../runtime/train/train-loop.js';

// A run stopped after an epoch and started again with the same options ends where an unbroken
// run ends: the checkpoint carries the parameters, Adam's moments, the SWA sums, both generators
// and the shuffled order. (What `npm run train` does with <out>.checkpoint and --stop-after-epoch.)
const spec: ArchSpec = { blocks: [[4], [8]], extraPools: 1, dense: 16, dropout: [0.25, 0.5] };

/** Every `every`-th image of the set (the existing subset helper, runtime/train/datasets.ts pick). */
const take = (set: ImageSet, every: number): ImageSet => pick(set, Array.from({ length: Math.floor(set.n / every) }, (_, i) => i * every));

const values = async (p: Awaited<ReturnType<typeof trainNetwork>>['params']): Promise<number[]> => (await Promise.all(paramList(p).map((v) => v.data()))).flatMap((a) => Array.from(a));

it('continues a stopped run to the same weights as a run never stopped, and refuses a checkpoint of other options', async () => {
  await tf.setBackend('cpu');
  const small = take(loadMnistSplit().train, 200); // 42 digits: 3 steps per epoch
  const dir = await mkdtemp(path.join(os.tmpdir(), 'digitserve-checkpoint-'));
  // in a directory that does not exist yet, as <out>.checkpoint's is before the model is saved
  const file = path.join(dir, 'models', 'run.checkpoint');
  const opts = { ...DEFAULT_TRAIN, epochs: 3, batchSize: 16, seed: 5, swa: { start: 0.3, lrFactor: 0.2 }, log: () => {} };

  const whole = await trainNetwork(spec, small, opts);
  expect(whole.steps).toBe(9);
  const expected = await values(whole.params);
  disposeParams(whole.params);

  const first = await trainNetwork(spec, small, { ...opts, checkpoint: file, stopAfterEpoch: 1 });
  expect(first).toMatchObject({ stopped: true, steps: 3 });
  const stoppedAt = await values(first.params);
  disposeParams(first.params);
  expect(stoppedAt).not.toEqual(expected);

  const lines: string[] = [];
  const rest = await trainNetwork(spec, small, { ...opts, checkpoint: file, log: (l) => lines.push(l) });
  expect(lines.some((l) => l.includes('continuing from') && l.includes('1 epoch(s), 3 steps done'))).toBe(true);
  expect(rest.stopped).toBeUndefined();
  expect(rest.steps).toBe(9);
  expect(rest.averaged).toBe(whole.averaged);
  const resumed = await values(rest.params);
  disposeParams(rest.params);
  expect(resumed).toHaveLength(expected.length);
  // equal up to float rounding of Adam's bias correction (a product of powers vs one power)
  const worst = Math.max(...resumed.map((v, i) => Math.abs(v - expected[i])));
  expect(worst).toBeLessThan(1e-5);

  await expect(trainNetwork(spec, small, { ...opts, seed: 6, checkpoint: file })).rejects.toThrow(/other options or data/);
  await writeFile(file, (await readFile(file, 'utf8')).slice(0, 100));
  await expect(trainNetwork(spec, small, { ...opts, checkpoint: file })).rejects.toThrow(/not a training checkpoint/);
}, 300_000);
