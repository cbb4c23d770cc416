import { RuntimeError } from '../errors.js';
import { EngineClient, type EngineClientOptions, type EngineInfo, type EngineMemory, type ImagePrediction } from './engine-client.js';

export interface EnginePoolOptions extends EngineClientOptions {
  /** Engine workers (≥ 1): each a thread with its own copy of the model, computing one batch at a time. */
  workers: number;
  /** Starts one worker (default EngineClient.start); tests pass their own to watch the pool. */
  startWorker?: (opts: EngineClientOptions) => Promise<EngineClient>;
}

/** One worker's figures (metrics and the bench). */
export interface WorkerStats {
  /** Slot index, 0 … workers − 1 (a replacement takes its predecessor's). */
  index: number;
  threadId: number;
  /** Batches answered by this slot's workers, replacements included. */
  batches: number;
  /** Batches in progress (0 or 1 while the batcher keeps at most one per worker). */
  inFlight: number;
  /** Workers this slot has lost and replaced. */
  replaced: number;
}

interface Slot {
  index: number;
  client?: EngineClient;
  inFlight: number;
  batches: number;
  replaced: number;
}

/**
 * A fixed number of engine workers behind one `predict`. A batch goes to an idle worker (the one
 * with the fewest batches in progress), so the batcher keeping `workers` batches in flight keeps
 * every worker busy. A worker that dies is replaced: the batches it was computing are answered with
 * an error (`not_ready`, 503: retry), never dropped, and calls made while no worker is up wait for
 * the replacement. Only when a replacement cannot start (or on `close`) is the pool gone: then
 * every call rejects and the `onExit` listeners run (liveness fails; the pod is restarted).
 */
export class EnginePool {
  private readonly waiters: (() => void)[] = [];
  private readonly exitListeners: ((code: number) => void)[] = [];
  private dead: Error | undefined;
  private closing = false;

  private constructor(
    private readonly slots: Slot[],
    readonly info: EngineInfo,
    private readonly opts: EnginePoolOptions,
  ) {
    for (const slot of slots) this.watch(slot);
  }

