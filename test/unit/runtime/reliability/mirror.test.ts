import { jest } from '@jest/globals';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { encodeDigit, mnistDigit } from '../../../support/images.js';
import { getText, RuntimeProcess } from '../../../support/runtime-process.js';

// Mirroring for canary disagreement (SPEC §7, #17 item 2) between real runtime processes over real
// HTTP with real PNGs: a stable runtime mirroring 100 % to a canary runtime; and a stable runtime
// mirroring to a peer that answers wrong digits, then hangs. Asserted are counts, never timings.
jest.setTimeout(300_000);

const PATH = '/v1/models/mnist-cnn:predict';
const BASE_ENV = { LOG_LEVEL: 'warn', PREPROCESS_WORKERS: '0' };

/** The sum of a metric's samples whose labels include `labels`. */
function metric(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)(\{([^}]*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[3] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) sum += Number(m[4]);
  }
  return sum;
}

async function metricsOf(rp: RuntimeProcess): Promise<string> {
  return (await getText(`http://127.0.0.1:${rp.metricsPort}/metrics`)).text;
}

/** Polls the metrics until `done` holds (event-based wait with a generous bound). */
async function waitMetrics(rp: RuntimeProcess, done: (text: string) => boolean, timeoutMs = 120_000): Promise<string> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const text = await metricsOf(rp);
    if (done(text) || Date.now() > end) return text;
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface Answer {
  status: number;
  digits: number[];
  /** Per image: the runtime marked it reliable (only such answers are compared by the mirror). */
  reliable: boolean[];
}

/** A request the mirror sends: at least one of its answers was reliable (else it is skipped). */
const mirroredOn = (a: Answer): boolean => a.reliable.some(Boolean);

function post(baseUrl: string, body: Buffer, contentType: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${baseUrl}${PATH}`, { method: 'POST', agent: false, headers: { 'content-type': contentType, 'content-length': body.length, ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c)).on('end', () => {
        const text = Buffer.concat(chunks).toString();
        const preds = res.statusCode === 200 ? (JSON.parse(text) as { predictions: { digit: number; reliable: boolean }[] }).predictions : [];
        resolve({ status: res.statusCode ?? 0, digits: preds.map((p) => p.digit), reliable: preds.map((p) => p.reliable) });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

function multipart(images: Buffer[]): { body: Buffer; contentType: string } {
  const boundary = 'mirror-test-boundary';
  const parts = images.flatMap((img, i) => [
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="d${i}.png"\r\nContent-Type: image/png\r\n\r\n`),
    img,
    Buffer.from('\r\n'),
  ]);
  return { body: Buffer.concat([...parts, Buffer.from(`--${boundary}--\r\n`)]), contentType: `multipart/form-data; boundary=${boundary}` };
}

/** A stand-in peer: records what it received and answers per its mode. */
class FakePeer {
  mode: 'wrong' | 'hang' = 'wrong';
  readonly received: { headers: http.IncomingHttpHeaders; body: Buffer }[] = [];
  private readonly held: http.ServerResponse[] = [];
  private readonly server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c)).on('end', () => {
      this.received.push({ headers: req.headers, body: Buffer.concat(chunks) });
      if (this.mode === 'hang') {
        this.held.push(res);
        return;
      }
      // the runtime's :predict shape, one prediction per image, every digit 3
      const n = Number(req.headers['x-test-images'] ?? 1);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ model: { name: 'mnist-cnn', version: 'x', track: 'canary' }, predictions: Array.from({ length: n }, () => ({ digit: 3, confidence: 0.99, reliable: true })) }));
    });
  });

  async start(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  heldCount(): number {
    return this.held.length;
  }

  release(): void {
    for (const res of this.held.splice(0)) res.writeHead(503).end('{}');
  }

  close(): Promise<void> {
    this.release();
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }
}

