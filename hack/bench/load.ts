// `npm run bench:load`: the runtime under load on this machine, loopback only, bounded in count and
// time. Starts `runtime/main.ts` as a child on free ports (default model, T = 30) and runs an
// open-loop steady soak (100 req/s, 3 min; --short 20 s), a 10× burst, recovery at the steady rate,
// and a ramp to saturation, with single-image PNGs of real held-out MNIST digits. Prints figures
// and asserts nothing; --write-doc puts them into docs/RELIABILITY.md.
// --compare python,naive instead runs one closed-loop load against the runtime and each named peer
// in the same run and prints a table of ratios (hack/bench/load/compare.ts).
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { encodeDigit, mnistDigit } from '../../test/support/images.js';
import { getText, repoRoot, RuntimeProcess } from '../../test/support/runtime-process.js';
import { runPhases, type Phase, type Sample, type Target } from './load/open-loop.js';
import { compareMarkdown, parseVariants, PEERS, runCompare, type PeerName } from './load/compare.js';
import { measureTargets, targetsMarkdown } from './load/targets.js';
import { markdown, type LoadResult } from './load/report.js';
import { RssSampler } from './load/rss.js';
import { summarise, windows } from './load/stats.js';

const { values } = parseArgs({
  options: {
    short: { type: 'boolean', default: false },
    rate: { type: 'string', default: '100' },
    'soak-seconds': { type: 'string' },
    'burst-factor': { type: 'string', default: '10' },
    'burst-seconds': { type: 'string' },
    'ramp-max': { type: 'string', default: '600' },
    samples: { type: 'string', default: '30' },
    'write-doc': { type: 'boolean', default: false },
    // many clients, as in a real burst: a cap at or below MAX_QUEUE would queue the burst in this
    // client instead of offering it to the server (which then never sees enough to shed)
    'max-sockets': { type: 'string', default: '4096' },
    // --compare python,naive: closed loop at --connections for --compare-seconds against each server
    compare: { type: 'string' },
    connections: { type: 'string', default: '16' },
    'compare-seconds': { type: 'string' },
    'single-requests': { type: 'string', default: '50' },
    // more runtime rows in the same compare run, each with its own settings: "ENGINE_WORKERS=1;TFJS_BACKEND=wasm"
    // (rows separated by ';', settings within a row by ','), to measure a change against its baseline
    variants: { type: 'string' },
    // the issue's targets (open-loop p99 median of 3, 64-image multipart, 12 MP JPEG, memory) after the compare
    targets: { type: 'boolean', default: true },
    'targets-seconds': { type: 'string' },
  },
  allowNegative: true,
});
const short = values.short;
const rate = Number(values.rate);
const soakSeconds = Number(values['soak-seconds'] ?? (short ? 20 : 180));
const burstRate = rate * Number(values['burst-factor']);
const burstSeconds = Number(values['burst-seconds'] ?? (short ? 3 : 5));
const recoverySeconds = short ? 15 : 30;
const rampStep = short ? 4 : 6;
const rampMax = Number(values['ramp-max']);
const say = (line: string) => process.stdout.write(line + '\n');

const machine = `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, load generator on the same machine`;
if (values.compare !== undefined) {
  const peers = values.compare.split(',').filter(Boolean);
  const unknown = peers.filter((p) => !(PEERS as readonly string[]).includes(p));
  if (unknown.length) throw new Error(`--compare: unknown peer ${unknown.join(', ')} (known: ${PEERS.join(', ')})`);
  const opts = {
    peers: peers as PeerName[],
    samples: Number(values.samples),
    connections: Number(values.connections),
    seconds: Number(values['compare-seconds'] ?? (short ? 10 : 30)),
    singleRequests: Number(values['single-requests']),
    variants: parseVariants(values.variants),
  };
  const loadAvg = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');
  const loadBefore = loadAvg();
  say(`compare: runtime${peers.map((p) => ', ' + p).join('')}; T = ${opts.samples}, ${opts.connections} connections, ${opts.seconds} s each; load average ${loadBefore}`);
  const images = await Promise.all(Array.from({ length: 200 }, (_, i) => encodeDigit(mnistDigit(i).pixels, { format: 'png' })));
  const rows = await runCompare({ ...opts, images, say });
  const targets = values.targets ? await measureTargets({ samples: opts.samples, images, rate, seconds: Number(values['targets-seconds'] ?? (short ? 10 : 20)), say }) : undefined;
  const md = compareMarkdown(rows, { ...opts, machine, load: `${loadBefore} before, ${loadAvg()} after (1/5/15 min)` }) + (targets ? '\n\n' + targetsMarkdown(rows, targets) : '');
  const outDir = path.join(repoRoot, 'tmp', 'bench');
  fs.mkdirSync(outDir, { recursive: true });
  const json = path.join(outDir, 'load-compare.json');
  fs.writeFileSync(json, JSON.stringify({ when: new Date().toISOString(), machine, ...opts, rows, targets }, null, 2));
  say('\n' + md + `\n\n(raw figures: ${path.relative(repoRoot, json)})`);
  process.exit(0);
}

