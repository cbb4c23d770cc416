import { RuntimeError } from '../errors.js';
import { ServiceRate } from './service-rate.js';

/** A place in the queue for images still being prepared: `submit` their pixels or `release` it. */
export interface Admission<R> {
  /** `onStarted`: called when the first of these images goes into an engine batch. */
  submit(pixels: Float32Array, timeoutMs: number, onStarted?: () => void): Promise<R[]>;
  release(): void;
}

/** Runs one batch: `n` images as n·784 floats → one result per image, in order. */
export type BatchFn<R> = (pixels: Float32Array, n: number) => Promise<R[]>;

export interface BatcherOptions<R> {
  infer: BatchFn<R>;
  /** Images per engine batch (a request with more is split over several, answered as one). */
  maxBatchSize: number;
  /**
   * Longest wait for more images before a batch that is not full starts. Only waited while more
   * images are known to be coming (admitted and still being prepared): with none, a batch starts
   * as soon as an engine slot is free.
   */
  batchTimeoutMs: number;
  /** Images admitted but not yet in inference (being prepared or waiting for a batch) beyond which a request is refused with queue_full. */
  maxQueue: number;
  /** Batches in inference at once: the engine workers (1: the worker computes one while the next one gathers). */
  maxInFlight?: number;
  /** Images queued or in inference changed. */
  onDepth?: (images: number) => void;
  /** A batch finished (successfully or not). */
  onBatch?: (images: number, seconds: number) => void;
  /**
   * Upper bound of the Retry-After hint (default 60 s). Set it to the request deadline: admitted
   * work is answered or expires within it, so the queue turns over at least that fast.
   */
  maxRetryAfterSeconds?: number;
  now?: () => number;
}

const PIXELS = 784;

interface Job<R> {
  pixels: Float32Array;
  n: number;
  /** Images not yet handed to a batch, from `taken` on. */
  taken: number;
  /** Images answered so far. */
  answered: number;
  results: R[];
  enqueuedAt: number;
  deadline: number;
  settled: boolean;
  onStarted?: () => void;
  timer?: ReturnType<typeof setTimeout>;
  resolve: (r: R[]) => void;
  reject: (e: Error) => void;
}

interface Chunk<R> {
  job: Job<R>;
  offset: number;
  count: number;
}

/**
 * One shared queue of images for every protocol, cut into engine batches of up to `maxBatchSize`
 * images or whatever arrived within `batchTimeoutMs`. Each request has a deadline: work still
 * queued when it passes is dropped and answered `deadline_exceeded`; the queue is bounded
 * (`queue_full`, with a retry hint from the work admitted and the engine's service rate). A request's images may span batches
 * but are answered together: all results, or one error.
 */
export class Batcher<R> {
  private readonly queue: Job<R>[] = [];
  private queued = 0;
  /** Images admitted whose pixels are still being prepared (decoded and preprocessed). */
  private reserved = 0;
  private inFlightImages = 0;
  private inFlightBatches = 0;
  private gatherTimer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;
  private idleWaiters: (() => void)[] = [];
  private readonly now: () => number;
  private readonly serviceRate = new ServiceRate();
  private readonly maxInFlight: number;

  constructor(private readonly opts: BatcherOptions<R>) {
    this.now = opts.now ?? (() => performance.now());
    this.maxInFlight = opts.maxInFlight ?? 1;
  }

  /** A batch of `images` took the engine `seconds` outside this queue (the warm-up's): seeds the service rate. */
  observeCapacity(images: number, seconds: number): void {
    this.serviceRate.observe(images, seconds);
  }

  /** Images admitted and not yet answered: being prepared, waiting for a batch, or in inference. */
  get depth(): number {
    return this.reserved + this.queued + this.inFlightImages;
  }

  /**
   * Queues `n` images (n·784 floats) to be answered within `timeoutMs`. Rejects with a
   * RuntimeError: `queue_full` (details.retryAfterSeconds), `deadline_exceeded`, `draining`.
   */
  submit(pixels: Float32Array, n: number, timeoutMs: number): Promise<R[]> {
    let ticket: Admission<R>;
    try {
      ticket = this.admit(n);
    } catch (e) {
      return Promise.reject(e);
    }
    return ticket.submit(pixels, timeoutMs);
  }

