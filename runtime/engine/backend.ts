import os from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu'; // registers the 'cpu' fallback backend
import { backendPreferenceFromEnv, type BackendPreference } from './backend-preference.js';
import { nativeTensorFlowSettings, restoreUtilForTfjsNode } from './tfjs-node-compat.js';

export { BACKEND_PREFERENCES, backendPreferenceFromEnv, type BackendPreference } from './backend-preference.js';

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
 * importable, else `@tensorflow/tfjs-backend-wasm` (XNNPACK). Native is the default where it is
 * installed because it is the faster one (measured in docs/engine.md, "Backends"). tfjs-node is
 * not in package.json: its own install downloads libtensorflow from a host many machines cannot
 * reach; `npm run setup:native` installs it. The default preference comes from `TFJS_BACKEND`.
 *
 * Threads: tfjs-backend-wasm uses its multi-threaded binary only in browsers (it reports no
 * thread support under Node, tensorflow/tfjs#3830), so each Node process runs XNNPACK on one
 * thread; more cores are used by more processes, not by this setting.
 */
export async function selectBackend(
  pref: BackendPreference = backendPreferenceFromEnv(),
  importer: (m: string) => Promise<unknown> = (m) => import(m),
): Promise<BackendChoice> {
  let fallbackReason: string | undefined;
  if (pref === 'auto' || pref === 'tensorflow') {
    try {
      restoreUtilForTfjsNode();
      nativeTensorFlowSettings(); // engine workers: engine-client.ts sets them on the main thread
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
