// `npm run bench:profile`: where the runtime's time goes under load. Starts runtime/main.ts with
// `--cpu-prof` (every thread writes a profile: the event loop, the preprocessing and the engine
// workers), runs a closed loop of single-image PNG `:predict` requests (16 connections, 20 s;
// T = 30), stops the runtime (SIGTERM: the profiles are written on exit) and prints each thread's
// sampled time by stage: HTTP parse, body read, routing, worker hand-off, decode, each
// preprocessing step, batching, engine, confidence mapping, serialisation, GC, idle.
// --keep leaves the .cpuprofile files (for a flame graph: Chrome DevTools or speedscope) under
// tmp/bench/profile; by default only the summary is kept (tmp/bench/profile/summary.md).
// Extra runtime settings: --env KEY=VALUE (repeatable), e.g. --env ENGINE_WORKERS=1.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { encodeDigit, mnistDigit } from '../../test/support/images.js';
import { repoRoot, RuntimeProcess } from '../../test/support/runtime-process.js';
import { closedLoop } from './load/compare.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '20' },
    connections: { type: 'string', default: '16' },
    samples: { type: 'string', default: '30' },
    env: { type: 'string', multiple: true, default: [] },
    keep: { type: 'boolean', default: false },
  },
});
const say = (line: string) => process.stdout.write(line + '\n');

