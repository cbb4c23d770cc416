/**
 * The request path's figures for two or more arms in the same run, alternating, so a change is
 * measured against its baseline minutes apart on the same (possibly shared) machine. An arm is a
 * checkout (`--base DIR`, repeatable: e.g. a `git worktree add --detach` of the code before the
 * change, with this checkout's node_modules linked in) and/or runtime settings (`--variants`).
 *
 *   npx tsx hack/bench/request-path.ts [--base DIR]… [--variants 'BATCH_TIMEOUT_MS=0;…'] [--rounds 3]
 *                                       [--seconds 20] [--rate 100] [--single 60] [--photos 10]
 *                                       [--closed 10] [--connections 16] [--env 'LOG_LEVEL=info,…']
 *
 * Each round starts every arm's runtime in turn (every other round in reverse order; default model, T = 30, LOG_LEVEL=warn unless an
 * arm sets it) and measures: a 28-px PNG digit one request at a time (p50 of --single), the 12 MP
 * phone photo of the load bench one at a time (p50 of --photos), an open loop at --rate req/s for
 * --seconds (p99; --rate 0 skips it) and a closed loop of 28-px PNGs at --connections for --closed
 * seconds (req/s; 0 skips it). --env settings apply to every arm. An arm run with LOG_LEVEL=info also gets the server's own
 * breakdown of the photo requests (the request log's `stages`, median per stage). Printed per
 * arm: the p50s over all rounds, the open-loop p99 of each round with their median, the closed-loop
 * req/s of each round with their median. Asserts nothing.
 */
import http from 'node:http';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { encodeDigit, mnistDigit } from '../../test/support/images.js';
import { getText, RuntimeProcess } from '../../test/support/runtime-process.js';
import { closedLoop, envPairs, parseVariants } from './load/compare.js';
import { runPhases, type Target } from './load/open-loop.js';
import { percentile, summarise } from './load/stats.js';
import { phonePhoto } from './load/targets.js';

const { values } = parseArgs({
  options: {
    base: { type: 'string', multiple: true },
    variants: { type: 'string' },
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '20' },
    rate: { type: 'string', default: '100' },
    single: { type: 'string', default: '60' },
    photos: { type: 'string', default: '10' },
    samples: { type: 'string', default: '30' },
    closed: { type: 'string', default: '10' },
    connections: { type: 'string', default: '16' },
    env: { type: 'string' },
  },
});

interface Arm {
  name: string;
  root?: string;
  env: Record<string, string>;
  single: number[];
  photo: number[];
  p99: number[];
  closed: number[];
  engine: string[];
  /** The photo requests' server-side stages (ms), per stage, over all rounds. */
  stages: Record<string, number[]>;
}

const settings = parseVariants(values.variants);
/** Settings of every arm (--env), under each arm's own. */
const common = values.env ? envPairs(values.env) : {};
const arms: Arm[] = [];
const arm = (name: string, root: string | undefined, env: Record<string, string>) => arms.push({ name, root, env, single: [], photo: [], p99: [], closed: [], engine: [], stages: {} });
const label = (env: Record<string, string>) => Object.entries(env).map(([k, v]) => `${k}=${v}`).join(',');
for (const base of values.base ?? []) arm(`base (${base})`, base, {});
arm('this checkout', undefined, {});
for (const env of settings) arm(`this checkout, ${label(env)}`, undefined, env);

