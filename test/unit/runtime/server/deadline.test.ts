import { jest } from '@jest/globals';
import { METRIC } from '../../../../runtime/metrics/names.js';
import { metricValue } from '../../../support/runtime-process.js';
import { bigPng } from '../../../support/images.js';
import { errorCode, predict, startTestRuntime, type TestRuntime } from './support/in-process.js';

// #15 item 8: the deadline holds while images are preprocessed. With one preprocessing worker and
// a 1 s deadline, ten concurrent 36-megapixel PNGs (each decode takes a large share of a second or
// more) cannot all be decoded in time: the requests past their deadline are answered 504, and the
// decodes queued for them never start. Before the fix every decode ran to completion and was thrown
// away. Behaviour, not timing: counted by the runtime's digitserve_preprocess_total.
jest.setTimeout(300_000);

let t: TestRuntime;
beforeAll(async () => {
  t = await startTestRuntime({ PREPROCESS_WORKERS: '1', REQUEST_TIMEOUT_MS: '1000' });
});
afterAll(() => t?.stop());

async function outcomes(): Promise<Record<string, number>> {
  const text = await (await fetch(t.metrics)).text();
  const of = (outcome: string) => metricValue(text, METRIC.preprocess, { outcome }) ?? NaN;
  return { done: of('done'), failed: of('failed'), cancelled: of('cancelled') };
}

describe('deadline while images wait for preprocessing', () => {
  it('answers 504 and never decodes for a request already past its deadline', async () => {
    const png = await bigPng();
    const answers = await Promise.all(Array.from({ length: 10 }, async () => {
      const res = await predict(t.base, png, 'image/png');
      return { status: res.status, code: res.status === 200 ? 'ok' : await errorCode(res) };
    }));
    for (const a of answers) expect([200, 504]).toContain(a.status);
    expect(answers.filter((a) => a.status === 504).every((a) => a.code === 'deadline_exceeded')).toBe(true);
    expect(answers.filter((a) => a.status === 504).length).toBeGreaterThan(0);
    // every image either was decoded or was dropped before its decode started: none is still queued
    // behind the others, and some were dropped
    let o = await outcomes();
    for (let i = 0; i < 100 && o.done + o.failed + o.cancelled < 10; i++) {
      await new Promise((r) => setTimeout(r, 200));
      o = await outcomes();
    }
    expect(o.done + o.failed + o.cancelled).toBe(10);
    expect(o.cancelled).toBeGreaterThan(0);
    // nothing of the dead requests is left admitted
    expect(t.runtime.service()!.batcher.depth).toBe(0);
  });
});
