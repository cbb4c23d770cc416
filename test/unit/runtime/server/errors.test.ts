import http from 'node:http';
import { encodeDigit, mnistDigit, pngClaiming } from '../../../support/images.js';
import { predict, startTestRuntime, type TestRuntime } from './support/in-process.js';

// Every refusal over real HTTP against the real runtime: status, JSON body and code, and the
// process keeps serving afterwards. Small limits so the tests stay small.
let t: TestRuntime;
beforeAll(async () => {
  t = await startTestRuntime({ MAX_BODY_BYTES: '200000', MAX_IMAGES_PER_REQUEST: '3', MAX_QUEUE: '8', MAX_INPUT_PIXELS: '1000000' });
}, 120_000);
afterAll(() => t?.stop());

const png = (i = 3) => encodeDigit(mnistDigit(i).pixels, { format: 'png', invert: true, scale: 3 });
const rows = () => Array.from({ length: 28 }, () => new Array<number>(28).fill(0));

async function expectError(res: Response, status: number, code: string): Promise<string> {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/application\/json/);
  const body = (await res.json()) as { error: { code: string; message: string } };
  expect(body.error.code).toBe(code);
  expect(body.error.message.length).toBeGreaterThan(10);
  return body.error.message;
}

async function expectOipError(res: Response, status: number): Promise<string> {
  expect(res.status).toBe(status);
  const body = (await res.json()) as { error: string };
  expect(typeof body.error).toBe('string');
  return body.error;
}

afterEach(async () => {
  expect((await fetch(`${t.base}/healthz`)).status).toBe(200);
});

describe('400 bad request', () => {
  it('refuses bytes declared as PNG that are no image', async () => {
    await expectError(await predict(t.base, 'definitely not a png', 'image/png'), 400, 'invalid_image');
  });
  it('refuses a truncated PNG', async () => {
    const bytes = await png();
    await expectError(await predict(t.base, bytes.subarray(0, Math.floor(bytes.length / 2)), 'image/png'), 400, 'invalid_image');
  });
  it('refuses an empty body', async () => {
    await expectError(await predict(t.base, new Uint8Array(0), 'image/png'), 400, 'empty_body');
  });
  it('refuses malformed JSON', async () => {
    await expectError(await predict(t.base, '{"instances": [', 'application/json'), 400, 'malformed_json');
  });
  it('refuses b64 that is not base64', async () => {
    await expectError(await predict(t.base, JSON.stringify({ instances: [{ b64: '***' }] }), 'application/json'), 400, 'invalid_image');
  });
  it('refuses a multipart body that cannot be parsed, and one without file parts', async () => {
    await expectError(await predict(t.base, 'garbage', 'multipart/form-data; boundary=xyz'), 400, 'malformed_multipart');
    const form = new FormData();
    form.append('note', 'no files here');
    await expectError(await fetch(`${t.base}/v1/models/mnist-cnn:predict`, { method: 'POST', body: form }), 400, 'empty_body');
  });
  it('names the failing part of a batch', async () => {
    const form = new FormData();
    form.append('a', new Blob([await png()]), 'a.png');
    form.append('b', new Blob([Buffer.from('broken')], { type: 'image/png' }), 'b.png');
    const message = await expectError(await fetch(`${t.base}/v1/models/mnist-cnn:predict`, { method: 'POST', body: form }), 400, 'invalid_image');
    expect(message).toMatch(/part 2 "b" \(b\.png\)/);
  });
  it('answers the OIP shape on /v2 for malformed JSON', async () => {
    await expectOipError(await fetch(`${t.base}/v2/models/mnist-cnn/infer`, { method: 'POST', body: '{' }), 400);
  });
});

