import { EngineClient, type EngineClientOptions } from '../../../../runtime/engine/engine-client.js';
import { EnginePool } from '../../../../runtime/engine/engine-pool.js';
import { isRuntimeError } from '../../../../runtime/errors.js';
import { testBackend } from '../../../support/backend.js';
import { pseudoImages, writeTinyModelVersion } from '../model/tiny-model.js';

let modelUri: string;
let pool: EnginePool;

// Native TensorFlow runs one engine worker per process (assertWorkersFit): the tests of a pool of
// several run on wasm in the unit-native project too; the single-worker ones on the project's backend.
const poolBackend = testBackend === 'tensorflow' ? 'wasm' : testBackend;

beforeAll(async () => {
  modelUri = await writeTinyModelVersion(0.5);
  pool = await EnginePool.start({ workers: 2, modelUri, backend: poolBackend, seed: 1 });
}, 180_000);

afterAll(async () => {
  await pool?.close();
});

/** Resolves once `check` holds, polling on the event loop (no wall-clock bound: jest's timeout is the bound). */
async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setTimeout(r, 20));
}

describe('EnginePool', () => {
  it('starts its workers as separate threads serving the same model', () => {
    expect(pool.size).toBe(2);
    const threads = pool.stats().map((s) => s.threadId);
    expect(new Set(threads).size).toBe(2);
    expect(pool.info.metadata.name).toBe('tiny');
  });

  it('hands a batch to the idle worker, not behind one in progress', async () => {
    const before = pool.stats().map((s) => s.batches);
    // two batches at once: the second must not queue behind the first on the same worker
    const [a, b] = await Promise.all([pool.predict(pseudoImages(32, 1), 32, 64), pool.predict(pseudoImages(2, 2), 2, 64)]);
    expect(a).toHaveLength(32);
    expect(b).toHaveLength(2);
    const after = pool.stats().map((s) => s.batches);
    expect(after.map((n, i) => n - before[i])).toEqual([1, 1]);
  });

  it("reports each worker's own memory and the sum", async () => {
    const each = await pool.workerMemory();
    expect(each.map((m) => m.index)).toEqual([0, 1]);
    for (const m of each) {
      expect(m.workerBytes).toBeGreaterThan(1024 * 1024);
      expect(m.numTensors).toBeGreaterThan(0);
    }
    const total = await pool.memory();
    // heaps move between the two reads; tensors do not
    expect(total.workerBytes).toBeGreaterThan(Math.max(each[0].workerBytes!, each[1].workerBytes!));
    expect(total.numTensors).toBe(each[0].numTensors + each[1].numTensors);
  });

  it('answers the batch of a worker that dies with not_ready, replaces the worker and serves on', async () => {
    const exits: number[] = [];
    pool.onExit((c) => exits.push(c));
    const victim = pool.worker(0)!;
    const oldThread = victim.threadId;
    // a batch on worker 0 (both idle: the first one is picked), then the worker dies under it
    const lost = pool.predict(pseudoImages(64, 3), 64, 256).then(
      () => 'answered',
      (e: unknown) => e,
    );
    expect(pool.stats()[0].inFlight).toBe(1);
    await victim.kill();
    const err = await lost;
    // a crash mid-batch: an error naming the replacement, never a hang
    expect(isRuntimeError(err) && err.code).toBe('not_ready');
    expect((err as Error).message).toMatch(/worker 0 .*being replaced/);
    await until(() => pool.stats()[0].replaced === 1 && pool.worker(0) !== undefined);
    expect(pool.stats()[0].threadId).not.toBe(oldThread);
    const again = await Promise.all([pool.predict(pseudoImages(4, 4), 4, 8), pool.predict(pseudoImages(4, 5), 4, 8)]);
    expect(again.map((r) => r.length)).toEqual([4, 4]);
    expect(exits).toEqual([]); // the pool itself never went away
  }, 180_000);

  it('holds calls made while its only worker is being replaced, and answers them once it is back', async () => {
    const one = await EnginePool.start({ workers: 1, modelUri, backend: testBackend });
    try {
      await one.worker(0)!.kill();
      // the exit is seen; the replacement is loading: this call waits for it
      const out = await one.predict(pseudoImages(2, 6), 2, 4);
      expect(out).toHaveLength(2);
      expect(one.stats()[0].replaced).toBe(1);
    } finally {
      await one.close();
    }
  }, 180_000);

  it('gives up (onExit, every call not_ready) when a lost worker cannot be replaced', async () => {
    let starts = 0;
    const startWorker = (o: EngineClientOptions) => {
      starts++;
      return starts === 1 ? EngineClient.start(o) : Promise.reject(new Error('no memory left for another worker'));
    };
    const one = await EnginePool.start({ workers: 1, modelUri, backend: testBackend, startWorker });
    const exited = new Promise<number>((resolve) => one.onExit(resolve));
    await one.worker(0)!.kill();
    await exited;
    const err = await one.predict(pseudoImages(1), 1, 2).catch((e: unknown) => e);
    expect(isRuntimeError(err) && err.code).toBe('not_ready');
    expect((err as Error).message).toMatch(/could not be replaced: no memory left/);
    await one.close();
  }, 180_000);

  it('closes every worker; close is idempotent and later calls fail with not_ready', async () => {
    const two = await EnginePool.start({ workers: 2, modelUri, backend: poolBackend });
    const exits: number[] = [];
    two.onExit((c) => exits.push(c));
    await two.close();
    await two.close();
    expect(exits).toEqual([0]);
    const err = await two.predict(pseudoImages(1), 1, 2).catch((e: unknown) => e);
    expect(isRuntimeError(err) && err.code).toBe('not_ready');
  }, 180_000);

  it('grows to more workers, each taking batches once it is ready', async () => {
    const one = await EnginePool.start({ workers: 1, modelUri, backend: poolBackend });
    try {
      await one.grow(2);
      expect(one.size).toBe(2);
      await Promise.all([one.predict(pseudoImages(16, 7), 16, 32), one.predict(pseudoImages(2, 8), 2, 32)]);
      expect(one.stats().map((s) => s.batches)).toEqual([1, 1]);
      await one.grow(1); // never shrinks
      expect(one.size).toBe(2);
    } finally {
      await one.close();
    }
  }, 180_000);

  it('refuses more than one native TensorFlow worker before starting any, saying why', async () => {
    let starts = 0;
    const startWorker = (o: EngineClientOptions) => {
      starts++;
      return EngineClient.start(o);
    };
    await expect(EnginePool.start({ workers: 2, modelUri, backend: 'tensorflow', startWorker })).rejects.toThrow(/one engine worker per process, not 2: .*unsynchronised set of op attribute names/);
    expect(starts).toBe(0);
  });

  it(`with TFJS_BACKEND=auto, starts one worker and refuses the second if that one runs native TensorFlow (${testBackend})`, async () => {
    const started: EngineClient[] = [];
    const startWorker = async (o: EngineClientOptions) => {
      const c = await EngineClient.start(o);
      started.push(c);
      return c;
    };
    const attempt = await EnginePool.start({ workers: 2, modelUri, backend: 'auto', startWorker }).catch((e: unknown) => e as Error);
    const firstBackend = started[0].info.backend;
    if (firstBackend === 'tensorflow') {
      expect((attempt as Error).message).toMatch(/one engine worker per process/);
      expect(started).toHaveLength(1); // the second never started; the first was closed
      await expect(started[0].predict(pseudoImages(1), 1, 2)).rejects.toMatchObject({ code: 'not_ready' });
    } else {
      const two = attempt as EnginePool;
      expect(two.size).toBe(2);
      await two.close();
    }
    // the unit-native project has tfjs-node installed: there the refusal is what ran
    if (testBackend === 'tensorflow') expect(firstBackend).toBe('tensorflow');
  }, 180_000);

  it('refuses a worker count below 1', async () => {
    await expect(EnginePool.start({ workers: 0, modelUri })).rejects.toThrow(/engine workers must be an integer ≥ 1/);
  });
});
