import { status } from '@grpc/grpc-js';
import { jest } from '@jest/globals';
import { mnistDigit } from '../../../support/images.js';
import { logLine, startTestRuntime, type TestRuntime } from '../server/support/in-process.js';
import { OipClient } from './client.js';

// The gRPC request log line, and draining.
// SHUTDOWN_DELAY_MS stands for the time the endpoints take to stop routing to a draining pod (a
// preStop sleep). gRPC calls arriving in it are answered like HTTP requests, not refused; the
// runtime refuses new calls (UNAVAILABLE) only once the delay is over.
jest.setTimeout(300_000);

let t: TestRuntime | undefined;
let c: OipClient | undefined;
afterAll(async () => {
  c?.close();
  await t?.stop();
});

const infer = (client: OipClient, index: number) =>
  client.call<{ outputs: { name: string }[]; raw_output_contents: Buffer[] }>('ModelInfer', {
    model_name: 'mnist-cnn',
    inputs: [{ name: 'pixels', datatype: 'FP32', shape: [1, 28, 28, 1], contents: { fp32_contents: [...mnistDigit(index).pixels] } }],
  });

const digitOf = (res: { outputs: { name: string }[]; raw_output_contents: Buffer[] }) => res.raw_output_contents[res.outputs.findIndex((o) => o.name === 'digit')].readInt32LE(0);

beforeAll(async () => {
  t = await startTestRuntime({ SHUTDOWN_DELAY_MS: '10000' });
  c = new OipClient(`127.0.0.1:${t.runtime.grpcPort}`);
}, 300_000);

it("logs where a ModelInfer call's time went, as the HTTP routes do", async () => {
  expect((await infer(c!, 3)).error).toBeUndefined();
  const line = (await logLine(t!, (l) => l.grpc === 'ModelInfer' && l.msg === 'request')) as { ms: number; stages: Record<string, number> };
  expect(Object.keys(line.stages)).toEqual(['body', 'parse', 'prepare', 'batchWait', 'engine', 'rest']);
  expect(line.stages.engine).toBeGreaterThan(0);
  expect(Object.values(line.stages).reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(line.ms + 0.5);
});

it('answers ModelInfer during SHUTDOWN_DELAY_MS while readiness is false, refuses it after', async () => {
  if (!t || !c) throw new Error('no runtime');
  const before = await infer(c, 7);
  expect(before.error).toBeUndefined();

  const stopping = t.runtime.shutdown('test');
  expect((await c.call('ServerReady', {})).value).toEqual({ ready: false });
  const during = await infer(c, 7);
  expect(during.error).toBeUndefined();
  expect(digitOf(during.value!)).toBe(digitOf(before.value!));
  expect(digitOf(during.value!)).toBe(mnistDigit(7).label);
  expect(t.runtime.lifecycle.acceptsCalls()).toBe(true);

  await stopping;
  expect(t.runtime.lifecycle.acceptsCalls()).toBe(false);
  const after = await infer(c, 7);
  expect(after.error?.code).toBe(status.UNAVAILABLE);
  t = undefined;
});
