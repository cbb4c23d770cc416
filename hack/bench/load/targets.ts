// The runtime's figures for issue #19's targets that need no peer, measured on one runtime started
// with default settings: p99 at a steady open-loop rate (median of 3 runs), images/s with 64-image
// multipart requests, the latency of a 12-megapixel JPEG photo, and memory (the process's RSS and
// each engine worker's own memory from /metrics). `targetsMarkdown` joins them with the compare
// rows into the issue's table. The runtime runs with the memory settings the images set in their
// ENV (NODE_OPTIONS from Dockerfile.runtime), as it is deployed.
import http from 'node:http';
import sharp from 'sharp';
import { encodeDigit, mnistDigit } from '../../../test/support/images.js';
import { getText, repoRoot, RuntimeProcess } from '../../../test/support/runtime-process.js';
import type { ServerFigures } from './compare.js';
import { treeRssMiB } from './compare.js';
import { imageMemoryEnv, processBreakdown } from './smaps.js';
import { runPhases, type Target } from './open-loop.js';
import { percentile, summarise } from './stats.js';

export interface TargetFigures {
  openLoop: { rate: number; seconds: number; p99Ms: number[]; medianP99Ms: number; non200: number };
  multipart: { imagesPerRequest: number; connections: number; seconds: number; imagesPerSec: number; p50Ms: number; errors: number };
  photo: { width: number; height: number; bytes: number; requests: number; p50Ms: number; maxMs: number };
  memory: {
    peakRssMiB: number;
    workers: { worker: string; mib: number }[];
    engineWorkers: number;
    /** RSS after the load, split: anonymous pages vs file-backed ones (libraries' text, reclaimable). */
    after?: { rssMiB: number; anonMiB: number; fileMiB: number };
    /** The images' memory settings the runtime ran with. */
    env: Record<string, string>;
  };
  backend: string;
}

