import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { CONTRACTION_KERNEL_VARIABLE, nativeTensorFlowSettings, ONEDNN_OPTS_VARIABLE } from '../../../../runtime/engine/tfjs-node-compat.js';
import { testBackend } from '../../../support/backend.js';
import { repoRoot } from '../../../support/runtime-process.js';

const run = promisify(execFile);

describe('nativeTensorFlowSettings', () => {
  it('keeps oneDNN sgemm off; oneDNN primitives on for training only; an environment that chose keeps its choice', () => {
    const env: NodeJS.ProcessEnv = {};
    expect(nativeTensorFlowSettings(env)).toEqual({ [ONEDNN_OPTS_VARIABLE]: '0', [CONTRACTION_KERNEL_VARIABLE]: '0' });
    expect(env).toEqual({ [ONEDNN_OPTS_VARIABLE]: '0', [CONTRACTION_KERNEL_VARIABLE]: '0' });
    expect(nativeTensorFlowSettings({}, 'training')).toEqual({ [ONEDNN_OPTS_VARIABLE]: '1', [CONTRACTION_KERNEL_VARIABLE]: '0' });
    const chosen: NodeJS.ProcessEnv = { [ONEDNN_OPTS_VARIABLE]: '1', [CONTRACTION_KERNEL_VARIABLE]: '1' };
    expect(nativeTensorFlowSettings(chosen)).toEqual({ [ONEDNN_OPTS_VARIABLE]: '1', [CONTRACTION_KERNEL_VARIABLE]: '1' });
  });
});

// Native TensorFlow's oneDNN sgemm moved the stack pointer into the heap while it ran, so a
// signal handled in it corrupted the heap: this script aborted under `--cpu-prof` in every run
// here with TensorFlow's own defaults on this machine (docs/engine.md, "Native TensorFlow and
// signals"). On the wasm project the same script checks the wasm engine's ops.
describe(`the engine's contractions under a sampling profiler (${testBackend})`, () => {
  it('survive SIGPROF every 100 µs: the process exits 0 with finite results', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'digitserve-prof-'));
    try {
      const env: NodeJS.ProcessEnv = { ...process.env, TFJS_BACKEND: testBackend, NODE_OPTIONS: '' };
      delete env[CONTRACTION_KERNEL_VARIABLE]; // the code's defaults, not the test harness's
      delete env[ONEDNN_OPTS_VARIABLE];
      const script = path.join(repoRoot, 'test/unit/runtime/engine/fixtures/contractions.ts');
      const { stdout } = await run(process.execPath, ['--cpu-prof', '--cpu-prof-interval', '100', `--cpu-prof-dir=${dir}`, '--import', 'tsx', script], {
        cwd: repoRoot,
        env,
        maxBuffer: 1 << 20,
      });
      const line = JSON.parse(stdout.trim().split('\n').pop()!) as { backend: string; rounds: number; contractionKernel: string | null; onednnOpts: string | null; finite: boolean };
      // selectBackend sets them only when it loads TensorFlow
      const native = testBackend === 'tensorflow';
      expect(line).toEqual({ backend: testBackend, rounds: 60, contractionKernel: native ? '0' : null, onednnOpts: native ? '0' : null, finite: true });
      expect(fs.readdirSync(dir).some((f) => f.endsWith('.cpuprofile'))).toBe(true);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);
});
