import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { compareDigits, isMirrored, Mirror, mirrorTarget, sampled, type MirrorResult } from '../../../../runtime/app/mirror.js';
import { parseConfig } from '../../../../runtime/config.js';
import { RuntimeMetrics } from '../../../../runtime/metrics/runtime-metrics.js';

const cpu = { hostCpus: 2 };

describe('mirror sampling', () => {
  it('takes nothing at 0 %, everything at 100 %, and the share below the percentage otherwise', () => {
    expect(sampled(0, () => 0)).toBe(false);
    expect(sampled(100, () => 0.999999)).toBe(true);
    expect(sampled(5, () => 0.049)).toBe(true);
    expect(sampled(5, () => 0.05)).toBe(false);
    let i = 0;
    const even = () => (i++ % 1000) / 1000; // 0, 0.001, … 0.999
    const hits = Array.from({ length: 1000 }, () => sampled(12.5, even)).filter(Boolean).length;
    expect(hits).toBe(125);
  });

  it('recognises only the header value "1" as a mirrored request', () => {
    expect(isMirrored('1')).toBe(true);
    expect(isMirrored(' 1 ')).toBe(true);
    expect(isMirrored('')).toBe(false);
    expect(isMirrored(undefined)).toBe(false);
    expect(isMirrored('0')).toBe(false);
  });

  it('joins the base URL and the request path', () => {
    expect(mirrorTarget('http://dm-canary.ns.svc', '/v1/models/m:predict')).toBe('http://dm-canary.ns.svc/v1/models/m:predict');
    expect(mirrorTarget('http://dm-canary.ns.svc:8080/', '/v1/models/m:predict?x=1')).toBe('http://dm-canary.ns.svc:8080/v1/models/m:predict?x=1');
  });
});

describe('digit comparison', () => {
  const answer = (...digits: number[]) => ({ predictions: digits.map((digit) => ({ digit, confidence: 0.9 })) });
  const sure = (...digits: number[]) => digits.map((digit) => ({ digit, reliable: true }));
  it('compares image by image: a request disagrees when any image\'s digit differs', () => {
    expect(compareDigits(sure(3, 7), answer(3, 7))).toEqual({ outcome: 'compared', disagreed: false });
    expect(compareDigits(sure(3, 7), answer(3, 1))).toEqual({ outcome: 'compared', disagreed: true });
    expect(compareDigits(sure(3), answer(8))).toEqual({ outcome: 'compared', disagreed: true });
  });
  it('compares only the images this runtime answered reliably', () => {
    const mixed = [{ digit: 3, reliable: true }, { digit: 7, reliable: false }];
    expect(compareDigits(mixed, answer(3, 1))).toEqual({ outcome: 'compared', disagreed: false });
    expect(compareDigits(mixed, answer(5, 7))).toEqual({ outcome: 'compared', disagreed: true });
  });
  it('counts an answer without one digit per image as an error, never as a disagreement', () => {
    for (const body of [answer(3), answer(3, 7, 1), { error: { code: 'queue_full' } }, null, 'text', { predictions: [{ digit: '3' }, { digit: 7 }] }]) {
      expect(compareDigits(sure(3, 7), body)).toEqual({ outcome: 'error', disagreed: false });
    }
  });
});

