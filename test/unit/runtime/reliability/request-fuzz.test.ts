import { jest } from '@jest/globals';
import fc from 'fast-check';
import { errorShapeProblem, sendRaw, type RawRequest } from '../../../support/hostile-http.js';
import { encodeDigit, mnistDigit } from '../../../support/images.js';
import { startTestRuntime, type TestRuntime } from '../server/support/in-process.js';

// Property-based fuzz of whole request bodies against the real HTTP server (in-process, so the
// engine worker's tensor memory can be read): arbitrary and mutated bodies under every content
// type on the v1 and OIP routes. The properties: never a 5xx, every refusal a JSON error with a
// code, the server healthy afterwards and the engine's tensors back to their baseline.
jest.setTimeout(300_000);

let t: TestRuntime;
let seeds: Buffer[];

beforeAll(async () => {
  t = await startTestRuntime({ MAX_BODY_BYTES: String(256 * 1024), MAX_INPUT_PIXELS: '4000000', MAX_IMAGES_PER_REQUEST: '8', MAX_QUEUE: '64' });
  const d = mnistDigit(5);
  seeds = await Promise.all(
    (['png', 'jpeg', 'webp', 'gif', 'tiff', 'png16'] as const).map((format) => encodeDigit(d.pixels, { format, invert: format === 'jpeg', scale: 2 })),
  );
}, 120_000);
afterAll(() => t?.stop());

const BOUNDARY = 'fuzzBoundary7MA4YWxk';

/** A valid encoded image with a few bytes flipped, cut short, or with junk appended. */
const mutatedImage = fc
  .record({ seed: fc.nat(5), flips: fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 8 }), cut: fc.option(fc.nat()), tail: fc.uint8Array({ maxLength: 64 }) })
  .map(({ seed, flips, cut, tail }) => {
    const b = Buffer.from(seeds[seed]);
    for (const [at, v] of flips) b[at % b.length] = v;
    const kept = cut === null ? b : b.subarray(0, cut % (b.length + 1));
    return Buffer.concat([kept, Buffer.from(tail)]);
  });

const anyBytes = fc.oneof(fc.uint8Array({ maxLength: 4096 }).map((a) => Buffer.from(a)), mutatedImage);

/** A tensor-ish JSON value: right and wrong shapes, NaN/Infinity spelled as JSON can and cannot. */
const pixelRow = fc.array(fc.oneof(fc.double({ noNaN: false }), fc.constantFrom(0, 1, 0.5, -1, 2, '0.3', null, true, 1e308)), { minLength: 0, maxLength: 30 });
const instance = fc.oneof(
  fc.array(pixelRow, { maxLength: 30 }),
  fc.record({ b64: fc.oneof(fc.base64String({ maxLength: 200 }), mutatedImage.map((b) => b.toString('base64')), fc.string()) }),
  fc.jsonValue({ maxDepth: 3 }),
);
const v1Json = fc.oneof(fc.record({ instances: fc.array(instance, { maxLength: 10 }) }), fc.jsonValue({ maxDepth: 4 })).map((v) => Buffer.from(JSON.stringify(v) ?? 'null'));
const oipJson = fc
  .oneof(
    fc.record({
      id: fc.option(fc.string()),
      inputs: fc.array(
        fc.record({
          name: fc.constantFrom('image', 'pixels', 'x', ''),
          datatype: fc.constantFrom('BYTES', 'FP32', 'INT8', 'FP64', 'BOOL', 'nonsense'),
          shape: fc.array(fc.integer({ min: -2, max: 40 }), { maxLength: 5 }),
          data: fc.oneof(fc.array(fc.double(), { maxLength: 900 }), fc.array(mutatedImage.map((b) => b.toString('base64')), { maxLength: 3 }), fc.jsonValue({ maxDepth: 2 })),
        }),
        { maxLength: 3 },
      ),
      outputs: fc.option(fc.array(fc.record({ name: fc.string({ maxLength: 20 }) }), { maxLength: 3 })),
    }),
    fc.jsonValue({ maxDepth: 4 }),
  )
  .map((v) => Buffer.from(JSON.stringify(v) ?? 'null'));