/** A multipart/form-data body with one file part per image. */
export function multipartBody(images: Buffer[], boundary: string): Buffer {
  const parts: Buffer[] = [];
  images.forEach((img, i) => {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="digit-${i}.png"\r\nContent-Type: image/png\r\n\r\n`), img, Buffer.from('\r\n'));
  });
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(parts);
}

/**
 * A phone-camera-sized photo of a handwritten digit: dark ink on lit paper with noise and a
 * lighting falloff, drawn at a quarter of the size (the renderer's noise is per pixel, in JS) and
 * scaled up by libvips to width × height, JPEG at quality 90 as cameras write them.
 */
export async function phonePhoto(width = 4000, height = 3000): Promise<Buffer> {
  const small = await encodeDigit(mnistDigit(7).pixels, { format: 'png', invert: true, scale: Math.floor((height / 4) * 0.6 / 28), canvas: { width: width / 4, height: height / 4 }, noise: 0.03, gradient: 0.25 });
  return sharp(small).resize(width, height, { kernel: 'cubic' }).jpeg({ quality: 90 }).toBuffer();
}

function post(agent: http.Agent, url: URL, body: Buffer, contentType: string): Promise<{ status: number; ms: number; text: string }> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': contentType, 'content-length': body.length } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - t0, text: Buffer.concat(chunks).toString() }));
      res.on('error', () => resolve({ status: 0, ms: performance.now() - t0, text: '' }));
    });
    req.setTimeout(120_000, () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve({ status: 0, ms: performance.now() - t0, text: '' }));
    req.end(body);
  });
}

export interface TargetOptions {
  samples: number;
  /** One PNG digit per request for the open loop. */
  images: Buffer[];
  rate: number;
  seconds: number;
  say: (line: string) => void;
  env?: Record<string, string>;
}

export async function measureTargets(o: TargetOptions): Promise<TargetFigures> {
  const { say } = o;
  const photo = await phonePhoto();
  const boundary = 'digitserve-bench-boundary';
  const batch = multipartBody(o.images.slice(0, 64), boundary);
  const memoryEnv = imageMemoryEnv(repoRoot);
  const env = { ...memoryEnv, ...o.env };
  say(`targets: starting the runtime (settings default, as the images run it: ${Object.entries(env).map(([k, v]) => `${k}=${v}`).join(' ')})…`);
  const rp = await RuntimeProcess.start({ env: { MC_SAMPLES: String(o.samples), LOG_LEVEL: 'warn', ...env } });
  const peak = { mib: 0 };
  const sample = () => (peak.mib = Math.max(peak.mib, treeRssMiB(rp.pid).mib));
  const timer = setInterval(sample, 500);
  try {
    const model = JSON.parse((await getText(`${rp.baseUrl}/v1/models/mnist-cnn`)).text) as { backend?: string; engine?: { backend?: string } };
    const url = new URL(`${rp.baseUrl}/v1/models/mnist-cnn:predict`);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

    // 1. p99 at a steady open-loop rate, three runs, the median reported
    const target: Target = { url, body: (i) => o.images[i % o.images.length], contentType: 'image/png', agent, timeoutMs: 30_000 };
    await runPhases(target, [{ name: 'warm-up', seconds: 3, rate: () => 20 }], performance.now());
    const p99s: number[] = [];
    let non200 = 0;
    for (let run = 0; run < 3; run++) {
      const s = summarise(await runPhases(target, [{ name: 'steady', seconds: o.seconds, rate: () => o.rate }], performance.now()));
      p99s.push(s.ok.p99Ms);
      non200 += s.requests - (s.byStatus['200'] ?? 0);
      say(`  open loop ${run + 1}/3: ${o.rate} req/s for ${o.seconds} s, p99 ${s.ok.p99Ms.toFixed(1)} ms`);
    }
    const sorted = [...p99s].sort((a, b) => a - b);

    // 2. 64-image multipart requests, closed loop at 2 connections
    const mpType = `multipart/form-data; boundary=${boundary}`;
    const check = await post(agent, url, batch, mpType);
    if (check.status !== 200) throw new Error(`a 64-image multipart request was answered ${check.status}: ${check.text.slice(0, 300)}`);
    const connections = 2;
    const lat: number[] = [];
    let errors = 0;
    const t0 = performance.now();
    const until = t0 + o.seconds * 1000;
    await Promise.all(
      Array.from({ length: connections }, async () => {
        while (performance.now() < until) {
          const r = await post(agent, url, batch, mpType);
          if (r.status === 200) lat.push(r.ms);
          else errors++;
        }
      }),
    );
    const elapsed = (performance.now() - t0) / 1000;
    lat.sort((a, b) => a - b);
    const multipart = { imagesPerRequest: 64, connections, seconds: o.seconds, imagesPerSec: (lat.length * 64) / elapsed, p50Ms: percentile(lat, 50), errors };
    say(`  64-image multipart: ${multipart.imagesPerSec.toFixed(0)} images/s (${lat.length} requests, p50 ${multipart.p50Ms.toFixed(0)} ms, ${errors} errors)`);

    // 3. a 12 MP JPEG, one request at a time
    const first = await post(agent, url, photo, 'image/jpeg');
    if (first.status !== 200) throw new Error(`the 12 MP photo was answered ${first.status}: ${first.text.slice(0, 300)}`);
    const photoMs: number[] = [];
    for (let i = 0; i < 10; i++) photoMs.push((await post(agent, url, photo, 'image/jpeg')).ms);
    photoMs.sort((a, b) => a - b);
    say(`  12 MP JPEG (${(photo.length / 2 ** 20).toFixed(1)} MiB): p50 ${percentile(photoMs, 50).toFixed(1)} ms of 10`);

    // 4. memory: the process's peak RSS over all of the above; each worker's own memory now
    sample();
    const after = processBreakdown(rp.pid);
    const metrics = (await getText(`http://127.0.0.1:${rp.metricsPort}/metrics`)).text;
    const workers = [...metrics.matchAll(/^digitserve_engine_worker_memory_bytes\{[^}]*worker="(\d+)"[^}]*\}\s+(\S+)/gm)].map((m) => ({ worker: m[1], mib: Number(m[2]) / 2 ** 20 }));
    agent.destroy();
    return {
      openLoop: { rate: o.rate, seconds: o.seconds, p99Ms: p99s, medianP99Ms: sorted[1], non200 },
      multipart,
      photo: { width: 4000, height: 3000, bytes: photo.length, requests: photoMs.length, p50Ms: percentile(photoMs, 50), maxMs: photoMs[photoMs.length - 1] },
      memory: { peakRssMiB: Math.round(peak.mib), workers, engineWorkers: workers.length, after: after && { rssMiB: after.rssMiB, anonMiB: after.anonMiB, fileMiB: after.fileMiB }, env },
      backend: model.backend ?? model.engine?.backend ?? 'unknown',
    };
  } finally {
    clearInterval(timer);
    await rp.stop();
  }
}

