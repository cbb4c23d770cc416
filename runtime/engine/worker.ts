// Worker-thread entry: hosts one Engine so inference never blocks the server's event loop.
import { parentPort, workerData } from 'node:worker_threads';
import { Engine } from './engine.js';
import type { Reply, Request, WorkerInit } from './protocol.js';
import type { EngineMemory } from './types.js';

const port = parentPort;
if (!port) throw new Error('runtime/engine/worker must run in a worker thread');
const send = (r: Reply, transfer?: ArrayBuffer[]): void => port.postMessage(r, transfer);

const init = workerData as WorkerInit;
const t0 = performance.now();
let engine: Engine;
try {
  engine = await Engine.load(init);
  send({ type: 'ready', info: engine.info, loadMs: performance.now() - t0, memory: memory() });
} catch (e) {
  send({ type: 'failed', message: (e as Error).message });
  port.close();
  process.exit(1);
}

/** tfjs memory and this thread's own: heap and external are per thread; rss would be the process's. */
function memory(): EngineMemory {
  const m = process.memoryUsage();
  return { ...engine.memory(), workerBytes: m.heapTotal + m.external };
}

// One request at a time, in arrival order: tfjs is single-threaded here anyway.
let chain = Promise.resolve();
port.on('message', (req: Request) => {
  chain = chain.then(async () => {
    try {
      switch (req.type) {
        case 'predict':
          {
            const predictions = await engine.predict(req.pixels, req.n, req.samples, req.threshold);
            send({ type: 'predicted', id: req.id, predictions, memory: memory() });
          }
          break;
        case 'memory':
          send({ type: 'memory', id: req.id, memory: memory() });
          break;
        case 'close':
          engine.dispose();
          send({ type: 'closed', id: req.id });
          port.close();
          break;
      }
    } catch (e) {
      send({ type: 'error', id: req.id, message: (e as Error).message });
    }
  });
});
