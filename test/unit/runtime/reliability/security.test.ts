import { jest } from '@jest/globals';
import { validDigitPng } from '../../../support/hostile.js';
import { sendRaw } from '../../../support/hostile-http.js';
import { getText, RuntimeProcess, sleep } from '../../../support/runtime-process.js';
import { Canary, runtimeEnv, TEST_LIMITS } from './support.js';

// Security of the runtime process: nothing secret or sent in a body reaches its logs (at the most
// verbose level), URLs in request content are never fetched, and every input has a limit that
// the runtime reports and enforces.
jest.setTimeout(120_000);

let rp: RuntimeProcess;
let canary: Canary;
const SECRET = 'Bearer s3cr3t-7f1c9e-token';
const COOKIE = 'session=c00k13-9a8b7c';
const API_KEY = 'k3y-5d4c3b2a';
const BODY_MARK = 'b0dy-m4rk-31337';

beforeAll(async () => {
  canary = await Canary.start();
  rp = await RuntimeProcess.start({ env: runtimeEnv({ LOG_LEVEL: 'trace' }) });
});

afterAll(async () => {
  await rp?.kill();
  await canary?.close();
});

describe('runtime security', () => {
  it('logs no credentials and no request bodies, even at trace level and on refusals', async () => {
    const png = await validDigitPng(2);
    const headers = { Authorization: SECRET, Cookie: COOKIE, 'X-Api-Key': API_KEY, 'Proxy-Authorization': SECRET };
    const predict = '/v1/models/mnist-cnn:predict';
    const sends = [
      { method: 'POST', path: predict, headers: { ...headers, 'Content-Type': 'image/png' }, body: png },
      { method: 'POST', path: predict, headers: { ...headers, 'Content-Type': 'application/json' }, body: Buffer.from(`{"instances": [{"b64": "${BODY_MARK}"}], "note": "${BODY_MARK}"`) },
      { method: 'POST', path: predict, headers: { ...headers, 'Content-Type': 'application/json' }, body: Buffer.from(JSON.stringify({ instances: [{ b64: Buffer.from(BODY_MARK).toString('base64') }] })) },
      { method: 'POST', path: '/v2/models/mnist-cnn/infer', headers: { ...headers, 'Content-Type': 'application/json' }, body: Buffer.from(JSON.stringify({ id: 'x', inputs: [{ name: 'image', datatype: 'BYTES', shape: [1], data: [Buffer.from(BODY_MARK).toString('base64')] }], parameters: { note: BODY_MARK } })) },
      { method: 'POST', path: predict, headers: { ...headers, 'Content-Type': `multipart/form-data; boundary=x` }, body: Buffer.from(`--x\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\n\r\n${BODY_MARK}\r\n--x--\r\n`) },
      { method: 'GET', path: '/v1/models/no-such-model', headers },
    ];
    for (const s of sends) await sendRaw(rp.baseUrl, s, 30_000);
    await sleep(200);
    const log = rp.lines.join('\n');
    expect(rp.logRecords().length).toBeGreaterThan(sends.length); // it did log these requests
    for (const secret of ['s3cr3t-7f1c9e-token', 'c00k13-9a8b7c', API_KEY, Buffer.from(BODY_MARK).toString('base64')]) expect(log).not.toContain(secret);
    expect(rp.lines.filter((l) => l.includes(BODY_MARK))).toEqual([]);
    // what a refusal quotes back from the request stays short (no body dumps)
    expect(rp.lines.filter((l) => l.length > 4096)).toEqual([]);
  });

  it('never fetches a URL given as an image, an instance, OIP BYTES or a header', async () => {
    const url = `${canary.url}/x`;
    const predict = '/v1/models/mnist-cnn:predict';
    const json = (body: unknown, path = predict) => ({ method: 'POST', path, headers: { 'Content-Type': 'application/json', Referer: url, 'X-Forwarded-Host': canary.url.slice(7) }, body: Buffer.from(JSON.stringify(body)) });
    const sends = [
      json({ instances: [{ b64: url }] }),
      json({ instances: [url] }),
      json({ instances: [{ url, image_url: url, uri: url, href: url }] }),
      json({ inputs: [{ name: 'image', datatype: 'BYTES', shape: [1], data: [url] }] }, '/v2/models/mnist-cnn/infer'),
      json({ inputs: [{ name: 'image', datatype: 'BYTES', shape: [1], data: [Buffer.from(url).toString('base64')] }] }, '/v2/models/mnist-cnn/infer'),
      { method: 'POST', path: predict, headers: { 'Content-Type': 'text/uri-list' }, body: Buffer.from(url) },
      { method: 'POST', path: predict, headers: { 'Content-Type': 'image/png' }, body: Buffer.from(url) },
    ];
    const statuses = [];
    for (const s of sends) statuses.push((await sendRaw(rp.baseUrl, s, 30_000)).status);
    await sleep(500);
    expect(canary.hits).toBe(0);
    for (const st of statuses) expect(st >= 400 && st < 500).toBe(true);
  });

  it('reports a limit for every input: body bytes, pixels, images per request, queue, time', async () => {
    const meta = JSON.parse((await getText(`${rp.baseUrl}/v1/models/mnist-cnn`)).text) as { limits?: Record<string, number> };
    expect(meta.limits).toMatchObject({
      maxBodyBytes: TEST_LIMITS.maxBodyBytes,
      maxImagesPerRequest: TEST_LIMITS.maxImagesPerRequest,
      maxInputPixels: TEST_LIMITS.maxInputPixels,
      requestTimeoutMs: TEST_LIMITS.requestTimeoutMs,
    });
    expect(typeof meta.limits?.maxQueue).toBe('number');
  });
});
