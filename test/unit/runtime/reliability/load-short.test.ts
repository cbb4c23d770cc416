import { jest } from '@jest/globals';
import http from 'node:http';
import { runPhases, type Sample } from '../../../../hack/bench/load/open-loop.js';
import { encodeDigit, mnistDigit } from '../../../support/images.js';
import { getText, RuntimeProcess } from '../../../support/runtime-process.js';
import { modelCalibratedAt } from '../../../support/model-fixture.js';

// The short version of `npm run bench:load` (docs/RELIABILITY.md has the long one's figures):
// the runtime as it runs in a pod (a child process, real HTTP, real PNGs), an open-loop steady
// phase, a 10× burst and a recovery phase. Asserted are outcomes, never timings: the burst is
// shed with 429 + Retry-After rather than timed out or dropped, nothing else but 200 comes back,
// no connection fails, the end of the recovery phase is all 200 again, and RSS stays bounded.
jest.setTimeout(180_000);

let rp: RuntimeProcess;
let samples: Sample[];
let rss: { before: number; after: number };
let drained: boolean;

beforeAll(async () => {
  // T = 256 in batches of 2 and a small queue: a 10× burst is far beyond what the engine can answer
  rp = await RuntimeProcess.start({ env: { MODEL_URI: modelCalibratedAt(256), MAX_BATCH_SIZE: '2', MAX_QUEUE: '64', MAX_IMAGES_PER_REQUEST: '16', LOG_LEVEL: 'warn' } });
  const images = await Promise.all(Array.from({ length: 50 }, (_, i) => encodeDigit(mnistDigit(i).pixels, { format: 'png' })));
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4096 });
  const target = { url: new URL(`${rp.baseUrl}/v1/models/mnist-cnn:predict`), body: (i: number) => images[i % images.length], contentType: 'image/png', agent, timeoutMs: 60_000 };
  const before = rp.rssBytes() ?? 0;
  const origin = performance.now();
  samples = await runPhases(
    target,
    [
      { name: 'steady', seconds: 4, rate: () => 50 },
      { name: 'burst', seconds: 2, rate: () => 500 },
    ],
    origin,
  );
  // Recovery is an outcome, not a deadline: once the backlog admitted during the burst has been
  // answered (however long that takes on a loaded machine), the steady load is served all 200 again.
  drained = await waitDrained(rp, 120_000);
  samples.push(...(await runPhases(target, [{ name: 'recovery', seconds: 4, rate: () => 50 }], origin)));
  rss = { before, after: rp.rssBytes() ?? 0 };
  console.log(`load-short: steady ${JSON.stringify(byStatus('steady'))}, burst ${JSON.stringify(byStatus('burst'))}, recovery ${JSON.stringify(byStatus('recovery'))}; RSS ${(rss.before / 2 ** 20).toFixed(0)} -> ${(rss.after / 2 ** 20).toFixed(0)} MiB`);
  if (!rp.alive) console.log(`the runtime exited ${JSON.stringify(rp.exit)}; its last output:\n${rp.tail(60)}`);
  agent.destroy();
}, 180_000);

afterAll(async () => {
  await rp?.kill();
});

const byStatus = (phase: string) => {
  const out: Record<string, number> = {};
  for (const s of samples.filter((x) => x.phase === phase)) {
    const key = s.error ? `error ${s.error}` : String(s.status);
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
};

describe('a short soak, a 10× burst and recovery against the runtime process', () => {
  it('answers every request 200 or 429, never 5xx, never a reset or a client timeout', () => {
    expect(samples.length).toBeGreaterThan(1000);
    const bad = samples.filter((s) => s.error || (s.status !== 200 && s.status !== 429));
    expect(bad.map((s) => `${s.phase}: ${s.status} ${s.error ?? ''}`)).toEqual([]);
  });

  it('sheds the burst with 429 and a Retry-After of at least 1 s', () => {
    const refused = samples.filter((s) => s.status === 429);
    expect(refused.length).toBeGreaterThan(0);
    expect(byStatus('burst')['429'] ?? 0).toBeGreaterThan(0);
    for (const s of refused) expect(Number(s.retryAfter)).toBeGreaterThanOrEqual(1);
  });

  it('drains the admitted backlog and then serves the steady load all 200 again, and stays healthy', async () => {
    expect(drained).toBe(true);
    const recovery = samples.filter((s) => s.phase === 'recovery');
    expect(recovery.length).toBeGreaterThan(150);
    expect(recovery.filter((s) => s.status !== 200).map((s) => `${s.status} ${s.error ?? ''}`)).toEqual([]);
    expect(rp.alive).toBe(true);
    expect((await getText(`${rp.baseUrl}/readyz`)).status).toBe(200);
  });

  it('keeps memory bounded through the burst (RSS grows by less than 256 MiB)', () => {
    expect(rss.before).toBeGreaterThan(0);
    expect(rss.after - rss.before).toBeLessThan(256 * 2 ** 20);
  });
});

/** Waits until the runtime holds no admitted work (nothing queued, no request in flight); false on timeout or exit. */
async function waitDrained(p: RuntimeProcess, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && p.alive) {
    const res = await getText(`${p.baseUrl}/v1/stats`).catch(() => undefined);
    if (res?.status === 200) {
      const stats = JSON.parse(res.text) as { queueDepthNow: number; requestsInFlight: number };
      // requestsInFlight counts every request, this /v1/stats one included
      if (stats.queueDepthNow === 0 && stats.requestsInFlight <= 1) return true;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}
