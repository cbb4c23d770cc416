import type { ImagePrediction } from '../engine/engine-client.js';
import { RuntimeError, isRuntimeError } from '../errors.js';
import type { RuntimeMetrics } from '../metrics/runtime-metrics.js';
import { sniffFormat } from '../preprocess/index.js';
import type { Batcher } from './batcher.js';
import { checkPixels, PIXELS, type ImageInput } from './inputs.js';
import { sharedClock, type Preprocess, type PreprocessTiming } from './preprocess-pool.js';

export type { ImageInput } from './inputs.js';

/** One image's answer as served: the engine's figures, its confidence and the `reliable` verdict. */
export type Prediction = ImagePrediction;

export interface PredictDeps {
  batcher: Batcher<ImagePrediction>;
  metrics: RuntimeMetrics;
  preprocess: Preprocess;
  maxInputPixels: number;
}

/** Prefixes the image's label when the request holds several, so the client knows which one failed. */
function about(input: ImageInput, count: number, e: unknown): unknown {
  if (!isRuntimeError(e) || count === 1) return e;
  return new RuntimeError(e.code, `${input.label}: ${e.message}`, e.details);
}

/**
 * A declared image type whose bytes are no known image at all is a broken image (400); bytes of
 * a format we refuse are the wrong media type (415) whatever was declared.
 */
async function toPixels(input: Extract<ImageInput, { kind: 'bytes' }>, preprocess: Preprocess, maxInputPixels: number, deadline: AbortSignal, opts: PredictOptions): Promise<Float32Array> {
  const stages = opts.stages;
  if (input.bytes.length === 0) throw new RuntimeError('empty_body', 'image is empty (0 bytes)');
  try {
    sniffFormat(input.bytes);
  } catch (e) {
    if (input.declared && isRuntimeError(e) && e.details?.detected === 'unknown') {
      throw new RuntimeError('invalid_image', `body was declared ${input.declared.toUpperCase()} but is not a decodable image`);
    }
    throw e;
  }
  const r = await preprocess(input.bytes, { maxInputPixels }, deadline, opts.handOverBytes);
  // the image answered last is the one the request waited for
  if (stages && r.timing && !(r.timing.replied <= (stages.preprocess?.replied ?? -Infinity))) stages.preprocess = r.timing;
  return r.pixels;
}

/** Every image of the request in MNIST form, n·784 floats in request order; the first failure names its image. */
async function preparePixels(deps: PredictDeps, inputs: ImageInput[], deadline: AbortSignal, opts: PredictOptions): Promise<Float32Array> {
  const n = inputs.length;
  const each = await Promise.allSettled(
    inputs.map(async (input) => {
      if (input.kind === 'bytes') return toPixels(input, deps.preprocess, deps.maxInputPixels, deadline, opts);
      checkPixels(input.pixels, input.label);
      return input.pixels;
    }),
  );
  const failed = each.findIndex((r) => r.status === 'rejected');
  if (failed >= 0) throw about(inputs[failed], n, (each[failed] as PromiseRejectedResult).reason);
  const pixels = new Float32Array(n * PIXELS);
  each.forEach((r, i) => pixels.set((r as PromiseFulfilledResult<Float32Array>).value, i * PIXELS));
  return pixels;
}

export interface PredictOptions {
  /** A request mirrored from the other track (SPEC §7): answered, but left out of the prediction counts. */
  mirrored?: boolean;
  /**
   * The caller keeps no reference to the images' bytes: each may be moved to the preprocessing
   * worker instead of copied (and is empty afterwards).
   */
  handOverBytes?: boolean;
  /** Filled with the request's marks on the way (where its time went: the request log's `stages`). */
  stages?: RequestStages;
}

/** Marks of one request on sharedClock (ms); preprocessing's are those of its image answered last. */
export interface RequestStages {
  /** The body's tensors parsed into images or pixels (OIP requests; v1 bodies are parsed as read). */
  parsed?: number;
  preprocess?: PreprocessTiming;
  /** Pixels of every image ready and submitted to the batcher. */
  submitted?: number;
  /** Its first image went into an engine batch. */
  batchStarted?: number;
  /** The batcher answered it. */
  answered?: number;
}

/**
 * The marks as durations (ms, 0.1 ms resolution) from `start` (the request's arrival) and
 * `bodyRead` to `end`: body, parsing its tensors (OIP), then preprocessing (pool queue + hand-off to the worker, decode, JS
 * steps, hand-off back), batch wait, engine, and the rest until `end`.
 */
export function stageDurations(start: number, bodyRead: number, s: RequestStages, end: number): Record<string, number> {
  const out: Record<string, number> = {};
  const put = (name: string, from: number | undefined, to: number | undefined) => {
    if (from !== undefined && to !== undefined) out[name] = Math.round((to - from) * 10) / 10;
  };
  const p = s.preprocess;
  put('body', start, bodyRead);
  put('parse', bodyRead, s.parsed);
  const inputs = s.parsed ?? bodyRead;
  if (p) {
    put('toWorker', inputs, p.received);
    put('decode', p.received, p.decoded);
    put('steps', p.decoded, p.done);
    put('fromWorker', p.done, s.submitted);
  } else put('prepare', inputs, s.submitted);
  put('batchWait', s.submitted, s.batchStarted);
  put('engine', s.batchStarted, s.answered);
  put('rest', s.answered, end);
  return out;
}

const deadlineExceeded = () => new RuntimeError('deadline_exceeded', 'the request was not answered within its deadline (REQUEST_TIMEOUT_MS)');

/**
 * Images of one request → predictions in the same order. The images are admitted to the shared
 * queue first (a burst is shed with 429 before anything is decoded), then preprocessed in
 * parallel (the preprocessing pool) and submitted to the batcher as one job, answered within
 * `timeoutMs`. The deadline holds while images are preprocessed too: when it passes, the request
 * is answered `deadline_exceeded` at once, its images not yet decoding are dropped from the
 * preprocessing queue, and its place in the queue is given back.
 */
export async function predictImages(deps: PredictDeps, inputs: ImageInput[], timeoutMs: number, opts: PredictOptions = {}): Promise<Prediction[]> {
  const n = inputs.length;
  const started = performance.now();
  if (timeoutMs <= 0) throw deadlineExceeded();
  const ticket = deps.batcher.admit(n);
  const deadline = new AbortController();
  let expired!: (e: Error) => void;
  const expiry = new Promise<never>((_, reject) => (expired = reject));
  const timer = setTimeout(() => {
    const e = deadlineExceeded();
    deadline.abort(e);
    expired(e);
  }, timeoutMs);
  let pixels: Float32Array;
  try {
    pixels = await Promise.race([preparePixels(deps, inputs, deadline.signal, opts), expiry]);
  } catch (e) {
    ticket.release();
    throw e;
  } finally {
    clearTimeout(timer);
  }
  const left = timeoutMs - (performance.now() - started);
  if (left <= 0) {
    ticket.release();
    throw deadlineExceeded();
  }
  const stages = opts.stages;
  if (stages) stages.submitted = sharedClock();
  const answers = await ticket.submit(pixels, left, stages && (() => (stages.batchStarted = sharedClock())));
  if (stages) stages.answered = sharedClock();
  if (!opts.mirrored) for (const a of answers) deps.metrics.prediction(a.digit, a.confidence, a.reliable);
  return answers;
}
