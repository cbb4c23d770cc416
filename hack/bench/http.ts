// HTTP benchmark (SPEC §6, runtime part): single-image `:predict` over loopback with real PNG
// bodies at T = 30 — closed loop at fixed concurrency for our runtime and for the naive
// MC-dropout server (same model, backend and preprocessing) in the same run, their ratio; then
// an open loop at a fixed arrival rate (100 req/s) for the p99 users see; peak RSS of both
// servers. Prints figures, asserts nothing. Run alone: `npx tsx hack/bench/http.ts [--quick]`.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createRequire } from 'node:module';
import sharp from 'sharp';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface HttpBenchOptions {
  samples?: number;
  /** In-flight requests of the closed loop. */
  concurrency?: number;
  /** Bounds of each closed-loop run: whichever comes first. */
  maxRequests?: number;
  maxSeconds?: number;
  /** Arrival rate and length of the open-loop run. */
  rate?: number;
  openSeconds?: number;
  /** PNG side lengths to measure (28: MNIST-style client, 112: upscaled ink on paper). */
  sizes?: number[];
  log?: (line: string) => void;
}

export interface LoadResult {
  requests: number;
  errors: number;
  seconds: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
}

/** The figures for one body size. */
export interface SizeResult {
  size: number;
  bodyBytes: number;
  runtime: LoadResult;
  naive: LoadResult;
  ratio: number;
  openLoop: LoadResult & { rate: number };
}

export interface HttpBenchResult {
  samples: number;
  concurrency: number;
  sizes: SizeResult[];
  runtimePeakRssMiB: number;
  naivePeakRssMiB: number;
  /** 1-minute load average before and after: other work on the machine skews every figure. */
  loadAverage: [number, number];
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/**
 * Real held-out-range MNIST digits as PNGs: at 28 px as MNIST-style clients send them, or
 * upscaled dark ink on white paper (112 px) as a scan or canvas would; the larger ones cost the
 * preprocessing (crop, polarity, centring in JS on the main thread) several ms each.
 */
async function pngBodies(count: number, size: number): Promise<Buffer[]> {
  const mnist = createRequire(import.meta.url)('mnist') as { get(i: number): number[] }[];
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const pixels = mnist[i % 10].get(500 + Math.floor(i / 10));
    if (size === 28) {
      out.push(await sharp(Buffer.from(pixels.map((v) => Math.round(v * 255))), { raw: { width: 28, height: 28, channels: 1 } }).png().toBuffer());
      continue;
    }
    const paper = Buffer.from(pixels.map((v) => 255 - Math.round(v * 255)));
    out.push(await sharp(paper, { raw: { width: 28, height: 28, channels: 1 } }).resize(size, size).png().toBuffer());
  }
  return out;
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

function post(agent: http.Agent, port: number, pathName: string, body: Buffer): Promise<number> {
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port, path: pathName, method: 'POST', agent, headers: { 'content-type': 'image/png', 'content-length': body.length } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
    req.end(body);
  });
}

function summarise(latencies: number[], errors: number, seconds: number): LoadResult {
  const sorted = [...latencies].sort((a, b) => a - b);
  return { requests: latencies.length, errors, seconds, perSecond: latencies.length / seconds, p50Ms: quantile(sorted, 0.5), p99Ms: quantile(sorted, 0.99) };
}

/** Closed loop: `concurrency` clients, each sending the next request when the last one is answered. */
export async function closedLoop(port: number, pathName: string, bodies: Buffer[], concurrency: number, maxRequests: number, maxSeconds: number): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const latencies: number[] = [];
  let errors = 0;
  let sent = 0;
  const t0 = performance.now();
  const until = t0 + maxSeconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (sent < maxRequests && performance.now() < until) {
        const body = bodies[sent++ % bodies.length];
        const start = performance.now();
        const status = await post(agent, port, pathName, body);
        if (status === 200) latencies.push(performance.now() - start);
        else errors++;
      }
    }),
  );
  agent.destroy();
  return summarise(latencies, errors, (performance.now() - t0) / 1000);
}