interface CallFrame {
  functionName: string;
  url: string;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/**
 * The stage a sample belongs to: the innermost frame of the runtime's own code or of a library
 * that names it, walking from the sampled frame towards the root (so time inside tfjs called by
 * the sampler counts as `engine`, a JSON.stringify called by the response code as serialisation).
 */
function stageOf(stack: CallFrame[]): string {
  const top = stack[0];
  if (top.functionName === '(idle)') return 'idle';
  if (top.functionName === '(garbage collector)') return 'GC';
  if (top.functionName === '(program)') return 'native, unattributed (program)';
  for (const f of stack) {
    const u = f.url;
    const m = /runtime\/preprocess\/([\w-]+)\.ts/.exec(u);
    if (m) return m[1] === 'decode' ? 'decode (sharp/libvips)' : `preprocess: ${m[1]}`;
    if (/runtime\/engine\/(confidence|uncertainty|pixel-evidence|feature-density|stroke-shape)\.ts/.test(u)) return 'engine: summaries + confidence mapping';
    if (/runtime\/engine\//.test(u) || /@tensorflow\//.test(u)) return 'engine: tfjs (MC-dropout sampling)';
    if (/runtime\/app\/batcher\.ts/.test(u)) return 'batching';
    if (/runtime\/app\/preprocess-(pool|worker)\.ts/.test(u) || /runtime\/engine\/engine-(client|pool)\.ts/.test(u)) return 'worker hand-off';
    if (/runtime\/server\/(routes\/respond|format)\.ts/.test(u)) return 'response serialisation';
    if (/runtime\/server\/body\//.test(u) || /raw-body|co-body|busboy|@fastify\/busboy/.test(u)) return 'body read';
    if (/runtime\/metrics\/|prom-client/.test(u)) return 'metrics';
    if (/pino|runtime\/logger/.test(u)) return 'logging';
    if (/sharp\//.test(u)) return 'decode (sharp/libvips)';
  }
  for (const f of stack) {
    const u = f.url;
    if (/node:_http_(server|common|incoming)|HTTPParser|parserOnHeaders|parserOnBody/.test(u + f.functionName)) return 'HTTP parse';
    if (/node:_http_outgoing|node:net|node:internal\/stream_base|writeGeneric|writev/.test(u + f.functionName)) return 'HTTP write + socket';
    if (/node:internal\/worker|MessagePort|postMessage|structuredClone|node:worker_threads/.test(u + f.functionName)) return 'worker hand-off';
    if (/koa|@koa|runtime\/server\//.test(u)) return 'Koa + routing';
    if (/runtime\/app\//.test(u)) return 'application (predict, inputs)';
  }
  if (/JSON\.|stringify/.test(top.functionName)) return 'response serialisation';
  if (top.url.startsWith('node:') || top.url === '') return 'Node internals / native';
  return 'other JS';
}

/** Sampled milliseconds per stage of one profile. */
function summariseProfile(p: CpuProfile): { total: number; byStage: Map<string, number>; byFunction: Map<string, number>; loader: boolean } {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const stageCache = new Map<number, string>();
  const byStage = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let total = 0;
  p.samples.forEach((id, i) => {
    const ms = (p.timeDeltas[i] ?? 0) / 1000;
    total += ms;
    let stage = stageCache.get(id);
    if (stage === undefined) {
      const stack: CallFrame[] = [];
      for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) stack.push(byId.get(at)!.callFrame);
      stage = stageOf(stack);
      stageCache.set(id, stage);
    }
    byStage.set(stage, (byStage.get(stage) ?? 0) + ms);
    const f = byId.get(id)!.callFrame;
    const where = f.url ? ` (${f.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*?\/(runtime|hack)\//, '$1/')})` : '';
    const fn = `${f.functionName || '(anonymous)'}${where}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + ms);
  });
  // the thread Node runs module loader hooks on (tsx's TypeScript transform): not the runtime's
  const loader = p.nodes.some((n) => /tsx\/dist\/esm\/index|esbuild/.test(n.callFrame.url)) && !p.nodes.some((n) => /runtime\//.test(n.callFrame.url));
  return { total, byStage, byFunction, loader };
}

/** Which thread a profile is: by what it spent its time on. */
function threadName(byStage: Map<string, number>, tid: number, loader: boolean): string {
  if (tid === 0) return 'event loop (main thread)';
  if (loader) return `module loader hooks (tsx; thread ${tid}; absent from the compiled image)`;
  const engine = [...byStage].filter(([s]) => s.startsWith('engine')).reduce((a, [, v]) => a + v, 0);
  const pre = [...byStage].filter(([s]) => s.startsWith('preprocess') || s.startsWith('decode')).reduce((a, [, v]) => a + v, 0);
  return engine > pre ? `engine worker (thread ${tid})` : `preprocessing worker (thread ${tid})`;
}

const dir = path.join(repoRoot, 'tmp', 'bench', 'profile');
fs.rmSync(dir, { recursive: true, force: true });
fs.mkdirSync(dir, { recursive: true });
const extra = Object.fromEntries((values.env as string[]).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
const env = { MC_SAMPLES: values.samples!, LOG_LEVEL: 'warn', ...extra };
const loadBefore = os.loadavg().map((x) => x.toFixed(2)).join(' ');
say(`profile: runtime with ${Object.entries(extra).map(([k, v]) => `${k}=${v} `).join('')}--cpu-prof; ${values.connections} connections, ${values.seconds} s; load average ${loadBefore}`);
const rp = await RuntimeProcess.start({ env, nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`] });
const images = await Promise.all(Array.from({ length: 200 }, (_, i) => encodeDigit(mnistDigit(i).pixels, { format: 'png' })));
const url = new URL(`${rp.baseUrl}/v1/models/mnist-cnn:predict`);
await closedLoop(url, images, 4, 3); // warm-up, in the profile too: start-up is a small share
const loop = await closedLoop(url, images, Number(values.connections), Number(values.seconds));
await rp.stop();
say(`load: ${loop.reqPerSec.toFixed(1)} req/s, p50 ${loop.p50Ms.toFixed(1)} ms, p99 ${loop.p99Ms.toFixed(1)} ms, ${loop.errors} errors`);

const files = fs.readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
if (files.length === 0) throw new Error(`no .cpuprofile under ${dir}: did the runtime exit cleanly?`);
const L: string[] = [
  `Profile of the runtime (${Object.entries(extra).map(([k, v]) => `${k}=${v}`).join(' ') || 'settings default'}, T = ${values.samples}), single-image PNG \`:predict\`, closed loop at ${values.connections} connections for ${values.seconds} s after a 3 s warm-up: ${loop.reqPerSec.toFixed(1)} req/s, p50 ${loop.p50Ms.toFixed(1)} ms, p99 ${loop.p99Ms.toFixed(1)} ms. ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, load average ${loadBefore} before, ${os.loadavg().map((x) => x.toFixed(2)).join(' ')} after. Sampled time per thread over the whole process life (start-up included); "busy" excludes idle.`,
  '',
];
for (const f of files.sort()) {
  const p = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as CpuProfile;
  const tid = Number(/\.(\d+)\.\d+\.cpuprofile$/.exec(f)?.[1] ?? -1);
  const { total, byStage, byFunction, loader } = summariseProfile(p);
  const busy = total - (byStage.get('idle') ?? 0);
  L.push(`**${threadName(byStage, tid, loader)}**: ${(busy / 1000).toFixed(1)} s busy of ${(total / 1000).toFixed(1)} s`, '', '| stage | ms | share of busy |', '| --- | --- | --- |');
  for (const [stage, ms] of [...byStage].filter(([s]) => s !== 'idle').sort((a, b) => b[1] - a[1])) {
    if (ms / busy < 0.005) continue;
    L.push(`| ${stage} | ${ms.toFixed(0)} | ${((100 * ms) / busy).toFixed(1)}% |`);
  }
  const top = [...byFunction].filter(([f]) => !f.startsWith('(idle)')).sort((a, b) => b[1] - a[1]).slice(0, 6);
  L.push('', `Top self time: ${top.map(([f, ms]) => `${f.replace(/\|/g, '/')} ${ms.toFixed(0)} ms`).join('; ')}.`, '');
}
const md = L.join('\n');
fs.writeFileSync(path.join(dir, 'summary.md'), md);
if (!values.keep) for (const f of files) fs.rmSync(path.join(dir, f));
say('\n' + md + `\n(${values.keep ? `profiles and ` : ''}summary under ${path.relative(repoRoot, dir)})`);