/** Issue #19's targets table from the compare rows (runtime first) and the runtime's own figures. */
export function targetsMarkdown(rows: ServerFigures[], t: TargetFigures): string {
  const base = rows[0];
  const peer = (prefix: string) => rows.find((r) => r.name.startsWith(prefix));
  const ratio = (r: ServerFigures | undefined) => (r ? `${(base.reqPerSec / r.reqPerSec).toFixed(1)}× (${base.reqPerSec.toFixed(0)} vs ${r.reqPerSec.toFixed(1)} req/s)` : 'not run (--compare python,naive)');
  const mark = (ok: boolean | undefined) => (ok === undefined ? '' : ok ? ' ✓' : ' ✗');
  const python = peer('python');
  const naive = peer('naive');
  const perWorker = t.memory.workers.map((w) => `${w.mib.toFixed(0)}`).join(' + ');
  return [
    `Issue #19 targets, same run (backend ${t.backend}, ${t.memory.engineWorkers} engine workers):`,
    '',
    '| figure | measured | target |',
    '| --- | --- | --- |',
    `| req/s vs the seed-style Python service | ${ratio(python)}${mark(python && base.reqPerSec / python.reqPerSec >= 10)} | ≥ 10× |`,
    `| req/s vs the naive method | ${ratio(naive)}${mark(naive && base.reqPerSec / naive.reqPerSec >= 40)} | ≥ 40× |`,
    `| p99 at ${t.openLoop.rate} req/s open-loop, median of 3 runs of ${t.openLoop.seconds} s | ${t.openLoop.medianP99Ms.toFixed(1)} ms (runs: ${t.openLoop.p99Ms.map((p) => p.toFixed(1)).join(', ')}; non-200: ${t.openLoop.non200})${mark(t.openLoop.medianP99Ms <= 15)} | ≤ 15 ms |`,
    `| images/s with 64-image multipart requests (${t.multipart.connections} connections) | ${t.multipart.imagesPerSec.toFixed(0)} (request p50 ${t.multipart.p50Ms.toFixed(0)} ms)${mark(t.multipart.imagesPerSec >= 1200)} | ≥ 1,200 |`,
    `| 12 MP JPEG photo (${t.photo.width}×${t.photo.height}, ${(t.photo.bytes / 2 ** 20).toFixed(1)} MiB), single request, p50 of ${t.photo.requests} | ${t.photo.p50Ms.toFixed(1)} ms (max ${t.photo.maxMs.toFixed(1)})${mark(t.photo.p50Ms <= 60)} | ≤ 60 ms |`,
    `| runtime RSS under load, whole process (peak; ${Object.entries(t.memory.env).map(([k, v]) => `${k}=${v}`).join(' ')} as in the images) | ${t.memory.peakRssMiB} MiB${t.memory.after ? ` (after the load ${Math.round(t.memory.after.rssMiB)} = ${Math.round(t.memory.after.anonMiB)} anonymous + ${Math.round(t.memory.after.fileMiB)} file-backed: libraries' text, reclaimable)` : ''}; engine workers' own V8 heap + external ${perWorker} MiB (threads share one RSS)${mark(t.memory.peakRssMiB <= 450 * 1.048576)} | ≤ 450 MB |`,
  ].join('\n');
}