/**
 * Open loop: requests start at a fixed rate whatever the answers do; latency counts from the
 * scheduled start, so a stall shows up in the tail instead of slowing the generator down.
 */
export async function openLoop(port: number, pathName: string, bodies: Buffer[], rate: number, seconds: number): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true });
  const latencies: number[] = [];
  let errors = 0;
  const total = Math.round(rate * seconds);
  const t0 = performance.now();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    pending.push(
      post(agent, port, pathName, bodies[i % bodies.length]).then((status) => {
        if (status === 200) latencies.push(performance.now() - due);
        else errors++;
      }),
    );
  }
  await Promise.all(pending);
  agent.destroy();
  return summarise(latencies, errors, (performance.now() - t0) / 1000);
}

/** Peak resident set size (VmHWM) of a process, in MiB (Linux). */
function peakRssMiB(pid: number): number {
  const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function spawnServer(args: string[], env: Record<string, string>, readyUrl: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: root, env: { ...process.env, NODE_OPTIONS: '', ...env }, stdio: ['ignore', 'ignore', 'inherit'] });
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${args[0]} exited with ${child.exitCode}`);
    const ok = await fetch(readyUrl).then((r) => r.ok, () => false);
    if (ok) return child;
    if (Date.now() > deadline) throw new Error(`${args[0]} not ready within 120 s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

/** Runs the whole HTTP benchmark; servers are child processes started and stopped here. */
export async function runHttpBench(opts: HttpBenchOptions = {}): Promise<HttpBenchResult> {
  const samples = opts.samples ?? 30;
  const concurrency = opts.concurrency ?? 8;
  const maxRequests = opts.maxRequests ?? 3000;
  const maxSeconds = opts.maxSeconds ?? 15;
  const rate = opts.rate ?? 100;
  const openSeconds = opts.openSeconds ?? 15;
  const sizes = opts.sizes ?? [28, 112];
  const log = opts.log ?? (() => undefined);
  const loadBefore = os.loadavg()[0];
  const bodies = new Map<number, Buffer[]>();
  for (const size of sizes) bodies.set(size, await pngBodies(100, size));
  const avgBytes = (size: number) => Math.round(bodies.get(size)!.reduce((a, b) => a + b.length, 0) / 100);

  const ours = new Map<number, { closed: LoadResult; open: LoadResult }>();
  const port = await freePort();
  const runtime = await spawnServer(['runtime/main.ts'], { PORT: String(port), METRICS_PORT: String(await freePort()), GRPC_PORT: String(await freePort()), MC_SAMPLES: String(samples), LOG_LEVEL: 'warn' }, `http://127.0.0.1:${port}/readyz`);
  let runtimeRss: number;
  try {
    const predictPath = '/v1/models/mnist-cnn:predict';
    for (const size of sizes) {
      const b = bodies.get(size)!;
      await closedLoop(port, predictPath, b, concurrency, 200, 3); // warm-up
      const closed = await closedLoop(port, predictPath, b, concurrency, maxRequests, maxSeconds);
      log(`runtime ${size}px closed loop c=${concurrency}: ${closed.perSecond.toFixed(1)} req/s, p50 ${closed.p50Ms.toFixed(1)} ms, p99 ${closed.p99Ms.toFixed(1)} ms (${closed.requests} ok, ${closed.errors} errors)`);
      const open = await openLoop(port, predictPath, b, rate, openSeconds);
      log(`runtime ${size}px open loop ${rate} req/s: p50 ${open.p50Ms.toFixed(1)} ms, p99 ${open.p99Ms.toFixed(1)} ms (${open.requests} ok, ${open.errors} errors, achieved ${open.perSecond.toFixed(1)} req/s)`);
      ours.set(size, { closed, open });
    }
    runtimeRss = peakRssMiB(runtime.pid!);
  } finally {
    await stop(runtime);
  }

  const theirs = new Map<number, LoadResult>();
  const naivePort = await freePort();
  const naive = await spawnServer(['hack/bench/naive-server.ts', '--port', String(naivePort), '--samples', String(samples)], {}, `http://127.0.0.1:${naivePort}/`);
  let naiveRss: number;
  try {
    for (const size of sizes) {
      const b = bodies.get(size)!;
      await closedLoop(naivePort, '/predict', b, concurrency, 20, 3); // warm-up
      const closed = await closedLoop(naivePort, '/predict', b, concurrency, Math.min(maxRequests, 600), maxSeconds);
      log(`naive   ${size}px closed loop c=${concurrency}: ${closed.perSecond.toFixed(1)} req/s, p50 ${closed.p50Ms.toFixed(1)} ms, p99 ${closed.p99Ms.toFixed(1)} ms (${closed.requests} ok, ${closed.errors} errors)`);
      theirs.set(size, closed);
    }
    naiveRss = peakRssMiB(naive.pid!);
  } finally {
    await stop(naive);
  }
  const results = sizes.map((size): SizeResult => {
    const o = ours.get(size)!;
    const n = theirs.get(size)!;
    const ratio = o.closed.perSecond / n.perSecond;
    log(`ratio runtime/naive at ${size}px: ${ratio.toFixed(1)}×`);
    return { size, bodyBytes: avgBytes(size), runtime: o.closed, naive: n, ratio, openLoop: { ...o.open, rate } };
  });
  log(`peak RSS runtime ${runtimeRss.toFixed(0)} MiB (main + engine worker), naive ${naiveRss.toFixed(0)} MiB`);
  const loadAverage: [number, number] = [loadBefore, os.loadavg()[0]];
  log(`load average (1 min) ${loadAverage[0].toFixed(2)} before, ${loadAverage[1].toFixed(2)} after, on ${os.availableParallelism()} CPUs`);
  return { samples, concurrency, sizes: results, runtimePeakRssMiB: runtimeRss, naivePeakRssMiB: naiveRss, loadAverage };
}

