import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { RuntimeError, type RuntimeErrorCode } from '../errors.js';
import type { Logger } from '../logger.js';
import { preprocessImage, type PreprocessFacts, type PreprocessLimits, type PreprocessResult } from '../preprocess/index.js';

export interface PreprocessTask {
  id: number;
  bytes: Uint8Array;
  maxInputPixels: number;
}

export type PreprocessReply =
  | { id: number; pixels: Float32Array; facts: PreprocessFacts; timing: WorkerTiming }
  | { id: number; error: { name: string; message: string; code?: string; details?: Record<string, unknown> } };

/** ms on a clock every thread shares (`performance.timeOrigin + performance.now()`). */
export const sharedClock = (): number => performance.timeOrigin + performance.now();

/** When a worker had the task, had decoded it, and had its MNIST form (sharedClock). */
export interface WorkerTiming {
  received: number;
  decoded: number;
  done: number;
}

/**
 * Where one image's preprocessing time went (sharedClock ms): handed to the pool, posted to a
 * worker, the worker's own marks, and its answer back on the calling thread.
 */
export interface PreprocessTiming extends WorkerTiming {
  queued: number;
  posted: number;
  replied: number;
}

export type PreprocessOutput = PreprocessResult & { timing?: PreprocessTiming };

/**
 * Image bytes → MNIST form. `signal` is the request's deadline: once it fired, work for the
 * request that has not started yet never starts (it is dropped from the queue), and the call
 * rejects with the signal's reason. `handOver`: the caller no longer needs the bytes, so a Buffer
 * that is the whole of its memory is moved to the worker (transferred, not copied; left empty
 * here) — a 1.7 MB photo is then not copied on its way.
 */
export type Preprocess = (bytes: Buffer, limits: PreprocessLimits, signal?: AbortSignal, handOver?: boolean) => Promise<PreprocessOutput>;

/** The bytes' memory when they are all of it (a Buffer of its own, not a slice of a pool or a larger body). */
function wholeBuffer(bytes: Buffer): ArrayBuffer | undefined {
  const b = bytes.buffer;
  return b instanceof ArrayBuffer && bytes.byteOffset === 0 && bytes.byteLength === b.byteLength ? b : undefined;
}

/** What became of one image handed to preprocessing (the `digitserve_preprocess_total` outcomes). */
export type PreprocessOutcome = 'done' | 'failed' | 'cancelled';

/** The reason an aborted signal carries, as an Error (a deadline's RuntimeError when the caller gave one). */
function abortReason(signal: AbortSignal): Error {
  const r: unknown = signal.reason;
  return r instanceof Error ? r : new RuntimeError('deadline_exceeded', 'the request was not answered within its deadline (REQUEST_TIMEOUT_MS)');
}

/** The worker entry next to this module: compiled `.js` when present, else the `.ts` source. */
function workerUrl(): URL {
  const js = new URL('./preprocess-worker.js', import.meta.url);
  return existsSync(fileURLToPath(js)) ? js : new URL('./preprocess-worker.ts', import.meta.url);
}

/** A `.ts` entry gets tsx registered inside the worker first (Node 20 workers do not inherit loader hooks). */
function spawn(url: URL, workerData: PreprocessWorkerInit): Worker {
  if (!url.pathname.endsWith('.ts')) return new Worker(url, { workerData });
  const tsxApi = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
  return new Worker(`import(${JSON.stringify(tsxApi)}).then((api) => { api.register(); return import(${JSON.stringify(url.href)}); })`, { eval: true, workerData });
}

/** What a preprocessing worker starts with. */
export interface PreprocessWorkerInit {
  /** libvips threads per operation (sharp.concurrency, process-wide: sharp resets it when a worker loads it). */
  libvipsThreads?: number;
  /** libvips operation cache bound in MiB (sharp.cache, process-wide: sharp resets it when a worker loads it). */
  libvipsCacheMb?: number;
}

/** sharp.cache's argument for a bound of `mb` MiB: 0 turns the cache off. Pure. */
export function libvipsCache(mb: number): false | { memory: number } {
  return mb === 0 ? false : { memory: mb };
}

interface Slot {
  worker: Worker;
  /** The task it computes, if any: one at a time, so queued work stays cancellable here. */
  task?: Task;
}

interface Task {
  id: number;
  queued: number;
  posted?: number;
  bytes: Buffer;
  handOver: boolean;
  limits: PreprocessLimits;
  signal?: AbortSignal;
  onAbort?: () => void;
  resolve: (r: PreprocessOutput) => void;
  reject: (e: Error) => void;
}

/**
 * Preprocessing (decode + the JS steps, several ms for a photo, seconds for a 36-megapixel PNG)
 * in a few worker threads, so a batch of large images never stalls the event loop that answers
 * probes. Each worker computes one task at a time; the others wait in this pool's FIFO queue, where
 * a task whose request's deadline passed is dropped without being decoded. A worker that dies
 * fails its task (`internal`) and is replaced.
 */
