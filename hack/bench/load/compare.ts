// `npm run bench:load -- --compare python,naive`: the same load against the runtime and its peers in
// one run, one server at a time on the same machine, and a table of ratios. Peers:
//   python  the seed-style service (hack/bench/peer/server.py): FastAPI + uvicorn, one worker per
//           effective core, the model rebuilt in Keras, MC dropout as one batched tf.function call;
//           its environment is hack/python/requirements-peer.txt made by hack/python/venv.sh
//   naive   hack/bench/naive-server.ts: T full forward passes with training: true per request
// Per server: readiness, an agreement check (the digits it answers for the same images as the
// runtime), a warm-up, single-request latency (one request at a time), then a closed loop at
// `connections` for `seconds` (req/s, p50/p99 of 200s); RSS of the server's whole process tree
// (uvicorn's workers included) sampled each second, peak reported.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { freePort, getText, repoRoot, RuntimeProcess, sleep } from '../../../test/support/runtime-process.js';
import { projectPython } from '../../../runtime/import/python-env.js';
import { percentile } from './stats.js';

/** `K=V,K=V` as an object (a value may itself hold `=`). */
export function envPairs(v: string): Record<string, string> {
  return Object.fromEntries(v.split(',').map((kv) => { const t = kv.trim(); const i = t.indexOf('='); return [t.slice(0, i), t.slice(i + 1)] as [string, string]; }));
}

/** `--variants 'K=V,K=V;K=V'`: one environment per variant. */
export function parseVariants(v: string | undefined): Record<string, string>[] {
  return (v ?? '').split(';').filter((x) => x.trim()).map(envPairs);
}

export const PEERS = ['python', 'naive'] as const;
export type PeerName = (typeof PEERS)[number];

interface Server {
  name: string;
  pid: number;
  baseUrl: string;
  predictPath: string;
  note: string;
  stop(): Promise<void>;
}

export interface CompareOptions {
  peers: PeerName[];
  samples: number;
  connections: number;
  seconds: number;
  singleRequests: number;
  images: Buffer[];
  say: (line: string) => void;
  /** More runtime rows, each with these settings (e.g. ENGINE_WORKERS=1: a change against its baseline, same run). */
  variants?: Record<string, string>[];
}

export interface ServerFigures {
  name: string;
  note: string;
  reqPerSec: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  errors: number;
  singleP50Ms: number;
  peakRssMiB: number;
  processes: number;
  agreement: { same: number; of: number };
}

