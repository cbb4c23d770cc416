import { jest } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { judge } from '../../../../operator/analysis/judge.js';
import { instantQuery, PromQLError, promqlWindows } from '../../../../operator/analysis/promql.js';
import { analysisSettings } from '../../../../operator/analysis/settings.js';
import { modelWithSwappedClasses } from '../../../integration/operator/support/analysis.js';
import { encodeDigit, mnistDigit } from '../../../support/images.js';
import { modelCalibratedAt } from '../../../support/model-fixture.js';
import { freePort, getStatus, RuntimeProcess } from '../../../support/runtime-process.js';

// `--prometheus-url`: the analysis' windows read with PromQL from a real Prometheus (Debian's, which
// hack/install-prereqs.sh installs) scraping two real runtime processes, a stable one mirroring
// every request to a canary whose model swaps digits 3 and 5. Counts are asserted, never timings.
jest.setTimeout(300_000);

const PROMETHEUS = process.env.PROMETHEUS ?? '/usr/bin/prometheus';
const PATH = '/v1/models/postcodes:predict';

let stable: RuntimeProcess;
let canary: RuntimeProcess;
let prometheus: ChildProcess;
let url: string;
let dir: string;

function post(base: string, png: Buffer): Promise<number> {
  return new Promise((resolve) => {
    const req = http.request(`${base}${PATH}`, { method: 'POST', agent: false, headers: { 'content-type': 'image/png', 'content-length': png.length } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
    req.end(png);
  });
}

beforeAll(async () => {
  const base = { LOG_LEVEL: 'warn', PREPROCESS_WORKERS: '0', MODEL_NAME: 'postcodes' };
  canary = await RuntimeProcess.start({ env: { ...base, MODEL_URI: modelWithSwappedClasses(4, '2', 3, 5), MODEL_TRACK: 'canary' } });
  stable = await RuntimeProcess.start({ env: { ...base, MODEL_URI: modelCalibratedAt(4, '1'), MODEL_TRACK: 'stable', MIRROR_URL: canary.baseUrl, MIRROR_PERCENT: '100' } });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'digitserve-promql-'));
  const targets = [stable.metricsPort, canary.metricsPort].map((p) => `'127.0.0.1:${p}'`).join(', ');
  fs.writeFileSync(
    path.join(dir, 'prometheus.yml'),
    `global: {scrape_interval: 1s, evaluation_interval: 1s}\nscrape_configs:\n  - job_name: runtime\n    static_configs:\n      - targets: [${targets}]\n        labels: {namespace: mail}\n`,
  );
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  prometheus = spawn(PROMETHEUS, [`--config.file=${path.join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: 'ignore' });
  const deadline = Date.now() + 120_000;
  while ((await getStatus(`${url}/-/ready`).catch(() => 0)) !== 200) {
    if (Date.now() > deadline || prometheus.exitCode !== null) throw new Error(`Prometheus (${PROMETHEUS}) did not become ready`);
    await new Promise((r) => setTimeout(r, 250));
  }
});

afterAll(async () => {
  prometheus?.kill('SIGTERM');
  await Promise.all([stable?.kill(), canary?.kill()]);
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test('reads both tracks’ windows with PromQL, and the swapped canary fails the disagreement check', async () => {
  const images = await Promise.all(Array.from({ length: 40 }, (_, i) => encodeDigit(mnistDigit(i).pixels)));
  // a series Prometheus first sees already counted (code="200" appears with the first answer)
  // starts its increase() there: let it see each series once before the traffic that is measured
  await post(stable.baseUrl, images[0]);
  await post(canary.baseUrl, images[0]);
  const seen = Date.now() + 60_000;
  while ((await instantQuery({ url }, 'digitserve_requests_total{code="200"}')).length < 2 && Date.now() < seen) await new Promise((r) => setTimeout(r, 250));
  let sent = 0;
  for (let i = 0; i < 120; i++) {
    await post(stable.baseUrl, images[i % images.length]);
    if (i % 3 === 0) await post(canary.baseUrl, images[i % images.length]);
    sent++;
  }
  // until Prometheus has scraped what was sent (its increase() extrapolates: about, not exactly)
  const seconds = 120;
  let w = await promqlWindows({ url }, 'mail', 'postcodes', seconds);
  const deadline = Date.now() + 120_000;
  while (((w.windows.stable?.mirrored ?? 0) < 0.8 * sent || (w.windows.canary?.ok ?? 0) < 0.8 * 40) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 500));
    w = await promqlWindows({ url }, 'mail', 'postcodes', seconds);
  }
  expect(w.missing).toEqual([]);
  const { stable: sw, canary: cw } = w.windows;
  expect(sw!.ok).toBeGreaterThan(0.8 * sent);
  expect(sw!.errors).toBe(0);
  expect(cw!.ok).toBeGreaterThan(0.8 * 40);
  // mirrored requests stay out of the canary's own counts
  expect(cw!.ok).toBeLessThan(0.8 * sent);
  const share = sw!.disagreements / sw!.mirrored;
  expect(share).toBeGreaterThan(0.1);
  expect(share).toBeLessThan(0.4);
  expect(sw!.latency.le[sw!.latency.le.length - 1]).toBe(Infinity);
  const s = analysisSettings({ minPredictions: 20, checks: { maxDisagreement: 0.1, maxLatencyP95Ms: 5000, maxUnreliableIncrease: 0.5 } });
  const j = judge(s, 20, w.windows);
  expect(j.verdict).toBe('Fail');
  expect(j.checks.find((c) => c.name === 'disagreement')?.verdict).toBe('Fail');
  expect(j.checks.find((c) => c.name === 'latencyP95')?.verdict).toBe('Pass');
  // another DigitModel's name has no series: both tracks missing, nothing judged
  expect((await promqlWindows({ url }, 'mail', 'other', seconds)).missing).toEqual(['stable', 'canary']);
});

test('an unreachable Prometheus or a bad query is a PromQLError', async () => {
  const closed = `http://127.0.0.1:${await freePort()}`;
  await expect(promqlWindows({ url: closed, timeoutMs: 2_000 }, 'mail', 'postcodes', 60)).rejects.toBeInstanceOf(PromQLError);
  await expect(instantQuery({ url }, 'sum(')).rejects.toThrow(/answered 400/);
});
