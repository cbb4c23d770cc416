// Worker-thread entry of the preprocessing pool: image bytes → MNIST form off the event loop.
import { parentPort, workerData } from 'node:worker_threads';
import sharp from 'sharp';
import { decodeImage, toMnistForm } from '../preprocess/index.js';
import { libvipsCache, sharedClock, type PreprocessReply, type PreprocessTask, type PreprocessWorkerInit } from './preprocess-pool.js';

const port = parentPort;
if (!port) throw new Error('runtime/app/preprocess-worker must run in a worker thread');
const init = (workerData ?? {}) as PreprocessWorkerInit;
// loading sharp here may have reset the process-wide libvips thread count: size it from the CPU quota again
if (init.libvipsThreads) sharp.concurrency(init.libvipsThreads);
// and the operation cache to its bound (loading sharp set it to sharp's default, 50 MiB, again)
if (init.libvipsCacheMb !== undefined) sharp.cache(libvipsCache(init.libvipsCacheMb));

// preprocessImage's two halves, timed apart: the decode, then the JS steps on the working raster
port.on('message', (task: PreprocessTask) => {
  const received = sharedClock();
  let decoded = received;
  decodeImage(Buffer.from(task.bytes.buffer, task.bytes.byteOffset, task.bytes.byteLength), { maxInputPixels: task.maxInputPixels })
    .then((raster) => {
      decoded = sharedClock();
      return toMnistForm(raster);
    })
    .then(
      (r) => port.postMessage({ id: task.id, pixels: r.pixels, facts: r.facts, timing: { received, decoded, done: sharedClock() } } satisfies PreprocessReply, [r.pixels.buffer as ArrayBuffer]),
      (e: Error & { code?: string; details?: Record<string, unknown> }) =>
        port.postMessage({ id: task.id, error: { name: e.name, message: e.message, code: e.code, details: e.details } } satisfies PreprocessReply),
    );
});
