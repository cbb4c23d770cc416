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

/**
 * Makes native TensorFlow safe to interrupt: sets `TENSORFLOW_USE_CUSTOM_CONTRACTION_KERNEL=0`
 * unless the environment already sets it. TensorFlow's CPU MatMul and Conv2D run their inner
 * products through oneDNN's JIT sgemm, whose AVX and AVX-512 kernels point the stack pointer at a
 * heap workspace while they run (oneDNN issue 4845, fixed in oneDNN 3.12; the TensorFlow 2.21 wheel
 * bundles an older one). A signal handled by a thread inside such a kernel writes its frame into
 * that heap block: glibc aborts later ("corrupted size vs. prev_size") or the process segfaults.
 * Node's `--cpu-prof` (SIGPROF every millisecond) does it within seconds; any profiler that samples
 * by signal would. With the variable at 0 TensorFlow uses Eigen's kernels, which keep the stack
 * pointer on the stack (docs/engine.md, "Native TensorFlow and signals").
 *
 * TensorFlow reads the variable with getenv(), once, at its first contraction, so this must run
 * where `process.env` writes reach the C environment — the main thread, not a worker thread's own
 * copy of `process.env` — before the first MatMul or Conv2D. Returns the value in force.
 */
export function keepContractionsSignalSafe(env: NodeJS.ProcessEnv = process.env): string {
  env[CONTRACTION_KERNEL_VARIABLE] ??= '0';
  return env[CONTRACTION_KERNEL_VARIABLE]!;
}