describe('404 not found', () => {
  it('refuses an unknown model on every protocol, and an unknown version on OIP', async () => {
    await expectError(await fetch(`${t.base}/v1/models/other:predict`, { method: 'POST', body: await png(), headers: { 'content-type': 'image/png' } }), 404, 'model_not_found');
    await expectError(await fetch(`${t.base}/v1/models/other`), 404, 'model_not_found');
    await expectOipError(await fetch(`${t.base}/v2/models/other`), 404);
    await expectOipError(await fetch(`${t.base}/v2/models/other/ready`), 404);
    expect(await expectOipError(await fetch(`${t.base}/v2/models/mnist-cnn/versions/99`), 404)).toMatch(/version "99"/);
    await expectOipError(await fetch(`${t.base}/v2/models/mnist-cnn/versions/99/infer`, { method: 'POST', body: '{}' }), 404);
    await expectError(await fetch(`${t.base}/no/such/route`), 404, 'route_not_found');
  });
});

describe('413 payload too large', () => {
  it('refuses a declared Content-Length over MAX_BODY_BYTES before reading the body', async () => {
    const res = await predict(t.base, Buffer.alloc(300_000, 1), 'image/png');
    await expectError(res, 413, 'payload_too_large');
  });

  it('refuses a chunked upload as soon as it passes the limit, while the client is still sending', async () => {
    const url = new URL(`${t.base}/v1/models/mnist-cnn:predict`);
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(url, { method: 'POST', headers: { 'content-type': 'image/png', 'transfer-encoding': 'chunked' } }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', (e) => (e.message.includes('EPIPE') || e.message.includes('ECONNRESET') ? undefined : reject(e)));
      // 250 kB in 10 kB chunks, and the request is never ended: an answer can only come from the limit
      for (let i = 0; i < 25; i++) req.write(Buffer.alloc(10_000, 7));
    });
    expect(answer.status).toBe(413);
    expect((JSON.parse(answer.body) as { error: { code: string } }).error.code).toBe('payload_too_large');
  });

  it('refuses an image whose header claims more than MAX_INPUT_PIXELS, before decoding it', async () => {
    await expectError(await predict(t.base, pngClaiming(5000, 5000), 'image/png'), 413, 'image_too_large');
  });

  it('applies the body limit to multipart and JSON bodies too', async () => {
    await expectError(await predict(t.base, JSON.stringify({ instances: [{ b64: Buffer.alloc(250_000).toString('base64') }] }), 'application/json'), 413, 'payload_too_large');
    const form = new FormData();
    form.append('a', new Blob([Buffer.alloc(250_000)]), 'a.png');
    await expectError(await fetch(`${t.base}/v1/models/mnist-cnn:predict`, { method: 'POST', body: form }), 413, 'payload_too_large');
  });
});