const env = { MC_SAMPLES: values.samples!, LOG_LEVEL: 'warn' };
say(`starting the runtime (${Object.entries(env).map(([k, v]) => `${k}=${v}`).join(' ')}, other settings default)…`);
const rp = await RuntimeProcess.start({ env });
const limits = JSON.parse((await getText(`${rp.baseUrl}/v1/models/mnist-cnn`)).text) as { limits?: Record<string, number> };
say(`runtime pid ${rp.pid} on ${rp.baseUrl}; limits ${JSON.stringify(limits.limits ?? {})}`);

const images = await Promise.all(Array.from({ length: 200 }, (_, i) => encodeDigit(mnistDigit(i).pixels, { format: 'png' })));
const agent = new http.Agent({ keepAlive: true, maxSockets: Number(values['max-sockets']) });
const target: Target = { url: new URL(`${rp.baseUrl}/v1/models/mnist-cnn:predict`), body: (i) => images[i % images.length], contentType: 'image/png', agent, timeoutMs: 30_000 };
const origin = performance.now();
const rss = new RssSampler(rp.pid, origin);
rss.start();
const counter = { i: 0 };
const tick = (phase: string, t: number) => {
  rss.phase = phase;
  if (t % 10 === 0) say(`  ${phase} t=${t}s sent=${counter.i} rss=${Math.round((rp.rssBytes() ?? 0) / 2 ** 20)} MiB`);
};
const run = (phases: Phase[]) => runPhases(target, phases, origin, counter, tick);
const all: Sample[] = [];
try {
  say('warm-up: 5 s at 20 req/s');
  await run([{ name: 'warm-up', seconds: 5, rate: () => 20 }]);
  say(`soak: ${soakSeconds} s at ${rate} req/s`);
  all.push(...(await run([{ name: 'soak', seconds: soakSeconds, rate: () => rate }])));
  say(`burst: ${burstSeconds} s at ${burstRate} req/s, then ${recoverySeconds} s back at ${rate} req/s`);
  all.push(...(await run([{ name: 'burst', seconds: burstSeconds, rate: () => burstRate }, { name: 'recovery', seconds: recoverySeconds, rate: () => rate }])));
  const steps: Phase[] = [];
  for (let r = 50; r <= rampMax; r += 50) steps.push({ name: `ramp-${r}`, seconds: rampStep, rate: () => r });
  say(`ramp: ${steps.length} steps of ${rampStep} s from 50 to ${rampMax} req/s`);
  all.push(...(await run(steps)));
} finally {
  rss.stop();
}
const metrics = (await getText(`http://127.0.0.1:${rp.metricsPort}/metrics`)).text;
const serverCounts: Record<string, number> = {};
for (const m of metrics.matchAll(/^digitserve_requests_total\{[^}]*code="(\d+)"[^}]*\}\s+(\S+)/gm)) serverCounts[m[1]] = Number(m[2]);
agent.destroy();
await rp.stop();

const phase = (name: string) => all.filter((s) => s.phase === name);
const ramp = [];
let saturationRps: number | null = null;
let unbroken = true;
for (let r = 50; r <= rampMax; r += 50) {
  const summary = summarise(phase(`ramp-${r}`));
  ramp.push({ rps: r, summary });
  const okShare = (summary.byStatus['200'] ?? 0) / Math.max(1, summary.requests);
  // the highest step reached with every step up to it keeping up
  if (unbroken && okShare >= 0.99 && summary.ok.p99Ms < 2000) saturationRps = r;
  else unbroken = false;
}
const recoveryWindow = 5;
const result: LoadResult = {
  when: new Date().toISOString(),
  machine,
  config: { MC_SAMPLES: values.samples!, ...(limits.limits ?? {}), soakSeconds, rate, burstRate, burstSeconds },
  soak: summarise(phase('soak')),
  burst: summarise(phase('burst')),
  recovery: windows(all, 'recovery', recoveryWindow).map((w, k) => ({ window: `${k * recoveryWindow}–${(k + 1) * recoveryWindow} s`, summary: summarise(w) })),
  ramp,
  saturationRps,
  rss: rss.byPhase(),
  serverCounts,
};
const outDir = path.join(repoRoot, 'tmp', 'bench');
fs.mkdirSync(outDir, { recursive: true });
const json = path.join(outDir, `load-${short ? 'short' : 'full'}.json`);
fs.writeFileSync(json, JSON.stringify({ ...result, rssPoints: rss.points }, null, 2));
const md = markdown(result);
say('\n' + md + `\n\n(raw figures: ${path.relative(repoRoot, json)})`);
if (values['write-doc']) {
  const doc = path.join(repoRoot, 'docs', 'RELIABILITY.md');
  const begin = `<!-- bench:load:${short ? 'short' : 'full'}:begin -->`;
  const end = `<!-- bench:load:${short ? 'short' : 'full'}:end -->`;
  const text = fs.readFileSync(doc, 'utf8');
  const a = text.indexOf(begin);
  const b = text.indexOf(end);
  if (a < 0 || b < a) throw new Error(`docs/RELIABILITY.md has no ${begin} … ${end} block`);
  fs.writeFileSync(doc, text.slice(0, a + begin.length) + '\n' + md + '\n' + text.slice(b));
  say(`wrote the figures into ${path.relative(repoRoot, doc)}`);
}