let canary: RuntimeProcess;
let stable: RuntimeProcess;
let toFake: RuntimeProcess;
let fake: FakePeer;
let pngs: Buffer[];

beforeAll(async () => {
  fake = new FakePeer();
  const fakeUrl = await fake.start();
  pngs = await Promise.all([0, 1, 2, 4, 5, 6].map((i) => encodeDigit(mnistDigit(i).pixels, { format: 'png' })));
  canary = await RuntimeProcess.start({ env: { ...BASE_ENV, MODEL_TRACK: 'canary' } });
  [stable, toFake] = await Promise.all([
    RuntimeProcess.start({ env: { ...BASE_ENV, MIRROR_URL: canary.baseUrl, MIRROR_PERCENT: '100' } }),
    RuntimeProcess.start({ env: { ...BASE_ENV, MIRROR_URL: fakeUrl, MIRROR_PERCENT: '100', MIRROR_TIMEOUT_MS: '600000' } }),
  ]);
}, 300_000);

afterAll(async () => {
  await Promise.all([canary?.kill(), stable?.kill(), toFake?.kill()]);
  await fake?.close();
});

describe('a stable runtime mirroring 100 % to a canary runtime of the same model', () => {
  it('answers as before, the canary leaves mirrored requests out of its counts, and stable counts 0 disagreements', async () => {
    const answers: Answer[] = [];
    for (const png of pngs) answers.push(await post(stable.baseUrl, png, 'image/png'));
    const mp = multipart(pngs.slice(0, 2));
    answers.push(await post(stable.baseUrl, mp.body, mp.contentType));
    expect(answers.map((a) => a.status)).toEqual(pngs.map(() => 200).concat(200));
    const sent = answers.length;
    const compared = answers.filter(mirroredOn);
    expect(compared.length).toBeGreaterThanOrEqual(sent - 2); // clean MNIST digits: (nearly) all reliable

    const st = await waitMetrics(stable, (t) => metric(t, 'digitserve_mirror_requests_total') >= sent);
    expect(metric(st, 'digitserve_mirror_requests_total', { outcome: 'compared' })).toBe(compared.length);
    expect(metric(st, 'digitserve_mirror_requests_total', { outcome: 'skipped' })).toBe(sent - compared.length);
    expect(metric(st, 'digitserve_mirror_requests_total', { outcome: 'error' })).toBe(0);
    expect(metric(st, 'digitserve_mirror_requests_total', { outcome: 'dropped' })).toBe(0);
    expect(metric(st, 'digitserve_mirror_disagreements_total')).toBe(0);
    // stable's own counts are its clients' requests
    expect(metric(st, 'digitserve_requests_total', { code: '200' })).toBe(sent);
    expect(metric(st, 'digitserve_predictions_total')).toBe(pngs.length + 2);
    expect(metric(st, 'digitserve_predictions_total', { reliable: 'true' }) + metric(st, 'digitserve_predictions_total', { reliable: 'false' })).toBe(pngs.length + 2);
    expect(metric(st, 'digitserve_unreliable_total')).toBe(metric(st, 'digitserve_predictions_total', { reliable: 'false' }));

    // the canary answered every mirrored request but counted none of them
    const ca = await metricsOf(canary);
    expect(metric(ca, 'digitserve_preprocess_total', { outcome: 'done' })).toBe(compared.reduce((n, a) => n + a.digits.length, 0));
    expect(metric(ca, 'digitserve_requests_total')).toBe(0);
    expect(metric(ca, 'digitserve_request_duration_seconds_count')).toBe(0);
    expect(metric(ca, 'digitserve_predictions_total')).toBe(0);
    expect(metric(ca, 'digitserve_unreliable_total')).toBe(0);
    expect(metric(ca, 'digitserve_request_latency_p95_seconds')).toBe(0);
    expect(metric(ca, 'digitserve_mirror_requests_total')).toBe(0); // a mirrored request is never mirrored onward

    // "unchanged": the same digits a runtime without mirroring answers (the canary, asked directly)
    const direct: number[] = [];
    for (const png of pngs) direct.push(...(await post(canary.baseUrl, png, 'image/png')).digits);
    expect(answers.slice(0, pngs.length).flatMap((a) => a.digits)).toEqual(direct);
    expect(answers[pngs.length].digits).toEqual(direct.slice(0, 2));
    const after = await metricsOf(canary);
    expect(metric(after, 'digitserve_requests_total', { code: '200' })).toBe(pngs.length); // direct requests are counted
  });
});