describe('415 unsupported media type', () => {
  it('refuses a content type it does not read', async () => {
    expect(await expectError(await predict(t.base, 'hello', 'text/plain'), 415, 'unsupported_media_type')).toMatch(/multipart\/form-data/);
  });
  it('refuses image formats outside the allow-list, whatever they are declared as', async () => {
    const bmp = Buffer.concat([Buffer.from('BM'), Buffer.alloc(100)]);
    await expectError(await predict(t.base, bmp, 'application/octet-stream'), 415, 'unsupported_media_type');
    await expectError(await predict(t.base, '<svg xmlns="http://www.w3.org/2000/svg"></svg>', 'image/png'), 415, 'unsupported_media_type');
    await expectError(await predict(t.base, 'bytes', 'image/bmp'), 415, 'unsupported_media_type');
  });
  it('refuses a compressed or otherwise encoded body on every body kind and on OIP, and accepts identity', async () => {
    const { gzipSync } = await import('node:zlib');
    const image = await png();
    expect(await expectError(await predict(t.base, gzipSync(image), 'image/png', { 'content-encoding': 'gzip' }), 415, 'unsupported_media_type')).toMatch(/Content-Encoding "gzip"/);
    await expectError(await predict(t.base, image, 'image/png', { 'content-encoding': 'x-fancy' }), 415, 'unsupported_media_type');
    await expectError(await predict(t.base, gzipSync(JSON.stringify({ instances: [rows()] })), 'application/json', { 'content-encoding': 'gzip' }), 415, 'unsupported_media_type');
    const form = new FormData();
    form.append('a', new Blob([image]), 'a.png');
    const multipart = new Request('http://x/', { method: 'POST', body: form });
    await expectError(await fetch(`${t.base}/v1/models/mnist-cnn:predict`, { method: 'POST', body: await multipart.arrayBuffer(), headers: { 'content-type': multipart.headers.get('content-type')!, 'content-encoding': 'br' } }), 415, 'unsupported_media_type');
    const oip = await fetch(`${t.base}/v2/models/mnist-cnn/infer`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json', 'content-encoding': 'deflate' } });
    expect(oip.status).toBe(415);
    expect(((await oip.json()) as { error: string }).error).toMatch(/Content-Encoding/);
    expect((await predict(t.base, image, 'image/png', { 'content-encoding': 'identity' })).status).toBe(200);
  });
});

describe('422 unusable request', () => {
  it('refuses more images than MAX_IMAGES_PER_REQUEST in every body kind', async () => {
    const form = new FormData();
    for (let i = 0; i < 4; i++) form.append('f', new Blob([await png()]), `${i}.png`);
    await expectError(await fetch(`${t.base}/v1/models/mnist-cnn:predict`, { method: 'POST', body: form }), 422, 'too_many_images');
    await expectError(await predict(t.base, JSON.stringify({ instances: [rows(), rows(), rows(), rows()] }), 'application/json'), 422, 'too_many_images');
    const data = new Array(4).fill((await png()).toString('base64'));
    const res = await fetch(`${t.base}/v2/models/mnist-cnn/infer`, { method: 'POST', body: JSON.stringify({ inputs: [{ name: 'image', datatype: 'BYTES', shape: [4], data }] }) });
    expect(await expectOipError(res, 422)).toMatch(/MAX_IMAGES_PER_REQUEST/);
  });
  it('refuses pixel arrays of the wrong shape or outside 0..1', async () => {
    await expectError(await predict(t.base, JSON.stringify({ instances: [[[0.1, 0.2]]] }), 'application/json'), 422, 'invalid_tensor');
    const bright = rows();
    bright[3][4] = 255;
    expect(await expectError(await predict(t.base, JSON.stringify({ instances: [bright] }), 'application/json'), 422, 'invalid_tensor')).toMatch(/pixel \(3, 4\) is 255/);
    await expectError(await predict(t.base, JSON.stringify({ instances: 'nope' }), 'application/json'), 422, 'invalid_request');
    await expectError(await predict(t.base, JSON.stringify({ instances: [{ url: 'http://x' }] }), 'application/json'), 422, 'invalid_request');
  });
  it('refuses OIP requests with a wrong shape, datatype, input or output name, or no input', async () => {
    const infer = (body: unknown) => fetch(`${t.base}/v2/models/mnist-cnn/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const pixels = { name: 'pixels', datatype: 'FP32', shape: [1, 28, 28, 1], data: new Array(784).fill(0) };
    await expectOipError(await infer({ inputs: [{ ...pixels, shape: [1, 28, 28] }] }), 422);
    await expectOipError(await infer({ inputs: [{ ...pixels, data: new Array(700).fill(0) }] }), 422);
    await expectOipError(await infer({ inputs: [{ ...pixels, datatype: 'INT8' }] }), 422);
    await expectOipError(await infer({ inputs: [{ ...pixels, data: new Array(784).fill(-1) }] }), 422);
    await expectOipError(await infer({ inputs: [{ ...pixels, name: 'tensor' }] }), 422);
    await expectOipError(await infer({ inputs: [pixels], outputs: [{ name: 'logits' }] }), 422);
    await expectOipError(await infer({ inputs: [] }), 422);
  });
});

describe('405 method not allowed', () => {
  it('answers a JSON error naming the allowed methods', async () => {
    expect(await expectError(await fetch(`${t.base}/v1/models`, { method: 'DELETE' }), 405, 'method_not_allowed')).toMatch(/GET/);
    await expectError(await fetch(`${t.base}/v1/models/mnist-cnn:predict`), 405, 'method_not_allowed');
  });
});
