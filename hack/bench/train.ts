// Training speed on the current backend (TFJS_BACKEND; default: native TensorFlow where
// installed, else wasm): the default architecture and training options of `npm run train`
// (augmentation, outlier exposure, batch 64 + 16 non-digits) for a few steps on the training
// digits, timed after a warm-up, and what one epoch of the 60,000 MNIST training digits costs at
// that rate. Prints figures; asserts nothing. Short on purpose (the machine is shared):
//   npx tsx hack/bench/train.ts [--steps 40] [--warmup 5]
import os from 'node:os';
import { parseArgs } from 'node:util';
import { selectBackend } from '../../runtime/engine/backend.js';
import { nativeTensorFlowSettings } from '../../runtime/engine/tfjs-node-compat.js';
import { DEFAULT_ARCH, disposeParams } from '../../runtime/train/architecture.js';
import { loadMnistSplit } from '../../runtime/train/datasets.js';
import { DEFAULT_TRAIN, trainNetwork } from '../../runtime/train/train-loop.js';

const { values } = parseArgs({ options: { steps: { type: 'string', default: '40' }, warmup: { type: 'string', default: '5' } } });
const steps = Number(values.steps);
const warmup = Number(values.warmup);
nativeTensorFlowSettings(process.env, 'training'); // before selectBackend's inference defaults
const backend = await selectBackend();
const { train } = loadMnistSplit();
const batch = DEFAULT_TRAIN.batchSize;
const rows = batch + Math.round(batch * DEFAULT_TRAIN.outlierShare);

// the loop's own timing includes its set-up; instead, after one run that warms the kernels up,
// time two runs that differ only in length and take the difference (same seed, same first steps)
// (wall time, and CPU time of the process, which a loaded machine distorts less)
async function run(n: number): Promise<{ wall: number; cpu: number }> {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const { params } = await trainNetwork(DEFAULT_ARCH, train, { ...DEFAULT_TRAIN, preprocessedShare: 0, maxSteps: n, log: () => {} });
  const c = process.cpuUsage(c0);
  disposeParams(params);
  return { wall: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6 };
}
await run(warmup);
const short = await run(warmup);
const long = await run(warmup + steps);
const perStep = (long.wall - short.wall) / steps;
const cpuPerStep = (long.cpu - short.cpu) / steps;
const epoch60k = Math.ceil(60_000 / batch) * perStep;
console.log(`training bench: backend ${backend.name}, Node ${process.version}, ${os.availableParallelism()} cores, load ${os.loadavg().map((l) => l.toFixed(1)).join('/')}`);
console.log(`architecture ${DEFAULT_ARCH.blocks.map((b) => b.join('-')).join(' | ')}, dense ${DEFAULT_ARCH.dense}; ${rows} rows per step (${batch} digits + ${rows - batch} non-digits), augmentation on`);
console.log(`${steps} steps (the difference of a ${warmup + steps}-step and a ${warmup}-step run, after a warm-up run): ${(perStep * 1000).toFixed(0)} ms per step (CPU ${(cpuPerStep * 1000).toFixed(0)} ms), ${(batch / perStep).toFixed(0)} digits/s`);
console.log(`one epoch of 60,000 digits (${Math.ceil(60_000 / batch)} steps): ${(epoch60k / 60).toFixed(1)} min (CPU ${((Math.ceil(60_000 / batch) * cpuPerStep) / 60).toFixed(1)} min)`);
