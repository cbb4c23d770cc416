import { status } from '@grpc/grpc-js';
import { jest } from '@jest/globals';
import { encodeBytesElements } from '../../../../runtime/oip/binary-tensor.js';
import { encodeDigit, mnistDigit } from '../../../support/images.js';
import { modelCalibratedAt } from '../../../support/model-fixture.js';
import { metricValue } from '../../../support/runtime-process.js';
import { startTestRuntime, type TestRuntime } from '../server/support/in-process.js';
import descriptorModule, { type IDescriptorProto, type IFileDescriptorProto } from 'protobufjs/ext/descriptor/index.js';
import { mapEntryName } from '../../../../runtime/grpc/reflection-descriptors.js';
import { healthClient, OipClient, reflectedFiles, reflectedServices } from './client.js';

const descriptor = descriptorModule as unknown as typeof import('protobufjs/ext/descriptor/index.js');

// The OIP gRPC service (inference.GRPCInferenceService) of a real in-process runtime, called
// with @grpc/grpc-js: typed and raw contents, errors as status codes, the shared queue and
// deadlines, metrics, health, reflection and draining. (Triton's own client: test/clients/.)
jest.setTimeout(300_000);

let t: TestRuntime;
let c: OipClient;
const MODEL = 'mnist-cnn';
const DIGITS = [7, 2, 4, 11, 13];

beforeAll(async () => {
  // T = 256 and batches of 32: a full request keeps the engine busy long enough to queue behind it
  // one engine worker: the deadline test needs a request queued behind a batch in inference
  t = await startTestRuntime({ MODEL_URI: modelCalibratedAt(256), MAX_BATCH_SIZE: '32', MAX_IMAGES_PER_REQUEST: '32', MAX_QUEUE: '32', REQUEST_TIMEOUT_MS: '300000', MAX_BODY_BYTES: String(1 << 20), ENGINE_WORKERS: '1' });
  c = new OipClient(`127.0.0.1:${t.runtime.grpcPort}`);
}, 300_000);
afterAll(async () => {
  c?.close();
  await t?.stop();
});

interface InferResponse {
  model_name: string;
  model_version: string;
  id: string;
  outputs: { name: string; datatype: string; shape: number[] }[];
  raw_output_contents: Buffer[];
}

const pixelsOf = (indices: number[]) => indices.flatMap((i) => [...mnistDigit(i).pixels]);
const pixelInput = (n: number) => ({ name: 'pixels', datatype: 'FP32', shape: [n, 28, 28, 1] });
const labels = (indices: number[]) => indices.map((i) => mnistDigit(i).label);

/** The `digit` output of a response, from its raw contents. */
function digitsOf(res: InferResponse): number[] {
  const i = res.outputs.findIndex((o) => o.name === 'digit');
  const raw = res.raw_output_contents[i];
  return Array.from({ length: raw.length / 4 }, (_, k) => raw.readInt32LE(k * 4));
}

async function depth(): Promise<number> {
  return ((await (await fetch(`${t.base}/v1/stats`)).json()) as { queueDepthNow: number }).queueDepthNow;
}
async function until(cond: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 4000; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`gave up waiting for ${what}`);
}
const counted = async (code: string) => metricValue(await (await fetch(t.metrics)).text(), 'digitserve_requests_total', { code }) ?? 0;