  /**
   * Admits `n` images before their pixels exist (while they are still being decoded), so that a
   * burst counts against `maxQueue` at the door: refusing then costs microseconds, refusing after
   * decoding costs the decode, and waiting behind an unbounded decode backlog ends in 504s.
   * Throws `queue_full` or `draining`. The ticket is used once: `submit` its pixels (accepted even
   * if draining has begun since: admitted work is never dropped) or `release` it.
   */
  admit(n: number): Admission<R> {
    if (this.closed) throw new RuntimeError('draining', 'the server is shutting down and accepts no new work');
    const waiting = this.queued + this.reserved;
    if (n > 0 && waiting + n > this.opts.maxQueue) {
      const retryAfterSeconds = this.retryAfterSeconds(n);
      throw new RuntimeError('queue_full', `the queue holds ${waiting} of at most ${this.opts.maxQueue} images; retry in ${retryAfterSeconds} s`, { retryAfterSeconds });
    }
    this.reserved += n;
    this.depthChanged();
    let used = false;
    const use = () => {
      if (used) throw new Error('an admission ticket is used once');
      used = true;
      this.reserved -= n;
    };
    return {
      submit: (pixels, timeoutMs, onStarted) => {
        use();
        return this.enqueue(pixels, n, timeoutMs, onStarted);
      },
      release: () => {
        if (used) return;
        use();
        this.depthChanged();
        // queued work may have been gathering for these images: they are not coming
        this.schedule();
      },
    };
  }

  private enqueue(pixels: Float32Array, n: number, timeoutMs: number, onStarted?: () => void): Promise<R[]> {
    if (pixels.length !== n * PIXELS) {
      this.depthChanged();
      this.schedule();
      return Promise.reject(new RuntimeError('invalid_tensor', `expected ${n}×${PIXELS} pixel values, got ${pixels.length}`));
    }
    if (n === 0) return Promise.resolve([]);
    return new Promise<R[]>((resolve, reject) => {
      const now = this.now();
      const job: Job<R> = { pixels, n, taken: 0, answered: 0, results: new Array<R>(n), enqueuedAt: now, deadline: now + timeoutMs, settled: false, onStarted, resolve, reject };
      job.timer = setTimeout(() => this.expire(job), Math.max(0, timeoutMs));
      this.queue.push(job);
      this.queued += n;
      this.depthChanged();
      this.schedule();
    });
  }

  /**
   * Seconds a refused client should wait: the work actually admitted (being prepared, queued and
   * in inference) plus its own, at the engine's service rate (images per second of engine time,
   * ServiceRate, times the batches in flight at once); at least 1, at most `maxRetryAfterSeconds`.
   */
  retryAfterSeconds(extra = 0): number {
    // per batch in flight: with several workers, that many batches are computed at once
    const perBatch = this.serviceRate.perSecond();
    const rate = perBatch === undefined ? undefined : perBatch * this.maxInFlight;
    const cap = Math.max(1, Math.ceil(this.opts.maxRetryAfterSeconds ?? 60));
    if (rate === undefined) return 1;
    return Math.min(cap, Math.max(1, Math.ceil((this.reserved + this.queued + this.inFlightImages + extra) / rate)));
  }

  /** Refuses new work from now on (`draining`); queued and in-flight work still completes. */
  close(): void {
    this.closed = true;
  }

