import { EngineClient, defaultWorkerUrl } from '../../../../runtime/engine/engine-client.js';
import { isRuntimeError } from '../../../../runtime/errors.js';
import { testBackend } from '../../../support/backend.js';
import { pseudoImages, writeTinyModelVersion } from '../model/tiny-model.js';

let client: EngineClient;
const logged: string[] = [];

beforeAll(async () => {
  client = await EngineClient.start({
    modelUri: await writeTinyModelVersion(0.5),
    backend: testBackend,
    seed: 1,
    logger: { info: (_o, m) => logged.push(m ?? ''), error: (_o, m) => logged.push(m ?? '') },
  });
}, 120_000);

afterAll(async () => {
  await client.close();
});

describe('EngineClient', () => {
  it('runs the engine in a worker from the .ts source next to it', () => {
    expect(defaultWorkerUrl().pathname).toMatch(/runtime\/engine\/worker\.ts$/);
    expect(client.info.metadata.name).toBe('tiny');
    expect(client.info.backend).toBe(testBackend);
    expect(logged).toContain('engine ready');
  });

  it('predicts a batch in order and with the requested number of samples', async () => {
    const x = pseudoImages(4);
    const out = await client.predict(x.slice(), 4, 12);
    expect(out).toHaveLength(4);
    const single = await client.predict(x.slice(784, 1568), 1, 1);
    expect(single[0].stdDev).toBe(0);
    expect(out[0].probabilities).toHaveLength(10);
  });

  it('accepts a view into a larger buffer without detaching it', async () => {
    const big = pseudoImages(3);
    const view = big.subarray(784, 3 * 784);
    await client.predict(view, 2, 3);
    expect(big.length).toBe(3 * 784);
  });

  // pixels are validated once, at the application layer's boundary (test/unit/runtime/server/errors.test.ts)
  it('rejects a sample count outside 1..256 with invalid_tensor before it reaches the worker', async () => {
    const cases: [Float32Array, number, number][] = [
      [new Float32Array(784), 1, 0],
      [new Float32Array(784), 1, 257],
    ];
    for (const [x, n, t] of cases) {
      const err = await client.predict(x, n, t).catch((e: unknown) => e);
      expect(isRuntimeError(err) && err.code).toBe('invalid_tensor');
    }
  });

  it('keeps the worker tensor count flat across many calls', async () => {
    await client.predict(pseudoImages(8), 8, 10);
    const before = await client.memory();
    await Promise.all(Array.from({ length: 30 }, (_, i) => client.predict(pseudoImages(1 + (i % 8), i), 1 + (i % 8), 10)));
    expect((await client.memory()).numTensors).toBe(before.numTensors);
  });

  it('fails with not_ready after close, and close is idempotent', async () => {
    const other = await EngineClient.start({ modelUri: await writeTinyModelVersion(0.5), backend: testBackend });
    let exitCode: number | undefined;
    other.onExit((c) => (exitCode = c));
    await other.close();
    await other.close();
    const err = await other.predict(pseudoImages(1), 1, 2).catch((e: unknown) => e);
    expect(isRuntimeError(err) && err.code).toBe('not_ready');
    expect(exitCode).toBeDefined();
  }, 120_000);

  it('fails to start with the reason when the model cannot be loaded', async () => {
    await expect(EngineClient.start({ modelUri: '/nonexistent/model/1' })).rejects.toThrow(/engine failed to load \/nonexistent\/model\/1/);
  }, 120_000);
});