const multipart = fc
  .array(fc.record({ field: fc.string({ maxLength: 12 }), type: fc.constantFrom('image/png', 'image/jpeg', 'text/plain', 'application/octet-stream', ''), bytes: anyBytes, file: fc.boolean() }), { maxLength: 10 })
  .chain((parts) =>
    fc.record({ parts: fc.constant(parts), close: fc.boolean(), cut: fc.option(fc.nat()) }).map(({ close, cut }) => {
      const chunks: Buffer[] = [];
      for (const p of parts) {
        const name = p.field.replace(/["\r\n]/g, '_');
        chunks.push(Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"${p.file ? '; filename="d.bin"' : ''}\r\n${p.type ? `Content-Type: ${p.type}\r\n` : ''}\r\n`), p.bytes, Buffer.from('\r\n'));
      }
      if (close) chunks.push(Buffer.from(`--${BOUNDARY}--\r\n`));
      const body = Buffer.concat(chunks);
      return cut === null ? body : body.subarray(0, cut % (body.length + 1));
    }),
  );

const v1Path = '/v1/models/mnist-cnn:predict';
const oipPath = '/v2/models/mnist-cnn/infer';

const request: fc.Arbitrary<RawRequest> = fc.oneof(
  fc.record({ ct: fc.constantFrom('image/png', 'image/jpeg', 'image/webp', 'image/gif', 'image/tiff', 'image/avif', 'application/octet-stream', 'text/plain', ''), body: anyBytes }).map(({ ct, body }) => ({
    method: 'POST',
    path: v1Path,
    headers: ct ? { 'Content-Type': ct } : ({} as Record<string, string>),
    body,
  })),
  v1Json.map((body) => ({ method: 'POST', path: v1Path, headers: { 'Content-Type': 'application/json' }, body })),
  multipart.map((body) => ({ method: 'POST', path: v1Path, headers: { 'Content-Type': `multipart/form-data; boundary=${BOUNDARY}` }, body })),
  fc.oneof(oipJson, anyBytes).map((body) => ({ method: 'POST', path: oipPath, headers: { 'Content-Type': 'application/json' }, body })),
);

/** Why an answer breaks the contract, or undefined. */
function problem(req: RawRequest, res: Awaited<ReturnType<typeof sendRaw>>): string | undefined {
  if (res.status === 0) return `no answer: ${res.error}`;
  if (res.status >= 500) return `answered ${res.status}: ${res.body.toString('utf8').slice(0, 200)}`;
  if (res.status === 200) return undefined;
  if (![400, 413, 415, 422, 429].includes(res.status)) return `unexpected status ${res.status}`;
  return errorShapeProblem(res, req.path.startsWith('/v2'));
}

async function fuzz(numRuns: number, seed: number): Promise<{ statuses: Record<number, number> }> {
  const statuses: Record<number, number> = {};
  await fc.assert(
    fc.asyncProperty(request, async (req) => {
      const res = await sendRaw(t.base, req, 60_000);
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      const p = problem(req, res);
      if (p) throw new Error(`${req.method} ${req.path} (${req.headers?.['Content-Type'] ?? 'no content type'}, ${req.body?.length ?? 0} bytes): ${p}`);
    }),
    { numRuns, seed },
  );
  return { statuses };
}

describe('fuzzed request bodies against the runtime', () => {
  it('never answer 5xx, always a JSON error with a code, and leave tensors and the server as they were', async () => {
    const engine = t.runtime.service()!.engine;
    const before = await engine.memory();
    const first = await fuzz(250, 20261122);
    const afterFirst = { mem: await engine.memory(), rss: process.memoryUsage().rss };
    const second = await fuzz(250, 7);
    console.log(`fuzz statuses: ${JSON.stringify(first.statuses)} then ${JSON.stringify(second.statuses)}; RSS ${(afterFirst.rss / 2 ** 20).toFixed(0)} -> ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`);
    const afterSecond = { mem: await engine.memory(), rss: process.memoryUsage().rss };

    // the fuzz reached every kind of answer, including real predictions
    const all = { ...first.statuses };
    for (const [k, v] of Object.entries(second.statuses)) all[Number(k)] = (all[Number(k)] ?? 0) + v;
    expect(Object.keys(all).map(Number)).toEqual(expect.arrayContaining([200, 400, 415, 422]));

    expect(afterFirst.mem.numTensors).toBe(before.numTensors);
    expect(afterSecond.mem.numTensors).toBe(before.numTensors);
    expect(afterSecond.mem.numBytes).toBe(before.numBytes);
    // the second round of the same load does not keep growing (the wasm heap never shrinks, so
    // only growth after the first round would mean a leak); generous against GC timing
    expect(afterSecond.rss - afterFirst.rss).toBeLessThan(96 * 1024 * 1024);

    expect((await fetch(`${t.base}/healthz`)).status).toBe(200);
    expect((await fetch(`${t.base}/readyz`)).status).toBe(200);
    const ok = await fetch(`${t.base}${v1Path}`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: seeds[0] });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { predictions: { digit: number }[] }).predictions[0].digit).toBe(5);
    expect(await (await fetch(t.metrics)).text()).not.toMatch(/digitserve_requests_total\{code="5\d\d"/);
  });
});