  /** Resolves once nothing is queued or in inference. */
  idle(): Promise<void> {
    if (this.depth === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Starts a batch when an engine slot is free and there is work: at once when the batch is full
   * or nothing more is known to be coming (no admitted image is still being prepared), else once
   * the oldest image has waited `batchTimeoutMs` — or earlier, when the images being prepared
   * arrive or are given up (each `submit` and `release` schedules again).
   */
  private schedule(): void {
    if (this.inFlightBatches >= this.maxInFlight || this.queued === 0) return;
    const oldest = this.queue[0];
    const waited = this.now() - oldest.enqueuedAt;
    if (this.queued >= this.opts.maxBatchSize || this.reserved === 0 || waited >= this.opts.batchTimeoutMs) {
      if (this.gatherTimer) clearTimeout(this.gatherTimer);
      this.gatherTimer = undefined;
      this.dispatch();
      return;
    }
    this.gatherTimer ??= setTimeout(() => {
      this.gatherTimer = undefined;
      this.schedule();
    }, this.opts.batchTimeoutMs - waited);
  }

  private dispatch(): void {
    // a late timer must not let expired work into a batch
    const now = this.now();
    for (const job of this.queue.filter((j) => j.deadline <= now)) this.expire(job);
    if (this.queued === 0) return;
    const chunks: Chunk<R>[] = [];
    let total = 0;
    while (total < this.opts.maxBatchSize && this.queue.length > 0) {
      const job = this.queue[0];
      const count = Math.min(job.n - job.taken, this.opts.maxBatchSize - total);
      if (job.taken === 0) job.onStarted?.();
      chunks.push({ job, offset: job.taken, count });
      job.taken += count;
      total += count;
      if (job.taken === job.n) this.queue.shift();
    }
    const pixels = new Float32Array(total * PIXELS);
    let at = 0;
    for (const c of chunks) {
      pixels.set(c.job.pixels.subarray(c.offset * PIXELS, (c.offset + c.count) * PIXELS), at * PIXELS);
      at += c.count;
    }
    this.queued -= total;
    this.inFlightImages += total;
    this.inFlightBatches++;
    const started = this.now();
    let run: Promise<R[]>;
    try {
      run = this.opts.infer(pixels, total);
    } catch (e) {
      run = Promise.reject(e);
    }
    run.then(
      (results) => this.finish(chunks, total, started, results),
      (e: unknown) => this.finish(chunks, total, started, undefined, e),
    );
  }

  /** Accounting first, so a caller woken by its answer already sees the batch gone. */
  private finish(chunks: Chunk<R>[], total: number, started: number, results: R[] | undefined, error?: unknown): void {
    this.inFlightImages -= total;
    this.inFlightBatches--;
    const seconds = (this.now() - started) / 1000;
    this.serviceRate.observe(total, seconds);
    this.opts.onBatch?.(total, seconds);
    if (results && results.length !== total) {
      error = new RuntimeError('internal', `engine answered ${results.length} of ${total} images`);
    }
    if (error !== undefined || !results) {
      const err = error instanceof Error ? error : new Error(String(error));
      for (const c of chunks) this.fail(c.job, err);
    } else {
      let from = 0;
      for (const c of chunks) {
        this.deliver(c, results.slice(from, from + c.count));
        from += c.count;
      }
    }
    this.depthChanged();
    this.schedule();
  }

  private deliver(c: Chunk<R>, results: R[]): void {
    const job = c.job;
    if (job.settled) return;
    for (let i = 0; i < c.count; i++) job.results[c.offset + i] = results[i];
    job.answered += c.count;
    if (job.answered === job.n) {
      job.settled = true;
      clearTimeout(job.timer);
      job.resolve(job.results);
    }
  }

  /** Rejects a job and drops whatever of it is still queued. */
  private fail(job: Job<R>, e: Error): void {
    if (job.settled) return;
    job.settled = true;
    clearTimeout(job.timer);
    const i = this.queue.indexOf(job);
    if (i >= 0) {
      this.queue.splice(i, 1);
      this.queued -= job.n - job.taken;
      job.taken = job.n;
      this.depthChanged();
    }
    job.reject(e);
  }

  private expire(job: Job<R>): void {
    this.fail(job, new RuntimeError('deadline_exceeded', 'the request was not answered within its deadline (REQUEST_TIMEOUT_MS)'));
  }

  private depthChanged(): void {
    this.opts.onDepth?.(this.depth);
    if (this.depth === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }
}