  /**
   * Starts the workers, each loading and warming the model; resolves once all can answer. The
   * first starts alone: its backend decides whether more may follow (`assertWorkersFit`); the
   * rest start in parallel.
   */
  static async start(opts: EnginePoolOptions): Promise<EnginePool> {
    if (!Number.isInteger(opts.workers) || opts.workers < 1) throw new Error(`engine workers must be an integer ≥ 1, got ${opts.workers}`);
    if (opts.backend === 'tensorflow') assertWorkersFit('tensorflow', opts.workers);
    const start = opts.startWorker ?? ((o) => EngineClient.start(o));
    const first = await start(opts);
    try {
      assertWorkersFit(first.info.backend, opts.workers);
    } catch (e) {
      await first.close();
      throw e;
    }
    const started = await Promise.allSettled(Array.from({ length: opts.workers - 1 }, () => start(opts)));
    const clients = [first, ...started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []))];
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      await Promise.all(clients.map((c) => c.close()));
      throw failed.reason;
    }
    const slots = clients.map((client, index) => ({ index, client, inFlight: 0, batches: 0, replaced: 0 }));
    return new EnginePool(slots, clients[0].info, opts);
  }

  get size(): number {
    return this.slots.length;
  }

  /** Adds workers up to `workers` in all (started in parallel, each loaded and warmed before it takes a batch). */
  async grow(workers: number): Promise<void> {
    const more = workers - this.slots.length;
    if (more <= 0 || this.closing || this.dead) return;
    assertWorkersFit(this.info.backend, workers);
    const start = this.opts.startWorker ?? ((o) => EngineClient.start(o));
    const started = await Promise.all(Array.from({ length: more }, () => start(this.opts)));
    if (this.closing || this.dead) {
      await Promise.all(started.map((c) => c.close()));
      return;
    }
    for (const client of started) {
      const slot: Slot = { index: this.slots.length, client, inFlight: 0, batches: 0, replaced: 0 };
      this.slots.push(slot);
      this.watch(slot);
    }
    this.wake();
  }

  /** Same contract as EngineClient.predict, on an idle worker. */
  async predict(pixels: Float32Array, n: number, samples: number, threshold?: number): Promise<ImagePrediction[]> {
    const slot = await this.idleSlot();
    const client = slot.client!;
    try {
      const r = await client.predict(pixels, n, samples, threshold);
      slot.batches++;
      return r;
    } catch (e) {
      if (!this.closing && !this.dead && e instanceof RuntimeError && e.code === 'not_ready') {
        throw new RuntimeError('not_ready', `engine worker ${slot.index} (thread ${client.threadId}) stopped while computing this batch and is being replaced; retry`);
      }
      throw e;
    } finally {
      slot.inFlight--;
    }
  }

  /** The live workers' tfjs memory and own memory, summed (as EngineClient.memory for one). */
  async memory(): Promise<EngineMemory> {
    const all = await this.workerMemory();
    return all.reduce<EngineMemory>((t, m) => ({ numTensors: t.numTensors + m.numTensors, numBytes: t.numBytes + m.numBytes, workerBytes: (t.workerBytes ?? 0) + (m.workerBytes ?? 0) }), { numTensors: 0, numBytes: 0, workerBytes: 0 });
  }

  /** Each live worker's tfjs memory and own memory, by slot. */
  async workerMemory(): Promise<(EngineMemory & { index: number; threadId: number })[]> {
    const live = this.slots.filter((s) => s.client);
    return Promise.all(live.map(async (s) => ({ index: s.index, threadId: s.client!.threadId, ...(await s.client!.memory()) })));
  }

  /** Each live worker's memory as of its last batch (metrics: a scrape must not wait behind a batch). */
  lastMemory(): (EngineMemory & { index: number; threadId: number })[] {
    return this.slots.flatMap((s) => (s.client ? [{ index: s.index, threadId: s.client.threadId, ...s.client.lastMemory }] : []));
  }

  stats(): WorkerStats[] {
    return this.slots.map((s) => ({ index: s.index, threadId: s.client?.threadId ?? -1, batches: s.batches, inFlight: s.inFlight, replaced: s.replaced }));
  }

  /** The worker of slot `index` (tests and diagnostics). */
  worker(index: number): EngineClient | undefined {
    return this.slots[index]?.client;
  }

  /** Calls `cb` once when the pool can no longer answer (closed, or a lost worker could not be replaced). */
  onExit(cb: (code: number) => void): void {
    this.exitListeners.push(cb);
  }

  /** Stops every worker after the calls already sent. Idempotent. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    await Promise.all(this.slots.map((s) => s.client?.close()));
    this.fail(new RuntimeError('not_ready', 'engine closed'), 0);
  }

  /** The live worker with the fewest batches in progress, counted as taken before anything else can pick. */
  private async idleSlot(): Promise<Slot> {
    for (;;) {
      if (this.dead) throw this.dead;
      let best: Slot | undefined;
      for (const s of this.slots) if (s.client && (!best || s.inFlight < best.inFlight)) best = s;
      if (best) {
        best.inFlight++;
        return best;
      }
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  private watch(slot: Slot): void {
    const client = slot.client!;
    client.onExit((code) => {
      if (slot.client !== client) return;
      slot.client = undefined;
      if (this.closing || this.dead) return;
      this.opts.logger?.error({ worker: slot.index, threadId: client.threadId, code }, 'engine worker exited; starting a replacement');
      const start = this.opts.startWorker ?? ((o) => EngineClient.start(o));
      start(this.opts).then(
        (next) => {
          if (this.closing || this.dead) {
            void next.close();
            return;
          }
          slot.client = next;
          slot.replaced++;
          this.watch(slot);
          this.opts.logger?.info({ worker: slot.index, threadId: next.threadId }, 'engine worker replaced');
          this.wake();
        },
        (e: Error) => {
          this.opts.logger?.error({ worker: slot.index, err: e }, 'engine worker could not be replaced');
          this.fail(new RuntimeError('not_ready', `engine worker ${slot.index} exited with code ${code} and could not be replaced: ${e.message}`), code);
          for (const s of this.slots) void s.client?.close();
        },
      );
    });
  }

  private fail(e: Error, code: number): void {
    if (this.dead) return;
    this.dead = e;
    this.wake();
    for (const l of this.exitListeners) l(code);
  }
}

/**
 * Native TensorFlow runs one engine worker per process. `@tensorflow/tfjs-node`'s addon keeps the
 * attribute names of every op it executes in one process-wide `std::set` that it inserts into
 * without a lock (tfjs_backend.cc, ATTR_NAME_SET); two workers executing ops at once corrupt the
 * tree: the process hangs with both threads spinning in the insert, or segfaults (both seen here
 * with two native workers; docs/engine.md). TensorFlow's intra-op threads use the cores instead.
 */
export function assertWorkersFit(backend: string, workers: number): void {
  if (backend === 'tensorflow' && workers > 1) {
    throw new Error(
      `native TensorFlow runs one engine worker per process, not ${workers}: @tensorflow/tfjs-node shares one unsynchronised set of op attribute names between all threads, and two workers executing ops at once corrupt it (hang or segfault). Its intra-op threads (TF_NUM_INTRAOP_THREADS) use the cores; leave ENGINE_WORKERS unset or 1, or use TFJS_BACKEND=wasm for a pool`,
    );
  }
}