/** Pids of `pid` and every descendant (from /proc/<n>/stat's ppid). */
export function processTree(pid: number): number[] {
  const parent = new Map<number, number>();
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${e}/stat`, 'utf8');
      // pid (comm) state ppid ...: comm may hold spaces and parentheses, so split after the last ')'
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parent.set(Number(e), ppid);
    } catch {
      // gone meanwhile
    }
  }
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) for (const [child, p] of parent) if (p === tree[i]) tree.push(child);
  return tree;
}

function rssKiB(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Sum of RSS over a process tree (shared pages counted once per process, as `ps` would). */
export function treeRssMiB(pid: number): { mib: number; processes: number } {
  const tree = processTree(pid);
  return { mib: tree.reduce((s, p) => s + rssKiB(p), 0) / 1024, processes: tree.length };
}

function post(agent: http.Agent, url: URL, body: Buffer): Promise<{ status: number; text: string }> {
  return new Promise((resolve) => {
    const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'image/png', 'content-length': body.length } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
      res.on('error', () => resolve({ status: 0, text: '' }));
    });
    req.setTimeout(60_000, () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve({ status: 0, text: '' }));
    req.end(body);
  });
}

export async function closedLoop(url: URL, images: Buffer[], connections: number, seconds: number) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const latencies: number[] = [];
  let errors = 0;
  let next = 0;
  const t0 = performance.now();
  const until = t0 + seconds * 1000;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < until) {
        const body = images[next++ % images.length];
        const start = performance.now();
        const { status } = await post(agent, url, body);
        if (status === 200) latencies.push(performance.now() - start);
        else errors++;
      }
    }),
  );
  const elapsed = (performance.now() - t0) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return { reqPerSec: latencies.length / elapsed, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99), requests: latencies.length, errors };
}

async function waitFor(child: ChildProcess, name: string, ready: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${name} exited (${child.exitCode ?? child.signalCode}) before it was ready`);
    if (await ready().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${name} was not ready within ${timeoutMs / 1000} s`);
    await sleep(300);
  }
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const force = setTimeout(() => child.kill('SIGKILL'), 20_000);
  return exited.finally(() => clearTimeout(force));
}

/** The peer's Python environment (made once, cached by hack/python/venv.sh); the path of its interpreter. */
export function peerPython(say: (l: string) => void): Promise<string> {
  say(`python peer: environment from hack/python/requirements-peer.txt (first time: pip installs TensorFlow, minutes)…`);
  return projectPython('hack/python/requirements-peer.txt');
}

async function startPython(samples: number, say: (l: string) => void): Promise<Server> {
  const python = await peerPython(say);
  const port = await freePort();
  const child = spawn(python, [path.join(repoRoot, 'hack/bench/peer/server.py'), '--port', String(port), '--samples', String(samples)], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString()));
  const baseUrl = `http://127.0.0.1:${port}`;
  // ready once every worker answered /healthz (each loads and traces the model on its own)
  const seen = new Set<number>();
  try {
    await waitFor(
      child,
      'the python peer',
      async () => {
        const m = /"workers": (\d+)/.exec(out);
        if (!m) return false;
        const r = await getText(`${baseUrl}/healthz`, 2_000);
        if (r.status === 200) seen.add((JSON.parse(r.text) as { pid: number }).pid);
        return seen.size >= Number(m[1]);
      },
      300_000,
    );
  } catch (e) {
    await stopChild(child);
    throw new Error(`${(e as Error).message}\n${out.slice(-3000)}`, { cause: e });
  }
  const workers = /"workers": (\d+)/.exec(out)![1];
  return { name: 'python', pid: child.pid!, baseUrl, predictPath: '/v1/models/mnist-cnn:predict', note: `FastAPI + uvicorn (${workers} workers) + Keras on TensorFlow CPU, one batched tf.function call of T`, stop: () => stopChild(child) };
}

