import { Batcher, type BatchFn } from '../../../../runtime/app/batcher.js';
import { isRuntimeError } from '../../../../runtime/errors.js';

/** n images whose first pixel carries an id, so results can be traced back to their image. */
function images(ids: number[]): Float32Array {
  const x = new Float32Array(ids.length * 784);
  ids.forEach((id, i) => (x[i * 784] = id));
  return x;
}

/** A fake engine: records each batch and answers only when the test releases it. */
function fakeEngine() {
  const batches: { ids: number[]; release: () => void; fail: (e: Error) => void }[] = [];
  const infer: BatchFn<number> = (pixels, n) =>
    new Promise<number[]>((resolve, reject) => {
      const ids = Array.from({ length: n }, (_, i) => pixels[i * 784]);
      batches.push({ ids, release: () => resolve(ids.map((v) => v * 10)), fail: reject });
    });
  return { infer, batches };
}

const tick = () => new Promise((r) => setImmediate(r));
async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 1));
}
const codeOf = (e: unknown) => (isRuntimeError(e) ? e.code : String(e));

describe('Batcher', () => {
  it('answers each request with its own results, in image order', async () => {
    const engine = fakeEngine();
    const b = new Batcher({ infer: engine.infer, maxBatchSize: 8, batchTimeoutMs: 0, maxQueue: 100 });
    const p = b.submit(images([1, 2, 3]), 3, 10_000);
    await until(() => engine.batches.length === 1);
    engine.batches[0].release();
    await expect(p).resolves.toEqual([10, 20, 30]);
  });

  it('gathers requests that arrive while a batch is in inference into the next batch, up to maxBatchSize', async () => {
    const engine = fakeEngine();
    const b = new Batcher({ infer: engine.infer, maxBatchSize: 4, batchTimeoutMs: 0, maxQueue: 100 });
    const first = b.submit(images([1]), 1, 10_000);
    await until(() => engine.batches.length === 1);
    const rest = [2, 3, 4, 5, 6, 7].map((id) => b.submit(images([id]), 1, 10_000));
    await tick();
    expect(engine.batches).toHaveLength(1); // one batch in flight at a time
    expect(b.depth).toBe(7);
    engine.batches[0].release();
    await until(() => engine.batches.length === 2);
    expect(engine.batches[1].ids).toEqual([2, 3, 4, 5]);
    engine.batches[1].release();
    await until(() => engine.batches.length === 3);
    expect(engine.batches[2].ids).toEqual([6, 7]);
    engine.batches[2].release();
    expect(await Promise.all([first, ...rest])).toEqual([[10], [20], [30], [40], [50], [60], [70]]);
    expect(b.depth).toBe(0);
  });

  it('while other images are being prepared, waits up to batchTimeoutMs for a batch to fill, and starts at once when it is full', async () => {
    const engine = fakeEngine();
    const b = new Batcher({ infer: engine.infer, maxBatchSize: 3, batchTimeoutMs: 60_000, maxQueue: 100, now: () => 0 });
    const decoding = b.admit(1); // another request's image, still being decoded: more is coming
    const p1 = b.submit(images([1]), 1, 120_000);
    const p2 = b.submit(images([2]), 1, 120_000);
    await tick();
    expect(engine.batches).toHaveLength(0); // still gathering: the timeout is a minute
    const p3 = b.submit(images([3]), 1, 120_000);
    await tick();
    expect(engine.batches.map((x) => x.ids)).toEqual([[1, 2, 3]]);
    decoding.release();
    engine.batches[0].release();
    expect(await Promise.all([p1, p2, p3])).toEqual([[10], [20], [30]]);
  });

  it('starts a partial batch once the oldest image has waited batchTimeoutMs', async () => {
    const engine = fakeEngine();
    let now = 0;
    const b = new Batcher({ infer: engine.infer, maxBatchSize: 8, batchTimeoutMs: 5, maxQueue: 100, now: () => now });
    const decoding = b.admit(1); // more is coming, so the batch gathers
    const p = b.submit(images([1, 2]), 2, 10_000);
    await tick();
    expect(engine.batches).toHaveLength(0);
    now = 5; // the gather timer (5 ms of real time) finds the clock past the timeout
    await until(() => engine.batches.length === 1);
    expect(engine.batches[0].ids).toEqual([1, 2]);
    decoding.release();
    engine.batches[0].release();
    await expect(p).resolves.toEqual([10, 20]);
  });

  it('starts a lone request at once, without waiting batchTimeoutMs, when nothing else is being prepared', async () => {
    const engine = fakeEngine();
    // the clock never moves: only "nothing more is coming" can start these batches
    const b = new Batcher({ infer: engine.infer, maxBatchSize: 8, batchTimeoutMs: 60_000, maxQueue: 100, now: () => 0 });
    const first = b.submit(images([1]), 1, 120_000);
    await tick();
    expect(engine.batches.map((x) => x.ids)).toEqual([[1]]);
    // the engine is busy: the next one waits for it, then starts as soon as it is free
    const second = b.submit(images([2]), 1, 120_000);
    await tick();
    expect(engine.batches).toHaveLength(1);
    engine.batches[0].release();
    await tick();
    expect(engine.batches.map((x) => x.ids)).toEqual([[1], [2]]);
    engine.batches[1].release();
    expect(await Promise.all([first, second])).toEqual([[10], [20]]);
  });

  it('gathers a request with the images still being prepared into one batch, started as soon as the last arrives', async () => {
    const engine = fakeEngine();
    const b = new Batcher({ infer: engine.infer, maxBatchSize: 8, batchTimeoutMs: 60_000, maxQueue: 100, now: () => 0 });
    const second = b.admit(1);
    const third = b.admit(2);
    const p1 = b.submit(images([1]), 1, 120_000);
    await tick();
    expect(engine.batches).toHaveLength(0); // three more images are being prepared
    const p2 = second.submit(images([2]), 120_000);
    await tick();
    expect(engine.batches).toHaveLength(0); // two still are
    const p3 = third.submit(images([3, 4]), 120_000);
    await tick();
    expect(engine.batches.map((x) => x.ids)).toEqual([[1, 2, 3, 4]]);
    engine.batches[0].release();
    expect(await Promise.all([p1, p2, p3])).toEqual([[10], [20], [30, 40]]);
  });

  it('stops gathering when the images it waits for are given up (their request failed before its pixels existed)', async () => {
    const engine = fakeEngine();
    const b = new Batcher({ infer: engine.infer, maxBatchSize: 8, batchTimeoutMs: 60_000, maxQueue: 100, now: () => 0 });
    const broken = b.admit(1);
    const p = b.submit(images([1]), 1, 120_000);
    await tick();
    expect(engine.batches).toHaveLength(0);
    broken.release();
    await tick();
    expect(engine.batches.map((x) => x.ids)).toEqual([[1]]);
    engine.batches[0].release();
    await expect(p).resolves.toEqual([10]);
  });

  it('splits a request larger than maxBatchSize over batches and answers it once, in order', async () => {
    const engine = fakeEngine();
    const b = new Batcher({ infer: engine.infer, maxBatchSize: 2, batchTimeoutMs: 0, maxQueue: 100 });
    const p = b.submit(images([1, 2, 3, 4, 5]), 5, 10_000);
    for (let i = 0; i < 3; i++) {
      await until(() => engine.batches.length === i + 1);
      engine.batches[i].release();
    }
    expect(engine.batches.map((x) => x.ids)).toEqual([[1, 2], [3, 4], [5]]);
    await expect(p).resolves.toEqual([10, 20, 30, 40, 50]);
  });

  it('fails a whole request when one of its batches fails, drops its queued rest, and keeps serving others', async () => {
    const engine = fakeEngine();
    const b = new Batcher({ infer: engine.infer, maxBatchSize: 2, batchTimeoutMs: 0, maxQueue: 100 });
    const big = b.submit(images([1, 2, 3, 4, 5]), 5, 10_000);
    await until(() => engine.batches.length === 1);
    const other = b.submit(images([9]), 1, 10_000);
    engine.batches[0].fail(new Error('engine exploded'));
    await expect(big).rejects.toThrow('engine exploded');
    await until(() => engine.batches.length === 2);
    expect(engine.batches[1].ids).toEqual([9]); // the failed request's images 3..5 never ran
    engine.batches[1].release();
    await expect(other).resolves.toEqual([90]);
    expect(b.depth).toBe(0);
  });

  it('treats an engine answer of the wrong length as an internal error of every request in the batch', async () => {
    const b = new Batcher<number>({ infer: async () => [1], maxBatchSize: 4, batchTimeoutMs: 0, maxQueue: 100 });
    const e = await b.submit(images([1, 2]), 2, 10_000).catch((x: unknown) => x);
    expect(codeOf(e)).toBe('internal');
  });

  it('answers deadline_exceeded for queued work whose deadline passed and never runs it', async () => {
    const engine = fakeEngine();
    const b = new Batcher({ infer: engine.infer, maxBatchSize: 4, batchTimeoutMs: 0, maxQueue: 100 });
    const head = b.submit(images([1]), 1, 60_000);
    await until(() => engine.batches.length === 1);
    const late = b.submit(images([2, 3]), 2, 1).catch((e: unknown) => e);
    const fine = b.submit(images([4]), 1, 60_000);
    expect(codeOf(await late)).toBe('deadline_exceeded');
    expect(b.depth).toBe(2); // the expired images left the queue at once
    engine.batches[0].release();
    await until(() => engine.batches.length === 2);
    expect(engine.batches[1].ids).toEqual([4]);
    engine.batches[1].release();
    await expect(head).resolves.toEqual([10]);
    await expect(fine).resolves.toEqual([40]);
  });

  it('drops work found expired at dispatch even when its timer has not fired yet', async () => {
    const engine = fakeEngine();
    let now = 0;
    const b = new Batcher({ infer: engine.infer, maxBatchSize: 4, batchTimeoutMs: 0, maxQueue: 100, now: () => now });
    const head = b.submit(images([1]), 1, 60_000);
    await until(() => engine.batches.length === 1);
    const stale = b.submit(images([2]), 1, 50).catch((e: unknown) => e);
    const fresh = b.submit(images([3]), 1, 60_000);
    now = 100; // the clock passed the deadline; the event loop did not get to the timer yet
    engine.batches[0].release();
    await until(() => engine.batches.length === 2);
    expect(engine.batches[1].ids).toEqual([3]);
    expect(codeOf(await stale)).toBe('deadline_exceeded');
    engine.batches[1].release();
    await Promise.all([head, fresh]);
  });

  it('answers deadline_exceeded when the deadline passes during inference, and ignores the late result', async () => {
    const engine = fakeEngine();
    const b = new Batcher({ infer: engine.infer, maxBatchSize: 4, batchTimeoutMs: 0, maxQueue: 100 });
    const p = b.submit(images([1]), 1, 5).catch((e: unknown) => e);
    expect(codeOf(await p)).toBe('deadline_exceeded');
    expect(engine.batches).toHaveLength(1);
    engine.batches[0].release();
    await b.idle();
  });

  it('refuses images beyond maxQueue with queue_full and a retry hint from the work admitted at the engine service rate', async () => {
    const engine = fakeEngine();
    let now = 0;
    const b = new Batcher({ infer: engine.infer, maxBatchSize: 2, batchTimeoutMs: 0, maxQueue: 4, now: () => now, maxRetryAfterSeconds: 10 });
    // no rate measured yet: the hint is the 1 s minimum
    const running = b.submit(images([1, 2]), 2, 60_000);
    await until(() => engine.batches.length === 1);
    const queued = b.submit(images([3, 4, 5, 6]), 4, 600_000);
    const refused = await b.submit(images([7]), 1, 60_000).catch((e: unknown) => e);
    expect(codeOf(refused)).toBe('queue_full');
    expect((refused as { details: { retryAfterSeconds: number } }).details.retryAfterSeconds).toBe(1);
    // the batch of 2 took 1 s of engine time → 2 images/s
    now = 1000;
    engine.batches[0].release();
    await running;
    await until(() => engine.batches.length === 2);
    // a long idle stretch does not make the engine look slower
    now = 120_000;
    const more = b.submit(images([8, 9]), 2, 600_000);
    const again = await b.submit(images([11, 12]), 2, 60_000).catch((e: unknown) => e);
    expect(codeOf(again)).toBe('queue_full');
    // 2 in inference + 4 queued + 2 of its own = 8 images at 2 images/s
    expect((again as { details: { retryAfterSeconds: number } }).details.retryAfterSeconds).toBe(4);
    // capped at maxRetryAfterSeconds however slow the engine looks
    b.observeCapacity(1, 1000);
    const capped = await b.submit(images([13, 14]), 2, 60_000).catch((e: unknown) => e);
    expect((capped as { details: { retryAfterSeconds: number } }).details.retryAfterSeconds).toBe(10);
    for (let i = 1; b.depth > 0; i++) {
      engine.batches[i].release();
      await until(() => engine.batches.length > i + 1 || b.depth === 0);
    }
    await more;
    await queued;
  });

  it('counts admitted images still being prepared against maxQueue, and frees them on release', async () => {
    const engine = fakeEngine();
    const depths: number[] = [];
    const b = new Batcher({ infer: engine.infer, maxBatchSize: 8, batchTimeoutMs: 0, maxQueue: 4, onDepth: (d) => depths.push(d) });
    const decoding = b.admit(3); // three images of a request whose bytes are still being decoded
    expect(b.depth).toBe(3);
    expect(depths.at(-1)).toBe(3);
    expect(() => b.admit(2)).toThrow(expect.objectContaining({ code: 'queue_full' }));
    const refused = await b.submit(images([9, 9]), 2, 60_000).catch((e: unknown) => e);
    expect(codeOf(refused)).toBe('queue_full');
    const one = b.admit(1); // fits: 3 + 1 = maxQueue
    one.release(); // its image failed to decode
    one.release(); // idempotent
    expect(b.depth).toBe(3);
    const answer = decoding.submit(images([1, 2, 3]), 60_000);
    expect(() => decoding.release()).not.toThrow(); // a used ticket's release is a no-op
    expect(b.depth).toBe(3);
    await until(() => engine.batches.length === 1);
    engine.batches[0].release();
    expect(await answer).toEqual([10, 20, 30]);
    expect(b.depth).toBe(0);
    expect(depths.at(-1)).toBe(0);
  });

  it('answers work admitted before draining began, and refuses new work once it has', async () => {
    const engine = fakeEngine();
    const b = new Batcher({ infer: engine.infer, maxBatchSize: 8, batchTimeoutMs: 0, maxQueue: 10 });
    const ticket = b.admit(2);
    b.close();
    expect(() => b.admit(1)).toThrow(expect.objectContaining({ code: 'draining' }));
    let idle = false;
    const drained = b.idle().then(() => (idle = true));
    await tick();
    expect(idle).toBe(false); // the admitted images are not answered yet
    const answer = ticket.submit(images([4, 5]), 60_000);
    await until(() => engine.batches.length === 1);
    engine.batches[0].release();
    expect(await answer).toEqual([40, 50]);
    await drained;
  });

  it('reports the depth (queued + in inference) on every change and resolves idle() when empty', async () => {
    const engine = fakeEngine();
    const depths: number[] = [];
    const b = new Batcher({ infer: engine.infer, maxBatchSize: 8, batchTimeoutMs: 0, maxQueue: 100, onDepth: (d) => depths.push(d) });
    const p = b.submit(images([1, 2, 3]), 3, 10_000);
    await until(() => engine.batches.length === 1);
    let idle = false;
    const done = b.idle().then(() => (idle = true));
    await tick();
    expect(idle).toBe(false);
    engine.batches[0].release();
    await p;
    await done;
    expect(depths[0]).toBe(3);
    expect(depths.at(-1)).toBe(0);
  });

  it('after close() refuses new work with draining but finishes what it holds', async () => {
    const engine = fakeEngine();
    const b = new Batcher({ infer: engine.infer, maxBatchSize: 1, batchTimeoutMs: 0, maxQueue: 100 });
    const a = b.submit(images([1]), 1, 10_000);
    const c = b.submit(images([2]), 1, 10_000);
    await until(() => engine.batches.length === 1);
    b.close();
    expect(codeOf(await b.submit(images([3]), 1, 10_000).catch((e: unknown) => e))).toBe('draining');
    engine.batches[0].release();
    await until(() => engine.batches.length === 2);
    engine.batches[1].release();
    expect(await Promise.all([a, c])).toEqual([[10], [20]]);
    await b.idle();
  });

  it('rejects a pixel buffer whose length does not match the image count', async () => {
    const b = new Batcher<number>({ infer: async () => [], maxBatchSize: 1, batchTimeoutMs: 0, maxQueue: 100 });
    expect(codeOf(await b.submit(new Float32Array(10), 1, 100).catch((e: unknown) => e))).toBe('invalid_tensor');
    await expect(b.submit(new Float32Array(0), 0, 100)).resolves.toEqual([]);
  });
});
