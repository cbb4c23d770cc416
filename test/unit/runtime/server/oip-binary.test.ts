import { encodeBytesElements } from '../../../../runtime/oip/binary-tensor.js';
import { encodeDigit, mnistDigit } from '../../../support/images.js';
import { startTestRuntime, type TestRuntime } from './support/in-process.js';

// The OIP binary tensor data extension (SPEC §7), as Triton's tritonclient.http sends it by
// default: a JSON header of Inference-Header-Content-Length bytes, then the inputs' raw data;
// outputs asked for as binary come back the same way. (tritonclient itself: test/clients/.)
let t: TestRuntime;
beforeAll(async () => {
  t = await startTestRuntime({ MAX_BODY_BYTES: String(256 << 10) });
}, 120_000);
afterAll(() => t?.stop());

const DIGITS = [7, 2, 4];
const labels = DIGITS.map((i) => mnistDigit(i).label);

/** A body of the extension and its headers: the JSON header, then the raw data. */
function binaryBody(header: object, ...data: Buffer[]): [Buffer, Record<string, string>] {
  const json = Buffer.from(JSON.stringify(header));
  return [Buffer.concat([json, ...data]), { 'Inference-Header-Content-Length': String(json.length), 'content-type': 'application/octet-stream' }];
}

async function post(body: Buffer, headers: Record<string, string>): Promise<Response> {
  return fetch(`${t.base}/v2/models/mnist-cnn/infer`, { method: 'POST', headers, body });
}

interface Output {
  name: string;
  datatype: string;
  shape: number[];
  parameters?: { binary_data_size: number };
  data?: unknown[];
}

/** A binary answer → its JSON header and each binary output's raw bytes. */
async function readBinary(res: Response): Promise<{ header: { id?: string; outputs: Output[] }; raw: Record<string, Buffer> }> {
  const n = Number(res.headers.get('inference-header-content-length'));
  const body = Buffer.from(await res.arrayBuffer());
  const header = JSON.parse(body.subarray(0, n).toString()) as { outputs: Output[] };
  const raw: Record<string, Buffer> = {};
  let at = n;
  for (const o of header.outputs) {
    if (!o.parameters) continue;
    raw[o.name] = body.subarray(at, at + o.parameters.binary_data_size);
    at += o.parameters.binary_data_size;
  }
  expect(at).toBe(body.length);
  return { header, raw };
}

const int32s = (b: Buffer) => Array.from({ length: b.length / 4 }, (_, i) => b.readInt32LE(i * 4));

