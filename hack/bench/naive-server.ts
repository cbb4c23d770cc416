// The in-run baseline for the HTTP benchmark: the naive way to serve MC dropout. One process, no
// worker, no batching: per request, T full forward passes `model.apply(x, {training: true})`
// on the same model, backend and preprocessing as the runtime. Run alone:
//   npx tsx hack/bench/naive-server.ts --port 8090 [--model DIR] [--samples 30]
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { selectBackend } from '../../runtime/engine/backend.js';
import { naiveSample } from '../../runtime/engine/mc-dropout.js';
import { summarizeBatch } from '../../runtime/engine/uncertainty.js';
import { asLayersModel, loadModelVersion, newestVersion } from '../../runtime/model/store.js';
import { preprocessImage } from '../../runtime/preprocess/index.js';

export interface NaiveServer {
  port: number;
  backend: string;
  close(): Promise<void>;
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c)).on('end', () => resolve(Buffer.concat(chunks))).on('error', reject);
  });
}

/** Serves `POST /predict` (a raw image body) with naive MC dropout at `samples` passes. */
export async function startNaiveServer(opts: { port?: number; model?: string; samples?: number } = {}): Promise<NaiveServer> {
  const backend = await selectBackend('auto');
  const dir = opts.model ?? (await newestVersion('models/mnist-cnn'))!.dir;
  const model = asLayersModel((await loadModelVersion(dir)).model);
  const t = opts.samples ?? 30;
  const server = http.createServer((req, res) => {
    if (req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ready":true}');
      return;
    }
    readBody(req)
      .then(async (bytes) => {
        const { pixels } = await preprocessImage(bytes, { maxInputPixels: 40_000_000 });
        const samples = await naiveSample(model, pixels, 1, t);
        const [s] = summarizeBatch(samples, t, 1, 10);
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ predictions: [s] }));
      })
      .catch((e: Error) => res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: e.message })));
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    backend: backend.name,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { port: { type: 'string', default: '8090' }, model: { type: 'string' }, samples: { type: 'string', default: '30' } } });
  const s = await startNaiveServer({ port: Number(values.port), model: values.model, samples: Number(values.samples) });
  process.stdout.write(`${JSON.stringify({ msg: 'naive server listening', port: s.port, backend: s.backend })}\n`);
}
