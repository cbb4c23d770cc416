// Engine benchmark (SPEC §6, engine part): fast MC-dropout engine vs the naive method on the
// default model, the machine's matmul rate, the engine's share of it, and RSS. Prints figures;
// asserts nothing. Run alone with `npx tsx hack/bench/engine.ts [--model DIR] [--quick] [--samples 30 --batches 64]`;
// the backend is TFJS_BACKEND's (default: native TensorFlow where installed, else wasm).
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { Engine } from '../../runtime/engine/engine.js';
import { naiveSample } from '../../runtime/engine/mc-dropout.js';
import { summarizeBatch } from '../../runtime/engine/uncertainty.js';
import { asLayersModel, newestVersion } from '../../runtime/model/store.js';

export interface EngineBenchOptions {
  /** Model version directory; default: newest under models/mnist-cnn. */
  model?: string;
  /** Seconds to spend per configuration (at least one call each). */
  secondsPerCase?: number;
  samples?: number[];
  batches?: number[];
  log?: (line: string) => void;
}

/** FLOPs (multiply + add = 2) per image of the layers before the first Dropout and after it. */
export function countFlops(model: tf.LayersModel): { prefix: number; suffix: number } {
  let prefix = 0;
  let suffix = 0;
  let sampled = false;
  for (const l of model.layers) {
    const cls = l.getClassName();
    if (cls === 'Dropout') sampled = true;
    let f = 0;
    if (cls === 'Conv2D') {
      const out = l.outputShape as number[];
      const [kh, kw, cin, cout] = l.getWeights()[0].shape;
      f = 2 * out[1] * out[2] * kh * kw * cin * cout;
    } else if (cls === 'Dense') {
      const [i, o] = l.getWeights()[0].shape;
      f = 2 * i * o;
    }
    if (sampled) suffix += f;
    else prefix += f;
  }
  return { prefix, suffix };
}

async function timeIt(seconds: number, f: () => Promise<void>): Promise<number> {
  await f(); // warm
  let calls = 0;
  const t0 = performance.now();
  do {
    await f();
    calls++;
  } while (performance.now() - t0 < seconds * 1000);
  return (performance.now() - t0) / 1000 / calls;
}

/** Best observed GFLOP/s of a square-ish float32 matMul on the current backend. */
export async function matmulRate(seconds = 1): Promise<number> {
  let best = 0;
  for (const [m, k, n] of [[1920, 576, 128], [512, 1024, 1024]]) {
    const a = tf.randomUniform([m, k]);
    const b = tf.randomUniform([k, n]);
    const s = await timeIt(seconds, async () => {
      const c = tf.matMul(a, b);
      await c.data();
      c.dispose();
    });
    best = Math.max(best, (2 * m * k * n) / s / 1e9);
    tf.dispose([a, b]);
  }
  return best;
}

export async function runEngineBench(opts: EngineBenchOptions = {}): Promise<void> {
  const log = opts.log ?? ((l: string) => console.log(l));
  const dir = opts.model ?? (await newestVersion(path.resolve('models/mnist-cnn')))?.dir;
  if (!dir) throw new Error('no model: pass --model or train models/mnist-cnn/<version>');
  const secs = opts.secondsPerCase ?? 2;
  const engine = await Engine.load({ modelUri: dir, seed: 1 });
  const flops = countFlops(asLayersModel(engine.model));
  log(`engine bench: model ${engine.info.metadata.name}/${engine.info.metadata.version} (${dir})`);
  log(`machine: ${os.cpus()[0]?.model ?? 'cpu'}, ${os.availableParallelism()} cores, load ${os.loadavg().map((l) => l.toFixed(1)).join('/')}, Node ${process.version}, backend ${engine.info.backend}`);
  log(`FLOPs per image: prefix (once) ${(flops.prefix / 1e6).toFixed(2)} M, suffix (per sample) ${(flops.suffix / 1e6).toFixed(3)} M`);
  const gflops = await matmulRate(secs / 2);
  log(`matmul rate: ${gflops.toFixed(1)} GFLOP/s (float32, best of two shapes)`);
  log('');
  log('  T  batch   engine img/s   naive img/s   ratio   engine GFLOP/s  share of matmul rate');
  const pixels = new Float32Array(64 * 784);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 2654435761) % 7 === 0 ? 1 : 0;
  for (const t of opts.samples ?? [1, 10, 30, 100]) {
    for (const n of opts.batches ?? [1, 64]) {
      const x = pixels.subarray(0, n * 784);
      const fast = await timeIt(secs, async () => {
        await engine.predict(x, n, t);
      });
      const naive = await timeIt(secs, async () => {
        summarizeBatch(await naiveSample(asLayersModel(engine.model), x, n, t), t, n, 10);
      });
      const rate = ((flops.prefix + t * flops.suffix) * n) / fast / 1e9;
      log(
        `${String(t).padStart(3)} ${String(n).padStart(6)} ${(n / fast).toFixed(1).padStart(14)} ${(n / naive).toFixed(1).padStart(13)} ${(naive / fast).toFixed(1).padStart(6)}x ${rate.toFixed(2).padStart(15)} ${((100 * rate) / gflops).toFixed(0).padStart(20)}%`,
      );
    }
  }
  const mem = process.memoryUsage();
  log('');
  log(`RSS ${(mem.rss / 2 ** 20).toFixed(0)} MiB now, peak ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB; tfjs tensors ${engine.memory().numTensors}`);
  engine.dispose();
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const { values } = parseArgs({
    options: { model: { type: 'string' }, quick: { type: 'boolean', default: false }, samples: { type: 'string' }, batches: { type: 'string' } },
  });
  const list = (v?: string): number[] | undefined => v?.split(',').map(Number);
  await runEngineBench({ model: values.model, secondsPerCase: values.quick ? 0.5 : 2, samples: list(values.samples), batches: list(values.batches) });
}