describe('a stable runtime mirroring to a peer that answers other digits, then hangs', () => {
  it('counts a disagreement for each request whose digit differs from the peer\'s', async () => {
    fake.mode = 'wrong';
    const answers: Answer[] = [];
    for (const png of pngs) answers.push(await post(toFake.baseUrl, png, 'image/png'));
    expect(answers.every((a) => a.status === 200)).toBe(true);
    const sentPngs = pngs.filter((_, i) => mirroredOn(answers[i]));
    const differing = answers.filter((a) => mirroredOn(a) && a.digits[0] !== 3).length;
    expect(differing).toBeGreaterThan(0);
    const t = await waitMetrics(toFake, (x) => metric(x, 'digitserve_mirror_requests_total') >= pngs.length);
    expect(metric(t, 'digitserve_mirror_requests_total', { outcome: 'compared' })).toBe(sentPngs.length);
    expect(metric(t, 'digitserve_mirror_requests_total', { outcome: 'skipped' })).toBe(pngs.length - sentPngs.length);
    expect(metric(t, 'digitserve_mirror_disagreements_total')).toBe(differing);
    // the peer got the same body and content type, tagged as mirrored
    expect(fake.received).toHaveLength(sentPngs.length);
    fake.received.forEach((r, i) => {
      expect(r.headers['x-digitserve-mirror']).toBe('1');
      expect(r.headers['content-type']).toBe('image/png');
      expect(r.body.equals(sentPngs[i])).toBe(true);
    });
  });

  it('answers every request while the peer hangs, keeps at most 8 in flight and counts the rest as dropped', async () => {
    fake.mode = 'hang';
    const before = await metricsOf(toFake);
    const n = 20;
    const answers: Answer[] = [];
    for (let i = 0; i < n; i++) answers.push(await post(toFake.baseUrl, pngs[i % pngs.length], 'image/png'));
    expect(answers.map((a) => a.status)).toEqual(Array.from({ length: n }, () => 200));
    const sent = answers.filter(mirroredOn).length;
    expect(sent).toBeGreaterThan(8);
    const dropped0 = metric(before, 'digitserve_mirror_requests_total', { outcome: 'dropped' });
    const t = await waitMetrics(toFake, (x) => metric(x, 'digitserve_mirror_requests_total', { outcome: 'dropped' }) - dropped0 >= sent - 8);
    expect(metric(t, 'digitserve_mirror_requests_total', { outcome: 'dropped' }) - dropped0).toBe(sent - 8);
    // the 8 in flight reach the peer and are held there
    const end = Date.now() + 60_000;
    while (fake.heldCount() < 8 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    expect(fake.heldCount()).toBe(8);
    // the peer fails them: errors, not disagreements
    const errors0 = metric(t, 'digitserve_mirror_requests_total', { outcome: 'error' });
    fake.release();
    const done = await waitMetrics(toFake, (x) => metric(x, 'digitserve_mirror_requests_total', { outcome: 'error' }) - errors0 >= 8);
    expect(metric(done, 'digitserve_mirror_requests_total', { outcome: 'error' }) - errors0).toBe(8);
    expect(metric(done, 'digitserve_mirror_disagreements_total')).toBe(metric(before, 'digitserve_mirror_disagreements_total'));
    expect(metric(done, 'digitserve_requests_total', { code: '200' })).toBe(pngs.length + n);
  });
});
