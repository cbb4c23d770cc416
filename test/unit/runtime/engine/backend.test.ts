import * as tf from '@tensorflow/tfjs';
import { backendPreferenceFromEnv, selectBackend } from '../../../../runtime/engine/backend.js';
import { testBackend } from '../../../support/backend.js';

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

  it('takes native TensorFlow by default when tfjs-node is importable (the faster backend)', async () => {
    // a stand-in registered under the native backend's name, as importing tfjs-node does
    const choice = await selectBackend('auto', async () => tf.registerBackend('tensorflow', tf.findBackendFactory('cpu')!));
    expect(choice).toEqual({ name: 'tensorflow' });
    expect(tf.getBackend()).toBe('tensorflow');
    await tf.setBackend('cpu');
    tf.removeBackend('tensorflow');
  });

  it(`initialises the real ${testBackend} backend when asked for it`, async () => {
    const choice = await selectBackend(testBackend);
    expect(choice.name).toBe(testBackend);
    expect(choice.fallbackReason).toBeUndefined();
    expect(tf.getBackend()).toBe(testBackend);
    expect(Array.from(await tf.matMul(tf.tensor2d([1, 2], [1, 2]), tf.tensor2d([3, 4], [2, 1])).data())).toEqual([11]);
  });
});

describe('backendPreferenceFromEnv', () => {
  it('reads TFJS_BACKEND, auto when unset or empty, and refuses anything else', () => {
    expect(backendPreferenceFromEnv({})).toBe('auto');
    expect(backendPreferenceFromEnv({ TFJS_BACKEND: ' ' })).toBe('auto');
    expect(backendPreferenceFromEnv({ TFJS_BACKEND: 'wasm' })).toBe('wasm');
    expect(backendPreferenceFromEnv({ TFJS_BACKEND: 'tensorflow' })).toBe('tensorflow');
    expect(() => backendPreferenceFromEnv({ TFJS_BACKEND: 'native' })).toThrow(/TFJS_BACKEND must be one of auto, tensorflow, wasm, cpu, not 'native'/);
  });
});