describe('OIP over gRPC', () => {
  it('answers liveness, readiness, server and model metadata', async () => {
    expect((await c.call('ServerLive', {})).value).toEqual({ live: true });
    expect((await c.call('ServerReady', {})).value).toEqual({ ready: true });
    expect((await c.call('ModelReady', { name: MODEL })).value).toEqual({ ready: true });
    expect((await c.call('ModelReady', { name: MODEL, version: '1' })).value).toEqual({ ready: true });
    expect((await c.call('ServerMetadata', {})).value).toMatchObject({ name: 'digitserve', extensions: [] });
    const meta = (await c.call<{ versions: string[]; inputs: unknown[]; outputs: { name: string }[] }>('ModelMetadata', { name: MODEL, version: '1' })).value!;
    expect(meta).toMatchObject({ name: MODEL, versions: ['1'], inputs: [{ name: 'image', datatype: 'BYTES', shape: [-1] }, { name: 'pixels', datatype: 'FP32', shape: [-1, 28, 28, 1] }] });
    expect(meta.outputs.map((o) => o.name)).toEqual(['probabilities', 'digit', 'confidence', 'reliable', 'predictive_entropy', 'mutual_information']);
    for (const [method, req] of [['ModelReady', { name: 'other' }], ['ModelReady', { name: MODEL, version: '9' }], ['ModelMetadata', { name: 'other' }], ['ModelMetadata', { name: MODEL, version: '9' }]] as const) {
      const r = await c.call(method, req);
      expect(r.error?.code).toBe(status.NOT_FOUND);
    }
  });

  it('infers from typed contents: fp32_contents pixels and bytes_contents image files', async () => {
    const px = await c.call<InferResponse>('ModelInfer', { model_name: MODEL, id: 'typed-1', inputs: [{ ...pixelInput(DIGITS.length), contents: { fp32_contents: pixelsOf(DIGITS) } }] });
    expect(px.error).toBeUndefined();
    expect(px.value).toMatchObject({ model_name: MODEL, model_version: '1', id: 'typed-1' });
    expect(digitsOf(px.value!)).toEqual(labels(DIGITS));
    expect(px.metadata?.get('x-model-version')).toEqual(['1']);
    const files = await Promise.all(DIGITS.map((i) => encodeDigit(mnistDigit(i).pixels, { format: 'png', invert: true, scale: 4 })));
    const img = await c.call<InferResponse>('ModelInfer', { model_name: MODEL, inputs: [{ name: 'image', datatype: 'BYTES', shape: [files.length], contents: { bytes_contents: files } }] });
    expect(digitsOf(img.value!)).toEqual(labels(DIGITS));
  });

  it('infers from raw_input_contents, with every output laid out raw and only the outputs asked for', async () => {
    const raw = Buffer.from(new Float32Array(pixelsOf(DIGITS)).buffer);
    const all = (await c.call<InferResponse>('ModelInfer', { model_name: MODEL, inputs: [pixelInput(DIGITS.length)], raw_input_contents: [raw] })).value!;
    const n = DIGITS.length;
    expect(all.outputs).toEqual([
      { name: 'probabilities', datatype: 'FP32', shape: [n, 10], parameters: {}, contents: null },
      { name: 'digit', datatype: 'INT32', shape: [n], parameters: {}, contents: null },
      { name: 'confidence', datatype: 'FP32', shape: [n], parameters: {}, contents: null },
      { name: 'reliable', datatype: 'BOOL', shape: [n], parameters: {}, contents: null },
      { name: 'predictive_entropy', datatype: 'FP32', shape: [n], parameters: {}, contents: null },
      { name: 'mutual_information', datatype: 'FP32', shape: [n], parameters: {}, contents: null },
    ]);
    expect(all.raw_output_contents.map((b) => b.length)).toEqual([n * 40, n * 4, n * 4, n, n * 4, n * 4]);
    expect(digitsOf(all)).toEqual(labels(DIGITS));
    const files = await Promise.all(DIGITS.slice(0, 2).map((i) => encodeDigit(mnistDigit(i).pixels, { format: 'jpeg', invert: true, scale: 5 })));
    const one = (await c.call<InferResponse>('ModelInfer', { model_name: MODEL, model_version: '1', inputs: [{ name: 'image', datatype: 'BYTES', shape: [2] }], outputs: [{ name: 'digit' }], raw_input_contents: [encodeBytesElements(files)] })).value!;
    expect(one.outputs.map((o) => o.name)).toEqual(['digit']);
    expect(digitsOf(one)).toEqual(labels(DIGITS.slice(0, 2)));
  });

  it('refuses bad requests with INVALID_ARGUMENT and a message saying what is accepted, and stays ready', async () => {
    const raw = Buffer.from(new Float32Array(784).buffer);
    const bad: [object, RegExp][] = [
      [{ inputs: [] }, /0 inputs; send exactly one input/],
      [{ inputs: [pixelInput(1)], raw_input_contents: [raw, raw] }, /raw_input_contents has 2 entries for 1 inputs/],
      [{ inputs: [{ ...pixelInput(1), contents: { fp32_contents: [1] } }], raw_input_contents: [raw] }, /use one or the other/],
      [{ inputs: [{ ...pixelInput(1), shape: [1, 784] }], raw_input_contents: [raw] }, /must be \[n, 28, 28, 1\]/],
      [{ inputs: [pixelInput(1)], raw_input_contents: [raw.subarray(0, 10)] }, /not a multiple of 4/],
      [{ inputs: [{ ...pixelInput(1), contents: { fp32_contents: Array(784).fill(2) } }] }, /values must be numbers in 0\.\.1/],
      [{ inputs: [{ name: 'image', datatype: 'BYTES', shape: [1] }], raw_input_contents: [Buffer.from([9, 0, 0, 0, 1])] }, /declares 9 bytes but only 1 remain/],
      [{ inputs: [{ name: 'image', datatype: 'BYTES', shape: [1], contents: { bytes_contents: [Buffer.from('\x89PNG\r\n\x1a\n broken')] } }] }, /image/i],
      [{ inputs: [pixelInput(1)], raw_input_contents: [raw], outputs: [{ name: 'logits' }] }, /unknown output "logits"/],
      [{ inputs: [{ name: 'tensor', datatype: 'FP32', shape: [1] }], raw_input_contents: [Buffer.alloc(4)] }, /unknown input "tensor"/],
    ];
    for (const [req, message] of bad) {
      const r = await c.call('ModelInfer', { model_name: MODEL, ...req });
      expect({ code: r.error?.code, details: r.error?.details }).toEqual({ code: status.INVALID_ARGUMENT, details: expect.stringMatching(message) });
    }
    expect((await c.call('ModelInfer', { model_name: 'other', inputs: [pixelInput(1)], raw_input_contents: [raw] })).error?.code).toBe(status.NOT_FOUND);
    expect((await c.call('ServerReady', {})).value).toEqual({ ready: true });
  });

  it('refuses a message over MAX_BODY_BYTES with RESOURCE_EXHAUSTED', async () => {
    const r = await c.call('ModelInfer', { model_name: MODEL, inputs: [{ name: 'image', datatype: 'BYTES', shape: [1] }], raw_input_contents: [Buffer.alloc(2 << 20)] });
    expect(r.error?.code).toBe(status.RESOURCE_EXHAUSTED);
  });

  it('counts answered infers in digitserve_requests_total like HTTP', async () => {
    const before = await counted('200');
    await c.call('ModelInfer', { model_name: MODEL, inputs: [{ ...pixelInput(1), contents: { fp32_contents: pixelsOf([7]) } }] });
    expect(await counted('200')).toBe(before + 1);
  });

  it('sheds with RESOURCE_EXHAUSTED and a retry-after trailer once the shared queue is full; accepted work is answered', async () => {
    const full = () => c.call<InferResponse>('ModelInfer', { model_name: MODEL, inputs: [{ ...pixelInput(32), contents: { fp32_contents: pixelsOf(Array.from({ length: 32 }, (_, i) => i)) } }] });
    const before = await counted('429');
    const answers = await Promise.all(Array.from({ length: 6 }, full));
    const shed = answers.filter((a) => a.error);
    expect(shed.length).toBeGreaterThan(0);
    for (const a of shed) {
      expect(a.error!.code).toBe(status.RESOURCE_EXHAUSTED);
      expect(a.error!.details).toMatch(/queue/);
      expect(Number(a.error!.metadata.get('retry-after')[0])).toBeGreaterThanOrEqual(1);
    }
    for (const a of answers.filter((x) => !x.error)) expect(digitsOf(a.value!)).toHaveLength(32);
    expect(await counted('429')).toBe(before + shed.length);
  });

  it('answers DEADLINE_EXCEEDED when the client deadline passes while queued, and gives the place back', async () => {
    const full = () => c.call<InferResponse>('ModelInfer', { model_name: MODEL, inputs: [{ ...pixelInput(32), contents: { fp32_contents: pixelsOf(Array.from({ length: 32 }, (_, i) => i)) } }] });
    // the deadline is a quarter of what one full batch takes on this machine now: a request queued
    // behind a batch the engine just started cannot be answered in time, on a fast machine or a slow one
    const t0 = performance.now();
    expect((await full()).error).toBeUndefined();
    const deadlineMs = Math.max(20, (performance.now() - t0) / 4);
    const before = await counted('504');
    const big = full();
    await until(async () => (await depth()) === 32, 'the batch to reach the engine');
    const late = await c.call('ModelInfer', { model_name: MODEL, inputs: [{ ...pixelInput(1), contents: { fp32_contents: pixelsOf([7]) } }] }, { deadline: Date.now() + deadlineMs });
    expect(late.error?.code).toBe(status.DEADLINE_EXCEEDED);
    expect((await big).error).toBeUndefined();
    // the server's own answer to it was the deadline too (counted as HTTP's 504), and nothing stays queued
    await until(async () => (await counted('504')) === before + 1, 'the 504 to be counted');
    await until(async () => (await depth()) === 0, 'the queue to empty');
  });

  it('reports SERVING on the standard health service and lists its services through reflection', async () => {
    const h = healthClient(`127.0.0.1:${t.runtime.grpcPort}`);
    for (const service of ['', 'inference.GRPCInferenceService']) {
      const r = await new Promise<{ status: unknown }>((resolve, reject) => h.Check({ service }, (e, v) => (e ? reject(e) : resolve(v))));
      expect(r.status).toBe('SERVING');
    }
    h.close();
    const services = await reflectedServices(`127.0.0.1:${t.runtime.grpcPort}`);
    expect(services).toEqual(expect.arrayContaining(['inference.GRPCInferenceService', 'grpc.health.v1.Health']));
  });

  it('serves descriptors through reflection that protoc-strict clients (grpcurl, protobuf-go) accept: map entries named <Field>Entry', async () => {
    // protobuf-go refuses a descriptor whose map entry is not named as protoc names it
    // ("invalid map: incorrect implicit map entry name"): grpcurl could list but not call
    const maps: string[] = [];
    const check = (m: IDescriptorProto) => {
      for (const nested of m.nestedType ?? []) {
        if (nested.options?.mapEntry) {
          const field = (m.field ?? []).find((f) => f.typeName?.split('.').pop() === nested.name);
          expect(field).toBeDefined();
          expect(nested.name).toBe(mapEntryName(field!.name!));
          maps.push(`${m.name}.${field!.name}`);
        }
        check(nested);
      }
    };
    for (const symbol of ['inference.GRPCInferenceService', 'grpc.health.v1.Health']) {
      for (const bytes of await reflectedFiles(`127.0.0.1:${t.runtime.grpcPort}`, symbol)) {
        for (const m of (descriptor.FileDescriptorProto.decode(bytes) as unknown as IFileDescriptorProto).messageType ?? []) check(m);
      }
    }
    expect(maps).toEqual(expect.arrayContaining(['ModelMetadataResponse.properties', 'ModelInferRequest.parameters', 'InferInputTensor.parameters']));
  });

  // last: it stops the runtime
  it('on shutdown: health turns NOT_SERVING, new calls get UNAVAILABLE, the call in progress is answered', async () => {
    const h = healthClient(`127.0.0.1:${t.runtime.grpcPort}`);
    const seen: unknown[] = [];
    const watch = h.Watch({ service: '' });
    watch.on('data', (m: { status: unknown }) => seen.push(m.status));
    watch.on('error', () => undefined); // ended by the shutdown
    await until(async () => seen.length > 0, 'the first health status');
    const inFlight = c.call<InferResponse>('ModelInfer', { model_name: MODEL, inputs: [{ ...pixelInput(32), contents: { fp32_contents: pixelsOf(Array.from({ length: 32 }, (_, i) => i)) } }] });
    await until(async () => (await depth()) === 32, 'the batch to reach the engine');
    const stopping = t.runtime.shutdown('test');
    await until(async () => seen.includes('NOT_SERVING'), 'NOT_SERVING');
    const late = await c.call('ModelInfer', { model_name: MODEL, inputs: [{ ...pixelInput(1), contents: { fp32_contents: pixelsOf([7]) } }] });
    expect(late.error?.code).toBe(status.UNAVAILABLE);
    const answered = await inFlight;
    expect(answered.error).toBeUndefined();
    expect(digitsOf(answered.value!)).toHaveLength(32);
    await stopping;
    expect(seen[0]).toBe('SERVING');
    h.close();
  });
});
