import os from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu'; // registers the 'cpu' fallback backend

export type BackendPreference = 'auto' | 'tensorflow' | 'wasm' | 'cpu';

export interface BackendChoice {
  name: string;
  /** XNNPACK threads actually used (wasm), else undefined. */
  threads?: number;
  /** Why a preferred backend was skipped, if one was. */
  fallbackReason?: string;
}

// A variable module name keeps TypeScript and bundlers from resolving the optional package.
const TFJS_NODE = '@tensorflow/tfjs-node';

/**
 * Picks and initialises the tfjs backend: `@tensorflow/tfjs-node` (native libtensorflow) when it is
 * importable, else `@tensorflow/tfjs-backend-wasm` (XNNPACK). tfjs-node is optional because its
 * install downloads libtensorflow, which fails on machines without that access.
 *
 * Threads: tfjs-backend-wasm uses its multi-threaded binary only in browsers (it reports no
 * thread support under Node, tensorflow/tfjs#3830), so each Node process runs XNNPACK on one
 * thread; more cores are used by more processes, not by this setting.
 */
export async function selectBackend(pref: BackendPreference = 'auto', importer: (m: string) => Promise<unknown> = (m) => import(m)): Promise<BackendChoice> {
  let fallbackReason: string | undefined;
  if (pref === 'auto' || pref === 'tensorflow') {
    try {
      await importer(TFJS_NODE);
      if (tf.findBackend('tensorflow') && (await tf.setBackend('tensorflow'))) {
        await tf.ready();
        return { name: 'tensorflow' };
      }
      fallbackReason = `${TFJS_NODE} loaded but registered no 'tensorflow' backend`;
    } catch (e) {
      fallbackReason = `${TFJS_NODE} is not importable (${(e as Error).message.split('\n')[0]})`;
    }
    if (pref === 'tensorflow') throw new Error(fallbackReason);
  }
  if (pref === 'auto' || pref === 'wasm') {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    wasm.setThreadsCount(Math.max(1, Math.min(4, os.availableParallelism())));
    if (await tf.setBackend('wasm')) {
      await tf.ready();
      return { name: 'wasm', threads: wasm.getThreadsCount(), fallbackReason };
    }
    fallbackReason = 'wasm backend failed to initialise';
    if (pref === 'wasm') throw new Error(fallbackReason);
  }
  await tf.setBackend('cpu');
  await tf.ready();
  return { name: 'cpu', fallbackReason };
}
