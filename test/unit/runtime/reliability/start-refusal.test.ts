import { jest } from '@jest/globals';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defaultModelVersion } from '../../../support/model-fixture.js';
import { RuntimeProcess } from '../../../support/runtime-process.js';

// A runtime whose model contradicts what its environment asks for refuses to start: it writes the
// reason to its termination message file (what the kubelet reports and the operator surfaces) and
// exits non-zero, instead of serving another model under the requested version, or a T its
// confidence mapping was not calibrated at (#15 items 12 and 13). Real processes, the default model.
jest.setTimeout(300_000);

const running: RuntimeProcess[] = [];
afterAll(async () => {
  for (const rp of running) await rp.kill();
});

async function refusal(env: Record<string, string>): Promise<{ code: number | null; message: string }> {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'termination-')), 'termination-log');
  const rp = await RuntimeProcess.launch({ env: { ...env, TERMINATION_MESSAGE_PATH: file, LOG_LEVEL: 'warn' } });
  running.push(rp);
  const exit = await rp.exited;
  return { code: exit.code, message: fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : `(no termination message; output:\n${rp.tail()})` };
}

describe('start-up refusals with a termination message', () => {
  it('refuses a MODEL_VERSION that the loaded metadata contradicts', async () => {
    const r = await refusal({ MODEL_VERSION: '999' });
    expect(r.code).not.toBe(0);
    expect(r.code).not.toBeNull();
    expect(r.message).toContain(`MODEL_VERSION is "999" but the model loaded is version "${defaultModelVersion()}"`);
  });

  it('refuses an MC_SAMPLES the confidence mapping was not calibrated at', async () => {
    const r = await refusal({ MC_SAMPLES: '5' });
    expect(r.code).not.toBe(0);
    expect(r.message).toMatch(/MC_SAMPLES \(T\) is 5 but .*calibrated at T = 30/);
  });

  it('writes a configuration error there too', async () => {
    const r = await refusal({ MAX_BATCH_SIZE: 'many' });
    expect(r.code).toBe(2);
    expect(r.message).toMatch(/MAX_BATCH_SIZE="many"/);
  });
});