function post(agent: http.Agent, url: URL, body: Buffer, contentType: string): Promise<{ status: number; ms: number }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': contentType, 'content-length': body.length } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - t0 }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function measure(a: Arm, pngs: Buffer[], photo: Buffer): Promise<void> {
  const rp = await RuntimeProcess.start({ root: a.root, env: { MC_SAMPLES: values.samples ?? '30', LOG_LEVEL: 'warn', ...common, ...a.env } });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  try {
    const url = new URL(`${rp.baseUrl}/v1/models/mnist-cnn:predict`);
    const ok = async (body: Buffer, type: string) => {
      const r = await post(agent, url, body, type);
      if (r.status !== 200) throw new Error(`${a.name}: answered ${r.status}`);
      return r.ms;
    };
    for (let i = 0; i < 20; i++) await ok(pngs[i % pngs.length], 'image/png');
    await ok(photo, 'image/jpeg');
    for (let i = 0; i < Number(values.single); i++) a.single.push(await ok(pngs[i % pngs.length], 'image/png'));
    await new Promise((r) => setTimeout(r, 300)); // the warm-up's log lines are out
    const logged = rp.logRecords().length;
    for (let i = 0; i < Number(values.photos); i++) a.photo.push(await ok(photo, 'image/jpeg'));
    for (const r of rp.logRecords().slice(logged)) {
      const st = r.stages as Record<string, number> | undefined;
      if (r.msg !== 'request' || !st) continue;
      for (const [k, v] of Object.entries({ ...st, server: r.ms as number })) (a.stages[k] ??= []).push(v);
    }
    let said = `  ${a.name}: single p50 ${med(a.single.slice(-Number(values.single))).toFixed(1)} ms, photo p50 ${med(a.photo.slice(-Number(values.photos))).toFixed(1)} ms`;
    if (Number(values.rate) > 0) {
      const target: Target = { url, body: (i) => pngs[i % pngs.length], contentType: 'image/png', agent, timeoutMs: 30_000 };
      await runPhases(target, [{ name: 'warm-up', seconds: 3, rate: () => 20 }], performance.now());
      const before = await engineMetrics(rp.metricsPort);
      const s = summarise(await runPhases(target, [{ name: 'steady', seconds: Number(values.seconds), rate: () => Number(values.rate) }], performance.now()));
      a.p99.push(s.ok.p99Ms);
      const after = await engineMetrics(rp.metricsPort);
      const batches = after.count - before.count;
      const engine = `${batches} batches of ${((after.images - before.images) / batches).toFixed(2)} images, engine ${((1000 * (after.seconds - before.seconds)) / batches).toFixed(1)} ms per batch (busy ${((100 * (after.seconds - before.seconds)) / Number(values.seconds)).toFixed(0)}%), ${(100 * ((after.le10ms - before.le10ms) / batches)).toFixed(0)}% of batches ≤ 10 ms`;
      a.engine.push(engine);
      process.stdout.write(`    ${engine}\n`);
      said += `, open-loop p99 ${s.ok.p99Ms.toFixed(1)} ms (non-200 ${s.requests - (s.byStatus['200'] ?? 0)})`;
    }
    if (Number(values.closed) > 0) {
      const before = await engineMetrics(rp.metricsPort);
      const c = await closedLoop(url, pngs, Number(values.connections), Number(values.closed));
      const after = await engineMetrics(rp.metricsPort);
      a.closed.push(c.reqPerSec);
      said += `, closed loop ${c.reqPerSec.toFixed(1)} req/s at ${values.connections} connections (p99 ${c.p99Ms.toFixed(1)} ms, errors ${c.errors}, batches of ${((after.images - before.images) / (after.count - before.count)).toFixed(2)} images)`;
    }
    process.stdout.write(`${said}; load ${loadAvg()}\n`);
  } finally {
    agent.destroy();
    await rp.stop();
  }
}

/** The engine's batch counters from /metrics (cumulative). */
async function engineMetrics(port: number): Promise<{ count: number; seconds: number; images: number; le10ms: number }> {
  const text = (await getText(`http://127.0.0.1:${port}/metrics`)).text;
  const value = (re: RegExp) => Number(re.exec(text)?.[1] ?? NaN);
  return {
    count: value(/^digitserve_inference_duration_seconds_count(?:\{[^}]*\})? (\S+)/m),
    seconds: value(/^digitserve_inference_duration_seconds_sum(?:\{[^}]*\})? (\S+)/m),
    images: value(/^digitserve_batch_size_sum(?:\{[^}]*\})? (\S+)/m),
    le10ms: value(/^digitserve_inference_duration_seconds_bucket\{[^}]*le="0\.01"[^}]*\} (\S+)/m),
  };
}

const med = (x: number[]) => percentile([...x].sort((p, q) => p - q), 50);
const loadAvg = () => os.loadavg().map((x) => x.toFixed(1)).join(' ');

const pngs = await Promise.all(Array.from({ length: 50 }, (_, i) => encodeDigit(mnistDigit(i).pixels, { format: 'png' })));
const photo = await phonePhoto();
process.stdout.write(`request path, ${arms.length} arms × ${values.rounds} rounds; ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, Node ${process.version}; load ${loadAvg()}\n`);
for (let r = 0; r < Number(values.rounds); r++) {
  process.stdout.write(`round ${r + 1}\n`);
  // every other round in reverse, so a load that rises or falls during a round favours no arm
  for (const a of r % 2 === 0 ? arms : [...arms].reverse()) await measure(a, pngs, photo);
}
const runs = (x: number[]) => (x.length ? `${med(x).toFixed(1)} (${x.map((p) => p.toFixed(1)).join(', ')})` : '—');
process.stdout.write(`\n| arm | single 28-px PNG p50 (ms) | 12 MP JPEG p50 (ms) | p99 at ${values.rate} req/s: median (runs) | closed loop req/s at ${values.connections} connections: median (runs) |\n| --- | --- | --- | --- | --- |\n`);
for (const a of arms) {
  process.stdout.write(`| ${a.name} | ${med(a.single).toFixed(1)} | ${med(a.photo).toFixed(1)} | ${runs(a.p99)} | ${runs(a.closed)} |\n`);
}
for (const a of arms.filter((x) => Object.keys(x.stages).length > 0)) {
  process.stdout.write(`\n${a.name}: the photo's stages in the server, median ms of ${a.stages.server?.length ?? 0} requests: ${Object.entries(a.stages).map(([k, v]) => `${k} ${med(v).toFixed(1)}`).join(', ')}\n`);
}
process.stdout.write(`load average after: ${loadAvg()}\n`);
