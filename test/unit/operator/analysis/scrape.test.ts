import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { jest } from '@jest/globals';
import { scrapePods } from '../../../../operator/analysis/scrape.js';
import { validDigitPng } from '../../../support/hostile.js';
import { RuntimeProcess, freePort } from '../../../support/runtime-process.js';

jest.setTimeout(300_000);

const EXPOSITION = 'process_start_time_seconds 5\ndigitserve_request_duration_seconds_bucket{le="+Inf"} 0\ndigitserve_requests_total{code="200"} 2\n';

/** A real HTTP server whose handler decides each /metrics answer; closed after the test. */
const servers: http.Server[] = [];
async function serve(handler: http.RequestListener): Promise<number> {
  const server = http.createServer(handler);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

let rp: RuntimeProcess | undefined;
afterAll(async () => {
  await rp?.kill();
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

describe('scraping runtime pods', () => {
  it("reads a real runtime's counters, and reports each unreadable pod alone with a code", async () => {
    rp = await RuntimeProcess.start({ env: { LOG_LEVEL: 'warn' } });
    const res = await fetch(`${rp.baseUrl}/v1/models/mnist-cnn:predict`, { method: 'POST', headers: { 'content-type': 'image/png' }, body: await validDigitPng(0) });
    expect(res.status).toBe(200);
    await res.arrayBuffer();

    const closed = await freePort();
    const silent = await serve(() => undefined); // accepts, never answers
    const failing = await serve((_req, r) => r.writeHead(500).end('boom'));
    const garbage = await serve((_req, r) => r.writeHead(200).end('this is { not metrics'));
    const huge = await serve((_req, r) => r.writeHead(200).end(`# ${'x'.repeat(2 * 1024 * 1024)}\n${EXPOSITION}`));
    const out = await scrapePods(
      [
        { pod: 'runtime', ip: '127.0.0.1', port: rp.metricsPort },
        { pod: 'closed', ip: '127.0.0.1', port: closed },
        { pod: 'silent', ip: '127.0.0.1', port: silent },
        { pod: 'failing', ip: '127.0.0.1', port: failing },
        { pod: 'garbage', ip: '127.0.0.1', port: garbage },
        { pod: 'huge', ip: '127.0.0.1', port: huge },
      ],
      { timeoutMs: 5_000, maxBytes: 1024 * 1024 },
    );
    expect(out.counters.map((c) => c.pod)).toEqual(['runtime']);
    expect(out.counters[0]).toMatchObject({ ok: 1, images: 1, errors: 0 });
    const codes = Object.fromEntries(out.failures.map((f) => [f.pod, f.code]));
    expect(codes).toEqual({ closed: 'unreachable', silent: 'unreachable', failing: 'http_status', garbage: 'malformed_exposition', huge: 'too_large' });
    expect(out.failures.find((f) => f.pod === 'silent')?.message).toMatch(/no complete answer within 5000 ms/);
  });

  it('never runs more scrapes at once than the concurrency limit, and scrapes every pod', async () => {
    let inFlight = 0;
    let most = 0;
    const port = await serve((_req, r) => {
      most = Math.max(most, ++inFlight);
      // hold each answer a little, so that scrapes overlap whenever the limit lets them
      setTimeout(() => {
        inFlight--;
        r.writeHead(200).end(EXPOSITION);
      }, 50);
    });
    const targets = Array.from({ length: 7 }, (_, i) => ({ pod: `p${i}`, ip: '127.0.0.1', port }));
    const two = await scrapePods(targets, { concurrency: 2, timeoutMs: 30_000 });
    expect(two.failures).toEqual([]);
    expect(two.counters.map((c) => c.pod).sort()).toEqual(targets.map((t) => t.pod));
    expect(most).toBeLessThanOrEqual(2);
    expect(most).toBeGreaterThan(0);
  });

  it('resolves at once with nothing to scrape', async () => {
    expect(await scrapePods([])).toEqual({ counters: [], failures: [] });
  });
});
