import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../../../runtime/engine/backend.js';

describe('selectBackend', () => {
  it('falls back to wasm with the reason when tfjs-node cannot be imported', async () => {
    const tried: string[] = [];
    const choice = await selectBackend('auto', async (m) => {
      tried.push(m);
      throw new Error(`Cannot find package '${m}'`);
    });
    expect(tried).toEqual(['@tensorflow/tfjs-node']);
    expect(choice.name).toBe('wasm');
    expect(choice.threads).toBeGreaterThanOrEqual(1);
    expect(choice.fallbackReason).toMatch(/tfjs-node is not importable/);
    expect(tf.getBackend()).toBe('wasm');
  });

  it('falls back when tfjs-node imports but registers no backend', async () => {
    const choice = await selectBackend('auto', async () => ({}));
    expect(choice.name).toBe('wasm');
    expect(choice.fallbackReason).toMatch(/registered no 'tensorflow' backend/);
  });

  it('fails instead of falling back when tensorflow is required', async () => {
    await expect(
      selectBackend('tensorflow', async () => {
        throw new Error('nope');
      }),
    ).rejects.toThrow(/not importable/);
  });

  it('selects wasm or cpu on request without trying tfjs-node', async () => {
    let calls = 0;
    const importer = async (): Promise<unknown> => {
      calls++;
      return {};
    };
    expect((await selectBackend('wasm', importer)).name).toBe('wasm');
    expect((await selectBackend('cpu', importer)).name).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(calls).toBe(0);
  });
});
