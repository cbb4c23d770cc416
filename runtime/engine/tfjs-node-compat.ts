import util from 'node:util';

/**
 * `@tensorflow/tfjs-node` 4.22's JavaScript calls `util.isNullOrUndefined` and `util.isArray`,
 * which Node 23 removed (deprecated since Node 4). Restores the two, with their documented
 * meaning, on the `node:util` object every module shares; a no-op where they still exist
 * (Node 20, 22). Call before the first import of tfjs-node.
 */
export function restoreUtilForTfjsNode(target: object = util): void {
  const u = target as { isNullOrUndefined?: (x: unknown) => boolean; isArray?: (x: unknown) => boolean };
  u.isNullOrUndefined ??= (x: unknown) => x === null || x === undefined;
  u.isArray ??= Array.isArray;
}

/** TensorFlow's switch between oneDNN's sgemm (unset, 1) and Eigen's own kernels (0) for contractions. */
export const CONTRACTION_KERNEL_VARIABLE = 'TENSORFLOW_USE_CUSTOM_CONTRACTION_KERNEL';
/** TensorFlow's switch for oneDNN's own operations (convolution, matmul primitives). */
export const ONEDNN_OPTS_VARIABLE = 'TF_ENABLE_ONEDNN_OPTS';

/** What a process runs on native TensorFlow: the runtime's engine, or training. */
export type NativeWorkload = 'inference' | 'training';

/**
 * The settings native TensorFlow runs with here, each unless the environment already sets it:
 *
 * - `TENSORFLOW_USE_CUSTOM_CONTRACTION_KERNEL=0`: MatMul, BatchMatMul and Conv2D run their inner
 *   products on Eigen's kernels instead of oneDNN's JIT sgemm, whose AVX and AVX-512 kernels point
 *   the stack pointer at a heap workspace while they run (oneDNN issue 4845, fixed in oneDNN 3.12;
 *   the TensorFlow 2.21 wheel bundles an older one): a signal handled by a thread inside one writes
 *   its frame into the heap, and glibc aborts later ("corrupted size vs. prev_size") or the process
 *   segfaults. Node's `--cpu-prof` (SIGPROF every millisecond) did it within seconds.
 * - `TF_ENABLE_ONEDNN_OPTS`: for training 1 — eager convolutions and matmuls, backward ones
 *   included, run as oneDNN primitives (which keep the stack pointer on the stack): 22 % less time
 *   per step here. For inference 0, TensorFlow's own default on CPUs without AVX-512 VNNI/BF16 or
 *   AMX: the primitives added ~1.6 ms to a single request's latency and gained no throughput.
 *
 * Measured in docs/engine.md, "Native TensorFlow and signals". TensorFlow reads both with getenv()
 * (oneDNN's at start-up, the contraction's at the first contraction), so this must run where
 * `process.env` writes reach the C environment — the main thread, not a worker thread's own copy
 * of `process.env` — before TensorFlow loads. Returns the values in force.
 */
export function nativeTensorFlowSettings(env: NodeJS.ProcessEnv = process.env, workload: NativeWorkload = 'inference'): Record<string, string> {
  env[ONEDNN_OPTS_VARIABLE] ??= workload === 'training' ? '1' : '0';
  env[CONTRACTION_KERNEL_VARIABLE] ??= '0';
  return { [ONEDNN_OPTS_VARIABLE]: env[ONEDNN_OPTS_VARIABLE]!, [CONTRACTION_KERNEL_VARIABLE]: env[CONTRACTION_KERNEL_VARIABLE]! };
}