describe('OIP binary tensor data extension', () => {
  it('reads image files as BYTES elements (uint32 LE length prefix) and answers every output binary with binary_data_output', async () => {
    const files = await Promise.all(DIGITS.map((i) => encodeDigit(mnistDigit(i).pixels, { format: 'png', invert: true, scale: 4 })));
    const raw = encodeBytesElements(files);
    const [body, headers] = binaryBody({ id: 'b-1', inputs: [{ name: 'image', datatype: 'BYTES', shape: [3], parameters: { binary_data_size: raw.length } }], parameters: { binary_data_output: true } }, raw);
    const res = await post(body, headers);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    const { header, raw: out } = await readBinary(res);
    expect(header.id).toBe('b-1');
    expect(header.outputs.every((o) => o.data === undefined)).toBe(true);
    expect(int32s(out.digit)).toEqual(labels);
    expect(out.probabilities.length).toBe(3 * 10 * 4);
    expect(out.reliable.length).toBe(3);
    for (const name of ['confidence', 'predictive_entropy', 'mutual_information']) expect(out[name].length).toBe(12);
  });

  it('reads FP32 pixels as raw little-endian floats; outputs follow their own binary_data, else JSON', async () => {
    const px = Buffer.from(new Float32Array(DIGITS.flatMap((i) => [...mnistDigit(i).pixels])).buffer);
    const req = {
      inputs: [{ name: 'pixels', datatype: 'FP32', shape: [3, 28, 28, 1], parameters: { binary_data_size: px.length } }],
      outputs: [{ name: 'digit', parameters: { binary_data: true } }, { name: 'reliable', parameters: { binary_data: false } }, { name: 'confidence' }],
    };
    const { header, raw } = await readBinary(await post(...binaryBody(req, px)));
    expect(header.outputs.map((o) => [o.name, o.parameters !== undefined])).toEqual([['digit', true], ['confidence', false], ['reliable', false]]);
    expect(int32s(raw.digit)).toEqual(labels);
    expect(header.outputs.find((o) => o.name === 'reliable')!.data).toHaveLength(3);
  });

  it('answers a JSON request asking for binary outputs with the extension too, and a JSON one in JSON', async () => {
    const data = DIGITS.flatMap((i) => [...mnistDigit(i).pixels]);
    const json = (binary: boolean) => fetch(`${t.base}/v2/models/mnist-cnn/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs: [{ name: 'pixels', datatype: 'FP32', shape: [3, 28, 28, 1], data }], outputs: [{ name: 'digit', parameters: { binary_data: binary } }] }) });
    const bin = await json(true);
    expect(int32s((await readBinary(bin)).raw.digit)).toEqual(labels);
    const plain = await json(false);
    expect(plain.headers.get('inference-header-content-length')).toBeNull();
    expect(((await plain.json()) as { outputs: Output[] }).outputs[0].data).toEqual(labels);
  });

  it('refuses malformed binary bodies with the right status and an OIP error saying what is expected', async () => {
    const px = Buffer.from(new Float32Array(784).buffer);
    const input = (size: number, extra: object = {}) => ({ inputs: [{ name: 'pixels', datatype: 'FP32', shape: [1, 28, 28, 1], parameters: { binary_data_size: size }, ...extra }] });
    const cases: [Buffer, Record<string, string>, number, RegExp][] = [
      [...binaryBody(input(784 * 4), px), 200, /./],
      [Buffer.from('{}'), { 'Inference-Header-Content-Length': '99' }, 400, /Inference-Header-Content-Length is "99"/],
      [Buffer.from('{}'), { 'Inference-Header-Content-Length': 'two' }, 400, /must be the byte length of the JSON header/],
      [Buffer.concat([Buffer.from('{"inputs": ['), px]), { 'Inference-Header-Content-Length': '12' }, 400, /not valid JSON/],
      [...binaryBody(input(784 * 4 + 4), px), 400, /declares binary_data_size 3140 but only 3136 bytes follow/],
      [...binaryBody(input(784 * 4), px, Buffer.alloc(8)), 400, /8 bytes after the JSON header belong to no input/],
      [...binaryBody(input(10), px.subarray(0, 10)), 422, /not a multiple of 4/],
      [...binaryBody(input(784 * 4, { data: [1] }), px), 422, /both "data" and "binary_data_size"/],
      [...binaryBody(input(-1)), 422, /must be a byte count/],
      [...binaryBody({ inputs: [{ name: 'image', datatype: 'BYTES', shape: [1], parameters: { binary_data_size: 5 } }] }, Buffer.from([200, 0, 0, 0, 1])), 422, /declares 200 bytes but only 1 remain/],
      [...binaryBody({ ...input(784 * 4), outputs: [{ name: 'digit', parameters: { binary_data: 'yes' } }] }, px), 422, /"binary_data" is "yes"; it must be true or false/],
      [...binaryBody(input(300 << 10), Buffer.alloc(300 << 10)), 413, /MAX_BODY_BYTES/],
    ];
    for (const [body, headers, status, message] of cases) {
      const res = await post(body, headers);
      expect({ status: res.status, message: status === 200 ? '' : ((await res.json()) as { error: string }).error }).toEqual({ status, message: status === 200 ? '' : expect.stringMatching(message) });
    }
    expect((await fetch(`${t.base}/readyz`)).status).toBe(200);
  });
});
