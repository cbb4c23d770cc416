import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * How many CPUs this process may really use: the host's, the cgroup's CFS quota (a pod's CPU
 * limit as the kernel enforces it) and the CPU limit the operator passes (CPU_LIMIT_MILLICORES,
 * from the downward API), whichever is smallest. Thread pools are sized from it, not from the
 * host's core count: a 500m pod on a 32-core node must not run 32 busy libvips threads.
 */

/** cgroup v2 `cpu.max`: "<quota> <period>" or "max <period>" → CPUs, undefined when unlimited or unreadable. Pure. */
export function parseCpuMax(text: string): number | undefined {
  const [quota, period] = text.trim().split(/\s+/);
  if (quota === undefined || quota === 'max') return undefined;
  return parseQuota(Number(quota), Number(period ?? 100_000));
}

/** cgroup v1 `cpu.cfs_quota_us` and `cpu.cfs_period_us` → CPUs, undefined when unlimited (-1). Pure. */
export function parseCfs(quotaText: string, periodText: string): number | undefined {
  return parseQuota(Number(quotaText.trim()), Number(periodText.trim()));
}

function parseQuota(quota: number, period: number): number | undefined {
  if (!Number.isFinite(quota) || !Number.isFinite(period) || quota <= 0 || period <= 0) return undefined;
  return quota / period;
}

type Read = (file: string) => string | undefined;

const readOrUndefined: Read = (file) => {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
};

/**
 * The CPU quota of the cgroup mounted at `root` (a container sees its own cgroup there): v2
 * `cpu.max`, else v1 `cpu/cpu.cfs_quota_us` (or `cpu,cpuacct/`). Undefined when there is none.
 */
export function cgroupCpus(root = '/sys/fs/cgroup', read: Read = readOrUndefined): number | undefined {
  const v2 = read(path.join(root, 'cpu.max'));
  if (v2 !== undefined) return parseCpuMax(v2);
  for (const dir of ['cpu', 'cpu,cpuacct', 'cpuacct,cpu']) {
    const quota = read(path.join(root, dir, 'cpu.cfs_quota_us'));
    const period = read(path.join(root, dir, 'cpu.cfs_period_us'));
    if (quota !== undefined && period !== undefined) return parseCfs(quota, period);
  }
  return undefined;
}

export interface CpuFacts {
  hostCpus: number;
  cgroupCpus?: number;
  /** CPU_LIMIT_MILLICORES / 1000. */
  limitCpus?: number;
}

/** The smallest of the known bounds (never below 0.001). Pure. */
export function effectiveCpus(f: CpuFacts): number {
  const known = [f.hostCpus, f.cgroupCpus, f.limitCpus].filter((c): c is number => c !== undefined && Number.isFinite(c) && c > 0);
  return Math.max(0.001, Math.min(...known));
}

/** This process's facts: the host's available parallelism and the cgroup's quota. */
export function detectCpuFacts(): Omit<CpuFacts, 'limitCpus'> {
  return { hostCpus: os.availableParallelism(), cgroupCpus: cgroupCpus() };
}

/**
 * Thread pools for `cpus` CPUs. Preprocessing workers: one per CPU beyond the one the event loop
 * and the engine share, at least 1, at most 4. libvips threads per image operation (the
 * process-wide `sharp.concurrency`): what is left per worker, at least 1 — so workers × libvips
 * threads stays near the quota. Pure.
 */
export function threadPlan(cpus: number, preprocessWorkers?: number): { preprocessWorkers: number; libvipsThreads: number } {
  const whole = Math.max(1, Math.ceil(cpus - 1e-9));
  const workers = preprocessWorkers ?? Math.max(1, Math.min(4, whole - 1));
  return { preprocessWorkers: workers, libvipsThreads: Math.max(1, Math.floor(cpus / Math.max(1, workers))) };
}

/**
 * Engine workers for `cpus` CPUs. wasm runs XNNPACK on one thread per engine under Node, so more
 * CPUs need more workers: one per whole CPU beyond the one the event loop and preprocessing use
 * (at least 1, at most 8) — at T = 30 they take about half a CPU at the engine's saturation
 * (docs/performance.md), and on 2 CPUs a second wasm worker measured slower, not faster. Native
 * TensorFlow parallelises each op over its own intra-op thread pool, so it gets one worker with
 * `intraOpThreads` = the whole CPUs (two single-threaded native workers measured ~40% slower). An
 * explicit count (ENGINE_WORKERS) wins, and native threads are then divided among the workers so
 * that workers × threads stays near the quota. Pure.
 */
export function enginePlan(cpus: number, native: boolean, engineWorkers?: number): { engineWorkers: number; intraOpThreads: number } {
  const whole = Math.max(1, Math.floor(cpus + 1e-9));
  const workers = engineWorkers ?? (native ? 1 : Math.max(1, Math.min(8, whole - 1)));
  return { engineWorkers: workers, intraOpThreads: Math.max(1, Math.floor(whole / workers)) };
}