export class PreprocessPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Task[] = [];
  private nextId = 1;
  private closed = false;

  private onOutcome?: (o: PreprocessOutcome) => void;

  constructor(
    size: number,
    private readonly logger?: Logger,
    private readonly init: PreprocessWorkerInit = {},
  ) {
    for (let i = 0; i < size; i++) this.slots.push(this.startSlot());
  }

  /** Reports what becomes of each task from now on (metrics). */
  observe(onOutcome: (o: PreprocessOutcome) => void): void {
    this.onOutcome = onOutcome;
  }

  get size(): number {
    return this.slots.length;
  }

  /** Tasks waiting for a worker. */
  get queued(): number {
    return this.queue.length;
  }

  run(bytes: Buffer, limits: PreprocessLimits, signal?: AbortSignal, handOver = false): Promise<PreprocessOutput> {
    if (this.closed) return Promise.reject(new RuntimeError('draining', 'preprocessing has stopped'));
    if (signal?.aborted) {
      this.onOutcome?.('cancelled');
      return Promise.reject(abortReason(signal));
    }
    return new Promise((resolve, reject) => {
      const task: Task = { id: this.nextId++, queued: sharedClock(), bytes, handOver, limits, signal, resolve, reject };
      if (signal) {
        task.onAbort = () => {
          const i = this.queue.indexOf(task);
          if (i < 0) return; // already computing: its answer is ignored by the caller
          this.queue.splice(i, 1);
          this.onOutcome?.('cancelled');
          reject(abortReason(signal));
        };
        signal.addEventListener('abort', task.onAbort, { once: true });
      }
      this.queue.push(task);
      this.pump();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.queue.splice(0)) this.settle(t, new RuntimeError('draining', 'preprocessing has stopped'));
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  /** Hands queued tasks to idle workers. */
  private pump(): void {
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      if (slot.task) continue;
      const task = this.queue.shift()!;
      slot.task = task;
      task.posted = sharedClock();
      const message: PreprocessTask = { id: task.id, bytes: task.bytes, maxInputPixels: task.limits.maxInputPixels };
      const memory = task.handOver ? wholeBuffer(task.bytes) : undefined;
      try {
        slot.worker.postMessage(message, memory ? [memory] : []);
      } catch (e) {
        // memory Node will not move (e.g. a native library's own): copied as without handOver
        if (!memory) throw e;
        slot.worker.postMessage(message);
      }
    }
  }

  private settle(task: Task, result: PreprocessOutput | Error): void {
    if (task.onAbort) task.signal?.removeEventListener('abort', task.onAbort);
    if (result instanceof Error) {
      this.onOutcome?.('failed');
      task.reject(result);
    } else {
      this.onOutcome?.('done');
      task.resolve(result);
    }
  }

  private startSlot(): Slot {
    const slot: Slot = { worker: spawn(workerUrl(), this.init) };
    slot.worker.unref();
    slot.worker.on('message', (r: PreprocessReply) => {
      const task = slot.task;
      if (!task || task.id !== r.id) return;
      slot.task = undefined;
      if ('error' in r) {
        const e = r.error;
        this.settle(task, e.name === 'RuntimeError' && e.code ? new RuntimeError(e.code as RuntimeErrorCode, e.message, e.details) : new Error(e.message));
      } else {
        this.settle(task, { pixels: r.pixels, facts: r.facts, timing: { queued: task.queued, posted: task.posted ?? task.queued, ...r.timing, replied: sharedClock() } });
      }
      this.pump();
    });
    slot.worker.on('error', (e) => this.logger?.error({ err: e }, 'preprocessing worker failed'));
    slot.worker.on('exit', (code) => {
      const task = slot.task;
      slot.task = undefined;
      if (task) this.settle(task, new RuntimeError('internal', `preprocessing worker exited with code ${code}`));
      if (this.closed) return;
      const i = this.slots.indexOf(slot);
      if (i >= 0) this.slots[i] = this.startSlot();
      this.pump();
    });
    return slot;
  }
}

/**
 * The pool's `run`, or preprocessing on the calling thread when there is no pool: then too a
 * request already past its deadline gets no decode.
 */
export function preprocessor(pool: PreprocessPool | undefined, onOutcome?: (o: PreprocessOutcome) => void): Preprocess {
  if (pool && pool.size > 0) return (bytes, limits, signal, handOver) => pool.run(bytes, limits, signal, handOver);
  return async (bytes, limits, signal) => {
    if (signal?.aborted) {
      onOutcome?.('cancelled');
      throw abortReason(signal);
    }
    try {
      const r = await preprocessImage(bytes, limits);
      onOutcome?.('done');
      return r;
    } catch (e) {
      onOutcome?.('failed');
      throw e;
    }
  };
}
