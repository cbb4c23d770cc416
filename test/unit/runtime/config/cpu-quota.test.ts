import path from 'node:path';
import { parseConfig } from '../../../../runtime/config.js';
import { cgroupCpus, effectiveCpus, parseCfs, parseCpuMax, enginePlan, threadPlan } from '../../../../runtime/cpu-quota.js';
import { repoRoot } from '../../../support/runtime-process.js';

// #15 item 11: thread pools sized from the effective CPU quota, not the host's core count.
const fixture = (name: string) => path.join(repoRoot, 'test', 'fixtures', 'cgroup', name);

describe('CPU quota', () => {
  it('reads cgroup v1 cpu.cfs_quota_us / cpu.cfs_period_us and v2 cpu.max', () => {
    expect(cgroupCpus(fixture('v1-half'))).toBe(0.5);
    expect(cgroupCpus(fixture('v1-unlimited'))).toBeUndefined();
    expect(cgroupCpus(fixture('v2-two'))).toBe(2);
    expect(cgroupCpus(fixture('v2-max'))).toBeUndefined();
    expect(cgroupCpus(fixture('none'))).toBeUndefined();
    expect(parseCpuMax('150000 100000\n')).toBe(1.5);
    expect(parseCfs('-1', '100000')).toBeUndefined();
    expect(parseCfs('garbage', '100000')).toBeUndefined();
  });

  it('takes the smallest of host CPUs, cgroup quota and CPU_LIMIT_MILLICORES', () => {
    expect(effectiveCpus({ hostCpus: 32 })).toBe(32);
    expect(effectiveCpus({ hostCpus: 32, cgroupCpus: 2 })).toBe(2);
    expect(effectiveCpus({ hostCpus: 32, cgroupCpus: 2, limitCpus: 0.5 })).toBe(0.5);
    expect(effectiveCpus({ hostCpus: 1, cgroupCpus: 4 })).toBe(1);
  });

  it('sizes preprocessing workers and libvips threads from it', () => {
    expect(threadPlan(0.5)).toEqual({ preprocessWorkers: 1, libvipsThreads: 1 });
    expect(threadPlan(2)).toEqual({ preprocessWorkers: 1, libvipsThreads: 2 });
    expect(threadPlan(4)).toEqual({ preprocessWorkers: 3, libvipsThreads: 1 });
    expect(threadPlan(32)).toEqual({ preprocessWorkers: 4, libvipsThreads: 8 });
    expect(threadPlan(8, 0)).toEqual({ preprocessWorkers: 0, libvipsThreads: 8 });
  });

  it('gives a 500m pod on a 32-core node one worker and one libvips thread', () => {
    const host = { hostCpus: 32 };
    expect(parseConfig({ CPU_LIMIT_MILLICORES: '500' }, host)).toMatchObject({ cpus: 0.5, preprocessWorkers: 1, libvipsThreads: 1 });
    expect(parseConfig({}, { hostCpus: 32, cgroupCpus: 0.5 })).toMatchObject({ cpus: 0.5, preprocessWorkers: 1, libvipsThreads: 1 });
    expect(parseConfig({}, host)).toMatchObject({ cpus: 32, preprocessWorkers: 4, libvipsThreads: 8 });
    // an explicit PREPROCESS_WORKERS wins
    expect(parseConfig({ CPU_LIMIT_MILLICORES: '500', PREPROCESS_WORKERS: '3' }, host)).toMatchObject({ preprocessWorkers: 3, libvipsThreads: 1 });
    expect(() => parseConfig({ CPU_LIMIT_MILLICORES: '0' }, host)).toThrow(/CPU_LIMIT_MILLICORES/);
  });

  it('sizes the engine workers from the quota, not the host: one per CPU beyond the first on wasm, one native worker with the CPUs as threads', () => {
    expect(enginePlan(0.5, false)).toEqual({ engineWorkers: 1, intraOpThreads: 1 });
    expect(enginePlan(2, false)).toEqual({ engineWorkers: 1, intraOpThreads: 2 });
    expect(enginePlan(4.5, false)).toEqual({ engineWorkers: 3, intraOpThreads: 1 });
    expect(enginePlan(64, false)).toEqual({ engineWorkers: 8, intraOpThreads: 8 });
    expect(enginePlan(2, true)).toEqual({ engineWorkers: 1, intraOpThreads: 2 });
    expect(enginePlan(0.5, true)).toEqual({ engineWorkers: 1, intraOpThreads: 1 });
    // an explicit count wins; native threads are divided among the workers
    expect(enginePlan(4, true, 2)).toEqual({ engineWorkers: 2, intraOpThreads: 2 });
    expect(enginePlan(2, true, 3)).toEqual({ engineWorkers: 3, intraOpThreads: 1 });
    expect(parseConfig({ ENGINE_WORKERS: '3', ENGINE_WORKER_HEAP_MB: '256' }, { hostCpus: 2 })).toMatchObject({ engineWorkers: 3, engineWorkerHeapMb: 256 });
    expect(parseConfig({}, { hostCpus: 2 })).toMatchObject({ engineWorkers: undefined, engineWorkerHeapMb: 512 });
    expect(() => parseConfig({ ENGINE_WORKERS: '0' }, { hostCpus: 2 })).toThrow(/ENGINE_WORKERS/);
  });
});