describe('a request none of whose answers was reliable', () => {
  it('is not sent, and counted as skipped', async () => {
    let hits = 0;
    const server = http.createServer((_req, res) => {
      hits++;
      res.end('{}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const results: MirrorResult[] = [];
    const m = new Mirror({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, percent: 100, onResult: (r) => results.push(r) });
    await m.send({ path: '/v1/models/m:predict', contentType: 'image/png', body: Buffer.from('x'), answers: [{ digit: 4, reliable: false }] });
    await new Promise<void>((r) => server.close(() => r()));
    expect(results).toEqual([{ outcome: 'skipped', disagreed: false }]);
    expect(hits).toBe(0);
  });
});

describe('mirror configuration', () => {
  it('defaults to no mirroring and validates MIRROR_URL and MIRROR_PERCENT', () => {
    const c = parseConfig({}, cpu);
    expect(c.mirrorUrl).toBeUndefined();
    expect(c.mirrorPercent).toBe(0);
    expect(c.mirrorTimeoutMs).toBe(2000);
    const m = parseConfig({ MIRROR_URL: 'http://dm-canary.ns.svc', MIRROR_PERCENT: '5' }, cpu);
    expect(m).toMatchObject({ mirrorUrl: 'http://dm-canary.ns.svc', mirrorPercent: 5 });
    expect(() => parseConfig({ MIRROR_URL: 'http://x', MIRROR_PERCENT: '101' }, cpu)).toThrow(/MIRROR_PERCENT/);
    expect(() => parseConfig({ MIRROR_URL: 'http://x', MIRROR_PERCENT: '-1' }, cpu)).toThrow(/MIRROR_PERCENT/);
    expect(() => parseConfig({ MIRROR_URL: 'ftp://x', MIRROR_PERCENT: '5' }, cpu)).toThrow(/MIRROR_URL/);
    expect(() => parseConfig({ MIRROR_URL: 'not a url', MIRROR_PERCENT: '5' }, cpu)).toThrow(/MIRROR_URL/);
    expect(() => parseConfig({ MIRROR_PERCENT: '5' }, cpu)).toThrow(/MIRROR_URL/);
  });
});

describe('mirror metrics', () => {
  it('counts outcomes and disagreements of compared requests, and predictions by digit and reliable', async () => {
    const m = new RuntimeMetrics({ model: 'm', version: '1', track: 'stable' });
    m.mirror('compared', true);
    m.mirror('compared', false);
    m.mirror('dropped', false);
    m.mirror('error', false);
    m.mirror('skipped', false);
    m.prediction(3, 0.4, false);
    const text = await m.exposition();
    expect(text).toMatch(/digitserve_mirror_requests_total\{outcome="compared",[^}]*\} 2/);
    expect(text).toMatch(/digitserve_mirror_requests_total\{outcome="dropped",[^}]*\} 1/);
    expect(text).toMatch(/digitserve_mirror_requests_total\{outcome="error",[^}]*\} 1/);
    expect(text).toMatch(/digitserve_mirror_requests_total\{outcome="skipped",[^}]*\} 1/);
    expect(text).toMatch(/digitserve_mirror_disagreements_total\{[^}]*\} 1/);
    expect(text).toMatch(/digitserve_predictions_total\{digit="3",reliable="false",[^}]*\} 1/);
  });
});

describe('Mirror against a real HTTP peer', () => {
  it('sends the same body and content type with the mirror header, and reports a refused answer as an error', async () => {
    const seen: { headers: http.IncomingHttpHeaders; body: Buffer; url?: string }[] = [];
    const srv = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c)).on('end', () => {
        seen.push({ headers: req.headers, body: Buffer.concat(chunks), url: req.url });
        if (seen.length === 1) res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ predictions: [{ digit: 4 }] }));
        else res.writeHead(503).end('{}');
      });
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const results: MirrorResult[] = [];
    const mirror = new Mirror({ url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`, percent: 100, onResult: (r) => results.push(r) });
    const body = Buffer.from([137, 80, 78, 71, 1, 2, 3]);
    try {
      await mirror.send({ path: '/v1/models/m:predict', contentType: 'image/png', body, answers: [{ digit: 4, reliable: true }] });
      await mirror.send({ path: '/v1/models/m:predict', contentType: 'image/png', body, answers: [{ digit: 4, reliable: true }] });
    } finally {
      srv.close();
    }
    expect(seen[0].headers['x-digitserve-mirror']).toBe('1');
    expect(seen[0].headers['content-type']).toBe('image/png');
    expect(seen[0].url).toBe('/v1/models/m:predict');
    expect(seen[0].body.equals(body)).toBe(true);
    expect(results).toEqual([
      { outcome: 'compared', disagreed: false },
      { outcome: 'error', disagreed: false },
    ]);
    expect(mirror.pending()).toBe(0);
  });
});
