import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker, type ResourceLimits } from 'node:worker_threads';
import { RuntimeError } from '../errors.js';
import type { BackendPreference } from './backend-preference.js';
import type { Reply, Request, WorkerInit } from './protocol.js';
import { nativeTensorFlowSettings } from './tfjs-node-compat.js';
import type { EngineInfo, EngineMemory, ImagePrediction } from './types.js';

export type { EngineInfo, EngineMemory, ImagePrediction } from './types.js';

/** The subset of a pino logger the client uses. */
export interface EngineLogger {
  info(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface EngineClientOptions {
  /** Model version: directory path, file:// or http(s):// URI. */
  modelUri: string;
  /** Authorization header for http(s) model URIs (MODEL_AUTH_HEADER). */
  modelAuthHeader?: string;
  /** The digest the model version must have (MODEL_SHA256; runtime/model/digest.ts). */
  modelSha256?: string;
  logger?: EngineLogger;
  backend?: BackendPreference;
  /** Dropout mask seed (default random). */
  seed?: number;
  maxSuffixElements?: number;
  /** Worker entry to run; default worker.js (compiled) or worker.ts (tsx) next to this module. */
  workerUrl?: URL;
  /** Bounds on the worker's JS heap (a worker past them exits with ERR_WORKER_OUT_OF_MEMORY). */
  resourceLimits?: ResourceLimits;
}

/** The worker entry next to this module: compiled `worker.js` when present, else `worker.ts`. */
export function defaultWorkerUrl(): URL {
  const js = new URL('./worker.js', import.meta.url);
  return existsSync(fileURLToPath(js)) ? js : new URL('./worker.ts', import.meta.url);
}

/**
 * Starts the worker. A compiled `.js` entry runs as is. A `.ts` entry (under `tsx`, jest or any
 * other runner) gets tsx registered inside the worker first: on Node 20 a worker does not inherit
 * the parent's `--import` loader hooks, so `tsx main.ts` alone cannot run a .ts worker.
 */
function spawnWorker(url: URL, workerData: WorkerInit, resourceLimits?: ResourceLimits): Worker {
  // TensorFlow in the worker reads them from the process's C environment, which only this thread's
  // process.env writes reach (a worker's process.env is its own copy)
  nativeTensorFlowSettings();
  if (!url.pathname.endsWith('.ts')) return new Worker(url, { workerData, resourceLimits });
  // the ESM build of tsx's API (require.resolve finds the CJS one, whose register() fails in a worker)
  const tsxApi = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  const code = `import(${JSON.stringify(tsxApi)}).then((api) => { api.register(); return import(${JSON.stringify(url.href)}); })`;
  return new Worker(code, { eval: true, workerData, resourceLimits });
}

const MAX_SAMPLES = 256;

/**
 * The engine in a worker thread. `predict` calls are answered in order; the event loop of the
 * caller never runs inference. A crashed worker rejects every pending and later call with
 * RuntimeError('not_ready').
 */
export class EngineClient {
  private nextId = 1;
  private readonly pendingCalls = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  private dead: Error | undefined;
  private readonly exitListeners: ((code: number) => void)[] = [];

  private constructor(
    private readonly worker: Worker,
    readonly info: EngineInfo,
    private latest: EngineMemory,
  ) {
    worker.on('message', (r: Reply) => {
      if (!('id' in r)) return;
      if (r.type === 'predicted' || r.type === 'memory') this.latest = r.memory;
      const p = this.pendingCalls.get(r.id);
      if (!p) return;
      this.pendingCalls.delete(r.id);
      if (r.type === 'error') p.reject(new RuntimeError('internal', `engine: ${r.message}`));
      else p.resolve(r);
    });
    worker.on('error', (e) => this.fail(new RuntimeError('not_ready', `engine worker crashed: ${e.message}`)));
    worker.on('exit', (code) => {
      this.fail(new RuntimeError('not_ready', `engine worker exited with code ${code}`));
      for (const l of this.exitListeners) l(code);
    });
  }

  /** Starts a worker, loads and warms the model; resolves once it can answer. */
  static async start(opts: EngineClientOptions): Promise<EngineClient> {
    const url = opts.workerUrl ?? defaultWorkerUrl();
    const init: WorkerInit = { modelUri: opts.modelUri, modelAuthHeader: opts.modelAuthHeader, modelSha256: opts.modelSha256, backend: opts.backend, seed: opts.seed, maxSuffixElements: opts.maxSuffixElements };
    const worker = spawnWorker(url, init, opts.resourceLimits);
    // remove only our own listeners: Worker keeps internal ones that ref and start its port
    let onMessage: (r: Reply) => void = () => {};
    let onError: (e: Error) => void = () => {};
    let onExit: (code: number) => void = () => {};
    const first = await new Promise<Reply>((resolve, reject) => {
      onMessage = resolve;
      onError = reject;
      onExit = (code) => reject(new Error(`engine worker exited with code ${code} before it was ready`));
      worker.once('message', onMessage).once('error', onError).once('exit', onExit);
    })
      .catch(async (e: Error) => {
        await worker.terminate();
        throw e;
      })
      .finally(() => worker.off('message', onMessage).off('error', onError).off('exit', onExit));
    if (first.type !== 'ready') {
      await worker.terminate();
      throw new Error(`engine failed to load ${opts.modelUri}: ${first.type === 'failed' ? first.message : first.type}`);
    }
    opts.logger?.info({ backend: first.info.backend, backendFallback: first.info.backendFallback, model: first.info.metadata.name, version: first.info.metadata.version, source: first.info.source, loadMs: Math.round(first.loadMs) }, 'engine ready');
    return new EngineClient(worker, first.info, first.memory);
  }

  /**
   * Predicts `n` images given as n·784 floats (28×28 row-major, 0..1, bright digit on dark as
   * MNIST) with `samples` MC-dropout samples each, `reliable` against `threshold` (default: the
   * model's). The pixels are not checked again here: the application layer validates what clients
   * send once, at its boundary (runtime/app/inputs.ts), and builds the batches itself. The buffer
   * is transferred to the worker (unusable afterwards) when it spans a whole ArrayBuffer, else copied.
   */
  async predict(pixels: Float32Array, n: number, samples: number, threshold?: number): Promise<ImagePrediction[]> {
    if (!Number.isInteger(samples) || samples < 1 || samples > MAX_SAMPLES) {
      throw new RuntimeError('invalid_tensor', `samples must be an integer in 1..${MAX_SAMPLES}, got ${samples}`);
    }
    if (n === 0) return [];
    const whole = pixels.byteOffset === 0 && pixels.byteLength === pixels.buffer.byteLength && pixels.buffer instanceof ArrayBuffer;
    const body = whole ? pixels : pixels.slice();
    const r = await this.call({ type: 'predict', id: 0, pixels: body, n, samples, threshold }, [body.buffer as ArrayBuffer]);
    if (r.type !== 'predicted') throw new RuntimeError('internal', `engine answered ${r.type} to predict`);
    return r.predictions;
  }

  /** The worker's thread id (as in its logs and profiles). */
  get threadId(): number {
    return this.worker.threadId;
  }

  /** The worker's memory as of its last answer (after each batch): no call, so it never waits behind a batch. */
  get lastMemory(): EngineMemory {
    return this.latest;
  }

  /** Calls sent and not yet answered. */
  get pending(): number {
    return this.pendingCalls.size;
  }

  /** tfjs memory of the worker (tensor count and bytes) and its own heap: flat across calls when nothing leaks. */
  async memory(): Promise<EngineMemory> {
    const r = await this.call({ type: 'memory', id: 0 });
    if (r.type !== 'memory') throw new RuntimeError('internal', `engine answered ${r.type} to memory`);
    return r.memory;
  }

  /** Calls `cb` once if the worker exits (crash or close). */
  onExit(cb: (code: number) => void): void {
    this.exitListeners.push(cb);
  }

  /**
   * Ends the worker at once, as a crash would: calls in progress reject, exit listeners run.
   * For a worker that no longer answers, and for tests of what a crash does.
   */
  async kill(): Promise<void> {
    await this.worker.terminate();
  }

  /** Disposes the model and stops the worker after the calls already sent. Idempotent. */
  async close(): Promise<void> {
    if (this.dead) return;
    try {
      await this.call({ type: 'close', id: 0 });
    } catch {
      // the worker is gone already
    }
    this.dead ??= new RuntimeError('not_ready', 'engine closed');
    await this.worker.terminate();
  }

  private call(req: Request, transfer: ArrayBuffer[] = []): Promise<Reply> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise<Reply>((resolve, reject) => {
      this.pendingCalls.set(id, { resolve, reject });
      this.worker.postMessage({ ...req, id }, transfer);
    });
  }

  private fail(e: Error): void {
    this.dead ??= e;
    for (const p of this.pendingCalls.values()) p.reject(this.dead);
    this.pendingCalls.clear();
  }
}