/** The figures as a Markdown table (for docs/runtime.md). */
export function markdown(r: HttpBenchResult): string {
  const f = (x: number) => x.toFixed(1);
  const lines = [
    `| PNG body | server (T = ${r.samples}) | load | req/s | p50 ms | p99 ms | answered | errors |`,
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const s of r.sizes) {
    const body = `${s.size} px, ~${s.bodyBytes} B`;
    lines.push(`| ${body} | digitserve runtime | ${r.concurrency} in flight | ${f(s.runtime.perSecond)} | ${f(s.runtime.p50Ms)} | ${f(s.runtime.p99Ms)} | ${s.runtime.requests} | ${s.runtime.errors} |`);
    lines.push(`| ${body} | naive MC dropout | ${r.concurrency} in flight | ${f(s.naive.perSecond)} | ${f(s.naive.p50Ms)} | ${f(s.naive.p99Ms)} | ${s.naive.requests} | ${s.naive.errors} |`);
    lines.push(`| ${body} | digitserve runtime | open loop ${s.openLoop.rate} req/s | ${f(s.openLoop.perSecond)} | ${f(s.openLoop.p50Ms)} | ${f(s.openLoop.p99Ms)} | ${s.openLoop.requests} | ${s.openLoop.errors} |`);
  }
  lines.push('', `Throughput ratio runtime / naive: ${r.sizes.map((s) => `**${s.ratio.toFixed(1)}×** at ${s.size} px`).join(', ')}. Peak RSS: runtime ${r.runtimePeakRssMiB.toFixed(0)} MiB, naive ${r.naivePeakRssMiB.toFixed(0)} MiB. Machine load average ${r.loadAverage[0].toFixed(1)} → ${r.loadAverage[1].toFixed(1)} on ${os.availableParallelism()} CPUs.`);
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, concurrency: { type: 'string' } } });
  const r = await runHttpBench({
    concurrency: values.concurrency ? Number(values.concurrency) : undefined,
    maxSeconds: values.quick ? 5 : 15,
    openSeconds: values.quick ? 5 : 15,
    log: (l) => process.stdout.write(`${l}\n`),
  });
  process.stdout.write(`\n${markdown(r)}\n`);
}