async function startNaive(samples: number): Promise<Server> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'hack/bench/naive-server.ts'), '--port', String(port), '--samples', String(samples)], {
    cwd: repoRoot,
    env: { ...process.env, NODE_OPTIONS: '' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  await waitFor(child, 'the naive server', async () => (await getText(baseUrl + '/', 2_000)).status === 200, 120_000).catch(async (e: unknown) => {
    await stopChild(child);
    throw e;
  });
  return { name: 'naive', pid: child.pid!, baseUrl, predictPath: '/predict', note: 'Node, T full forward passes with training: true per request', stop: () => stopChild(child) };
}

async function startRuntime(samples: number, env: Record<string, string> = {}): Promise<Server> {
  const rp = await RuntimeProcess.start({ env: { MC_SAMPLES: String(samples), LOG_LEVEL: 'warn', ...env } });
  const settings = Object.entries(env).map(([k, v]) => `${k}=${v}`).join(' ');
  return {
    name: settings ? `digitserve runtime, ${settings}` : 'digitserve runtime',
    pid: rp.pid,
    baseUrl: rp.baseUrl,
    predictPath: '/v1/models/mnist-cnn:predict',
    note: settings ? `runtime/main.ts, ${settings}` : 'runtime/main.ts, settings default',
    stop: async () => void (await rp.stop()),
  };
}

async function digitsOf(server: Server, images: Buffer[]): Promise<number[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const url = new URL(server.predictPath, server.baseUrl);
  const out: number[] = [];
  for (const img of images) {
    const r = await post(agent, url, img);
    if (r.status !== 200) throw new Error(`${server.name} answered ${r.status} to a check image: ${r.text.slice(0, 300)}`);
    out.push((JSON.parse(r.text) as { predictions: { digit: number }[] }).predictions[0].digit);
  }
  agent.destroy();
  return out;
}

async function measure(server: Server, opts: CompareOptions, reference: number[] | undefined, checkImages: Buffer[]): Promise<{ figures: ServerFigures; digits: number[] }> {
  const { say } = opts;
  const url = new URL(server.predictPath, server.baseUrl);
  const digits = await digitsOf(server, checkImages);
  const same = reference ? digits.filter((d, i) => d === reference[i]).length : digits.length;
  say(`  ${server.name}: digits for the ${checkImages.length} check images ${reference ? `agree with the runtime on ${same}` : `(reference): ${digits.slice(0, 12).join(' ')}…`}`);
  await closedLoop(url, opts.images, Math.min(4, opts.connections), 3); // warm-up
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const single: number[] = [];
  for (let i = 0; i < opts.singleRequests; i++) {
    const t = performance.now();
    const r = await post(agent, url, opts.images[i % opts.images.length]);
    if (r.status === 200) single.push(performance.now() - t);
  }
  agent.destroy();
  single.sort((a, b) => a - b);
  // peak RSS sum, and the most processes the tree had
  const peak = { mib: 0, processes: 0 };
  const sample = () => {
    const now = treeRssMiB(server.pid);
    peak.mib = Math.max(peak.mib, now.mib);
    peak.processes = Math.max(peak.processes, now.processes);
  };
  sample();
  const timer = setInterval(sample, 1000);
  const loop = await closedLoop(url, opts.images, opts.connections, opts.seconds).finally(() => clearInterval(timer));
  sample();
  const figures: ServerFigures = {
    name: server.name,
    note: server.note,
    ...loop,
    singleP50Ms: percentile(single, 50),
    peakRssMiB: Math.round(peak.mib),
    processes: peak.processes,
    agreement: { same, of: checkImages.length },
  };
  say(`  ${server.name}: ${figures.reqPerSec.toFixed(1)} req/s at ${opts.connections} connections, p99 ${figures.p99Ms.toFixed(1)} ms, single p50 ${figures.singleP50Ms.toFixed(1)} ms, peak RSS ${figures.peakRssMiB} MiB over ${figures.processes} process(es), ${figures.errors} errors`);
  return { figures, digits };
}

/** Runs the runtime, then each peer, one at a time; returns their figures, runtime first. */
export async function runCompare(opts: CompareOptions): Promise<ServerFigures[]> {
  const { say } = opts;
  // the sample PNG of the docs plus held-out digits from the load's own images
  const checkImages = [fs.readFileSync(path.join(repoRoot, 'docs/examples/digit.png')), ...opts.images.slice(0, 49)];
  const starters: Record<string, () => Promise<Server>> = {
    runtime: () => startRuntime(opts.samples),
    python: () => startPython(opts.samples, say),
    naive: () => startNaive(opts.samples),
  };
  const variants = (opts.variants ?? []).map((env, i) => {
    starters[`variant-${i}`] = () => startRuntime(opts.samples, env);
    return `variant-${i}`;
  });
  const out: ServerFigures[] = [];
  let reference: number[] | undefined;
  for (const name of ['runtime', ...variants, ...opts.peers]) {
    say(`${name}: starting…`);
    const server = await starters[name]();
    try {
      const { figures, digits } = await measure(server, opts, reference, checkImages);
      reference ??= digits;
      out.push(figures);
    } finally {
      await server.stop();
    }
  }
  return out;
}

export function compareMarkdown(rows: ServerFigures[], o: { samples: number; connections: number; seconds: number; singleRequests: number; machine: string; load: string }): string {
  const base = rows[0];
  const L = [
    `Same run, one server at a time, ${o.machine}; load average ${o.load}. T = ${o.samples}, one PNG digit per request, closed loop at ${o.connections} connections for ${o.seconds} s; single request = p50 of ${o.singleRequests} requests one at a time; RSS = peak sum over the server's process tree (workers included).`,
    '',
    '| server | req/s | p99 (ms) | single request p50 (ms) | peak RSS (MiB) | runtime req/s ÷ this | agrees with runtime |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of rows) {
    const ratio = r === base ? '—' : `${(base.reqPerSec / r.reqPerSec).toFixed(1)}×`;
    L.push(`| ${r.name}: ${r.note} | ${r.reqPerSec.toFixed(1)} | ${r.p99Ms.toFixed(1)} | ${r.singleP50Ms.toFixed(1)} | ${r.peakRssMiB} (${r.processes} proc) | ${ratio} | ${r === base ? '—' : `${r.agreement.same}/${r.agreement.of}`} |`);
  }
  const errs = rows.filter((r) => r.errors > 0);
  if (errs.length) L.push('', `Non-200 answers during the loop: ${errs.map((r) => `${r.name} ${r.errors}`).join(', ')}.`);
  return L.join('\n');
}
