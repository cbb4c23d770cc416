import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { CONTRACTION_KERNEL_VARIABLE, keepContractionsSignalSafe } from '../../../../runtime/engine/tfjs-node-compat.js';
import { testBackend } from '../../../support/backend.js';
import { repoRoot } from '../../../support/runtime-process.js';

const run = promisify(execFile);

describe('keepContractionsSignalSafe', () => {
  it('selects Eigen’s contraction kernels unless the environment chose', () => {
    const env: NodeJS.ProcessEnv = {};
    expect(keepContractionsSignalSafe(env)).toBe('0');
    expect(env[CONTRACTION_KERNEL_VARIABLE]).toBe('0');
    const chosen: NodeJS.ProcessEnv = { [CONTRACTION_KERNEL_VARIABLE]: '1' };
    expect(keepContractionsSignalSafe(chosen)).toBe('1');
  });
});

// Native TensorFlow's oneDNN sgemm moved the stack pointer into the heap while it ran, so a
// signal handled in it corrupted the heap: this script aborted under `--cpu-prof` in every run
// here before the engine set TENSORFLOW_USE_CUSTOM_CONTRACTION_KERNEL=0 (docs/engine.md, "Native
// TensorFlow and signals"). On the wasm project the same script checks the wasm engine's ops.
describe(`the engine's contractions under a sampling profiler (${testBackend})`, () => {
  it('survive SIGPROF every 100 µs: the process exits 0 with finite results', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'digitserve-prof-'));
    try {
      const env: NodeJS.ProcessEnv = { ...process.env, TFJS_BACKEND: testBackend, NODE_OPTIONS: '' };
      delete env[CONTRACTION_KERNEL_VARIABLE]; // the code's default, not the test harness's
      const script = path.join(repoRoot, 'test/unit/runtime/engine/fixtures/contractions.ts');
      const { stdout } = await run(process.execPath, ['--cpu-prof', '--cpu-prof-interval', '100', `--cpu-prof-dir=${dir}`, '--import', 'tsx', script], {
        cwd: repoRoot,
        env,
        maxBuffer: 1 << 20,
      });
      const line = JSON.parse(stdout.trim().split('\n').pop()!) as { backend: string; rounds: number; contractionKernel: string | null; finite: boolean };
      // selectBackend sets the variable only when it loads TensorFlow
      expect(line).toEqual({ backend: testBackend, rounds: 60, contractionKernel: testBackend === 'tensorflow' ? '0' : null, finite: true });
      expect(fs.readdirSync(dir).some((f) => f.endsWith('.cpuprofile'))).toBe(true);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);
});
