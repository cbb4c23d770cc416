import { jest } from '@jest/globals';
import http from 'node:http';
import { encodeDigit, mnistDigit } from '../../../support/images.js';
import { errorCode, predict, startTestRuntime, type TestRuntime } from './support/in-process.js';

// #15 item 15: an answer sent before the request body was read must not poison the client's
// kept-alive connection. Node's fetch (undici) keeps the connection alive and reuses it for the
// next request, as a client library would; the server drains a short unread rest, or marks the
// answer `Connection: close` and closes only once the answer is out.
jest.setTimeout(180_000);

let t: TestRuntime;
const ports: number[] = [];
beforeAll(async () => {
  t = await startTestRuntime({});
  t.runtime.server.on('request', (req: { socket: { remotePort?: number } }) => ports.push(req.socket.remotePort ?? 0));
});
afterAll(() => t?.stop());

function post(agent: http.Agent, body: Buffer, type: string): Promise<{ status: number; localPort?: number }> {
  return new Promise((resolve, reject) => {
    const url = new URL(`${t.base}/v1/models/mnist-cnn:predict`);
    const req = http.request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', agent, headers: { 'content-type': type, 'content-length': body.length } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, localPort: req.socket?.localPort }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function multipart(parts: Buffer[], boundary: string): Buffer {
  const chunks: Buffer[] = [];
  parts.forEach((p, i) => {
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="${i}.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`), p, Buffer.from('\r\n'));
  });
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}

describe('early refusals on a kept-alive connection', () => {
  it('answers 422 to 300 image parts, then a valid JPEG on the same client succeeds', async () => {
    const jpeg = await encodeDigit(mnistDigit(7).pixels, { format: 'jpeg', invert: true, scale: 4 });
    const boundary = 'digitserve-boundary';
    for (let round = 0; round < 3; round++) {
      const refused = await predict(t.base, multipart(Array.from({ length: 300 }, () => jpeg), boundary), `multipart/form-data; boundary=${boundary}`);
      expect(refused.status).toBe(422);
      expect(await errorCode(refused)).toBe('too_many_images');
      const ok = await predict(t.base, jpeg, 'image/jpeg');
      expect(ok.status).toBe(200);
      expect(((await ok.json()) as { predictions: { digit: number }[] }).predictions[0].digit).toBe(7);
      // a short unread rest is drained: the connection stays alive (undici itself opens a new one
      // after an answer that came before its upload ended; the next test reuses the very socket)
      expect(refused.headers.get('connection')).not.toBe('close');
    }
  });

  it('keeps the connection usable after the early 422: the next request rides on the same socket', async () => {
    const jpeg = await encodeDigit(mnistDigit(4).pixels, { format: 'jpeg', invert: true, scale: 4 });
    const boundary = 'digitserve-boundary';
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const refused = await post(agent, multipart(Array.from({ length: 300 }, () => jpeg), boundary), `multipart/form-data; boundary=${boundary}`);
      expect(refused.status).toBe(422);
      const ok = await post(agent, jpeg, 'image/jpeg');
      expect(ok.status).toBe(200);
      expect(ok.localPort).toBe(refused.localPort);
      expect(ports.at(-1)).toBe(ports.at(-2));
    } finally {
      agent.destroy();
    }
  });

  it('answers 413 to a 40 MB body, and the client goes on', async () => {
    const big = Buffer.alloc(40 << 20, 7);
    for (let round = 0; round < 3; round++) {
      const res = await predict(t.base, big, 'image/png');
      expect(res.status).toBe(413);
      expect(await errorCode(res)).toBe('payload_too_large');
      const ok = await predict(t.base, await encodeDigit(mnistDigit(1).pixels, { format: 'png', invert: true, scale: 2 }), 'image/png');
      expect(ok.status).toBe(200);
    }
  });

  it('answers 413 to a 40 MB body sent without Content-Length (chunked)', async () => {
    const chunk = Buffer.alloc(1 << 20, 7);
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < 40; i++) c.enqueue(chunk);
        c.close();
      },
    });
    const res = await fetch(`${t.base}/v1/models/mnist-cnn:predict`, { method: 'POST', headers: { 'content-type': 'image/png' }, body, duplex: 'half' } as RequestInit);
    expect(res.status).toBe(413);
    const ok = await predict(t.base, await encodeDigit(mnistDigit(2).pixels, { format: 'png', invert: true, scale: 2 }), 'image/png');
    expect(ok.status).toBe(200);
  });
});
