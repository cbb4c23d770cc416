// `npx tsx hack/bench/memory.ts`: where the runtime's memory goes under load, and what each
// memory setting ("arm") changes, measured in one run on this machine. Each arm starts
// runtime/main.ts with its own environment (default model, T = 30) and runs:
//   1. a closed loop of one-PNG :predict requests at --connections for --seconds (req/s, peak RSS);
//   2. the rest of issue #19's load: 64-image multipart requests and 12-megapixel JPEG photos
//      (peak RSS, as bench:load's targets measure it);
//   3. --settle seconds idle, then the steady state: RSS from /proc/<pid>/smaps split into
//      file-backed pages (libraries' text: clean, reclaimable, shared with any other process
//      mapping them) and anonymous ones (heaps), by owner; glibc malloc arenas; threads by name;
//      the engine worker's own memory and the main thread's V8 heap from /metrics.
// Arms run in rounds (A B C A B C ...) so that a change in the machine's load hits all of them;
// per arm the median over rounds is printed.
//   --arms "default:;arena2:MALLOC_ARENA_MAX=2;arena2+semi:MALLOC_ARENA_MAX=2,NODE_OPTIONS=--max-semi-space-size=4"
//          (arms separated by ';', "label:" then settings separated by ',')
//   --rounds 2 --seconds 20 --connections 16 --settle 10 --photos 5 --multipart 10
//   --image REF  run each arm as a container of image REF instead (`npm run images [-- --native]`
//          first; hack/images' private engine, started if needed), as the pod template runs it
//          (read-only root, /tmp a tmpfs, user 65532), the arm's settings as `-e` (so an arm can
//          put back what the image's ENV sets: MALLOC_ARENA_MAX=64 or NODE_OPTIONS= ); the steady
//          state then also has the container's memory cgroup: what a pod's limit and the kubelet
//          count (usage, of it page cache, and the working set = usage − inactive file pages)
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { encodeDigit, mnistDigit } from '../../test/support/images.js';
import { getText, metricValue, rssOf, RuntimeProcess, sleep } from '../../test/support/runtime-process.js';
import { closedLoop } from './load/compare.js';
import { processBreakdown, threadsByName, type Breakdown } from './load/smaps.js';
import { docker, inspect } from '../../test/images/support/docker.js';
import { freePort } from '../../test/support/runtime-process.js';
import { multipartBody, phonePhoto } from './load/targets.js';

const { values } = parseArgs({
  options: {
    arms: { type: 'string', default: 'default:' },
    rounds: { type: 'string', default: '2' },
    seconds: { type: 'string', default: '20' },
    connections: { type: 'string', default: '16' },
    settle: { type: 'string', default: '10' },
    photos: { type: 'string', default: '5' },
    multipart: { type: 'string', default: '10' },
    samples: { type: 'string', default: '30' },
    json: { type: 'boolean', default: false },
    image: { type: 'string' },
  },
});
const say = (line: string) => process.stdout.write(line + '\n');

interface Arm {
  label: string;
  env: Record<string, string>;
}
const arms: Arm[] = values.arms
  .split(';')
  .filter((a) => a.trim())
  .map((a) => {
    const [label, settings = ''] = a.split(/:(.*)/s);
    const env = Object.fromEntries(
      settings
        .split(',')
        .filter((kv) => kv.trim())
        .map((kv) => {
          const i = kv.indexOf('=');
          if (i < 0) throw new Error(`--arms: "${kv}" is not NAME=value`);
          return [kv.slice(0, i).trim(), kv.slice(i + 1)];
        }),
    );
    return { label: label.trim(), env };
  });

interface ArmRun {
  reqPerSec: number;
  /** The runtime's CPU time (user + system, all threads) per request of the closed loop: steadier than req/s on a shared machine. */
  cpuMsPerRequest: number;
  errors: number;
  peakLoadMiB: number;
  peakAllMiB: number;
  steadyMiB: number;
  steady: Breakdown;
  threads: { name: string; count: number }[];
  engineWorkerMiB: number[];
  mainHeapMiB: number;
  backend: string;
  /** The container's memory cgroup in the steady state (--image only). */
  cgroup?: CgroupMemory;
}

interface CgroupMemory {
  usageMiB: number;
  /** Page cache charged to the cgroup (the libraries' file pages, once read). */
  fileMiB: number;
  inactiveFileMiB: number;
  /** usage − inactive file: what `kubectl top` and the kubelet's eviction look at (and `docker stats` shows). */
  workingSetMiB: number;
}

/** The memory cgroup of a process (v1 `memory` controller or v2), read where this process sees it. */
function cgroupMemory(pid: number): CgroupMemory | undefined {
  try {
    const lines = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n');
    const v1 = lines.map((l) => /^\d+:[^:]*\bmemory\b[^:]*:(.*)$/.exec(l)?.[1]).find((x) => x !== undefined);
    const v2 = lines.map((l) => /^0::(.*)$/.exec(l)?.[1]).find((x) => x !== undefined);
    const dir = v1 !== undefined ? `/sys/fs/cgroup/memory${v1}` : `/sys/fs/cgroup${v2}`;
    const stat = Object.fromEntries(
      fs
        .readFileSync(`${dir}/memory.stat`, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split(' ') as [string, string]),
    );
    const usage = Number(fs.readFileSync(v1 !== undefined ? `${dir}/memory.usage_in_bytes` : `${dir}/memory.current`, 'utf8'));
    const file = Number(stat.total_cache ?? stat.file ?? 0);
    const inactive = Number(stat.total_inactive_file ?? stat.inactive_file ?? 0);
    const mib = (b: number) => Math.round(b / 2 ** 20);
    return { usageMiB: mib(usage), fileMiB: mib(file), inactiveFileMiB: mib(inactive), workingSetMiB: mib(usage - inactive) };
  } catch {
    return undefined;
  }
}

interface Started {
  pid: number;
  baseUrl: string;
  metricsBase: string;
  stop: () => Promise<void>;
}

async function startProcess(env: Record<string, string>): Promise<Started> {
  const rp = await RuntimeProcess.start({ env });
  return { pid: rp.pid, baseUrl: rp.baseUrl, metricsBase: `http://127.0.0.1:${rp.metricsPort}`, stop: async () => void (await rp.stop()) };
}

async function startContainer(ref: string, env: Record<string, string>): Promise<Started> {
  const [port, metricsPort, grpcPort] = [await freePort(), await freePort(), await freePort()];
  const all = { ...env, PORT: String(port), METRICS_PORT: String(metricsPort), GRPC_PORT: String(grpcPort) };
  const id = (
    await docker(['run', '-d', '--read-only', '--tmpfs', '/tmp:rw,size=64m', '--user', '65532:65532', '--cap-drop', 'ALL', '--network', 'host', ...Object.entries(all).flatMap(([k, v]) => ['-e', `${k}=${v}`]), ref])
  ).stdout.trim();
  const stop = async () => void (await docker(['rm', '-f', id]).catch(() => undefined));
  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 300_000;
  for (;;) {
    if ((await getText(`${baseUrl}/readyz`, 2_000).catch(() => ({ status: 0 }))).status === 200) break;
    if (Date.now() > deadline || !(await inspect<boolean>(id, '.State.Running'))) {
      const logs = await docker(['logs', id]).catch(() => ({ stdout: '', stderr: '' }));
      await stop();
      throw new Error(`${ref} never got ready:\n${logs.stdout}${logs.stderr}`);
    }
    await sleep(500);
  }
  return { pid: await inspect<number>(id, '.State.Pid'), baseUrl, metricsBase: `http://127.0.0.1:${metricsPort}`, stop };
}

function post(agent: http.Agent, url: URL, body: Buffer, contentType: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': contentType, 'content-length': body.length } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', () => resolve(0));
    });
    req.setTimeout(120_000, () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(0));
    req.end(body);
  });
}

/** utime + stime of a process (all its threads), ms, from /proc/<pid>/stat. */
function cpuMs(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS) * 1000;
}
const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

const images = await Promise.all(Array.from({ length: 200 }, (_, i) => encodeDigit(mnistDigit(i).pixels, { format: 'png' })));
const photo = await phonePhoto();
const boundary = 'digitserve-memory-bench';
const multipart = multipartBody(images.slice(0, 64), boundary);

if (values.image) {
  const [how, host] = execFileSync('bash', ['hack/images/engine-ctl.sh', 'start'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split(' ');
  process.env.DOCKER_HOST = host;
  say(`image ${values.image} on the engine at ${host} (${how})`);
}

async function runArm(arm: Arm): Promise<ArmRun> {
  const env = { MC_SAMPLES: values.samples, LOG_LEVEL: 'warn', ...arm.env };
  const rp = values.image ? await startContainer(values.image, env) : await startProcess(env);
  try {
    const url = new URL('/v1/models/mnist-cnn:predict', rp.baseUrl);
    const peak = { mib: 0 };
    const sample = () => (peak.mib = Math.max(peak.mib, (rssOf(rp.pid) ?? 0) / 2 ** 20));
    await closedLoop(url, images, 4, 3); // warm-up
    const timer = setInterval(sample, 250);
    const cpu0 = cpuMs(rp.pid);
    const loop = await closedLoop(url, images, Number(values.connections), Number(values.seconds));
    const cpuMsPerRequest = (cpuMs(rp.pid) - cpu0) / Math.max(1, loop.requests);
    sample();
    const peakLoadMiB = peak.mib;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
    await Promise.all(Array.from({ length: Number(values.multipart) }, () => post(agent, url, multipart, `multipart/form-data; boundary=${boundary}`)));
    for (let i = 0; i < Number(values.photos); i++) await post(agent, url, photo, 'image/jpeg');
    agent.destroy();
    sample();
    clearInterval(timer);
    await sleep(Number(values.settle) * 1000);
    const steady = processBreakdown(rp.pid)!;
    const metrics = (await getText(`${rp.metricsBase}/metrics`)).text;
    const engineWorkerMiB = [...metrics.matchAll(/^digitserve_engine_worker_memory_bytes\{[^}]*\}\s+(\S+)/gm)].map((m) => Number(m[1]) / 2 ** 20);
    const info = JSON.parse((await getText(`${rp.baseUrl}/v1/models/mnist-cnn`)).text) as { backend?: string; engine?: { backend?: string } };
    return {
      reqPerSec: loop.reqPerSec,
      cpuMsPerRequest,
      errors: loop.errors,
      peakLoadMiB,
      peakAllMiB: peak.mib,
      steadyMiB: (rssOf(rp.pid) ?? 0) / 2 ** 20,
      steady,
      threads: threadsByName(rp.pid),
      engineWorkerMiB,
      mainHeapMiB: (metricValue(metrics, 'nodejs_heap_size_total_bytes') ?? 0) / 2 ** 20,
      backend: info.backend ?? info.engine?.backend ?? '?',
      cgroup: values.image ? cgroupMemory(rp.pid) : undefined,
    };
  } finally {
    await rp.stop();
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const load = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');
say(`memory bench: ${arms.map((a) => a.label).join(', ')}; ${values.rounds} round(s); ${values.connections} connections × ${values.seconds} s, then ${values.multipart} 64-image requests and ${values.photos} 12 MP photos; load average ${load()}`);
const runs = new Map<string, ArmRun[]>(arms.map((a) => [a.label, []]));
for (let r = 0; r < Number(values.rounds); r++) {
  for (const arm of arms) {
    const run = await runArm(arm);
    runs.get(arm.label)!.push(run);
    say(
      `  round ${r + 1} ${arm.label} (${run.backend}): ${run.reqPerSec.toFixed(1)} req/s (${run.errors} errors), ${run.cpuMsPerRequest.toFixed(2)} CPU ms/request; peak RSS ${run.peakLoadMiB.toFixed(0)} MiB PNG loop, ${run.peakAllMiB.toFixed(0)} MiB with photos/multipart; steady ${run.steadyMiB.toFixed(0)} MiB = anon ${run.steady.anonMiB} + file ${run.steady.fileMiB}; arenas ${run.steady.arenas.count} (${run.steady.arenas.mib} MiB); threads ${run.threads.reduce((s, t) => s + t.count, 0)}${run.cgroup ? `; cgroup usage ${run.cgroup.usageMiB} MiB (page cache ${run.cgroup.fileMiB}, inactive file ${run.cgroup.inactiveFileMiB}), working set ${run.cgroup.workingSetMiB} MiB` : ''}`,
    );
  }
}
say(`load average after: ${load()}`);
say('');
say('| arm | settings | req/s | CPU ms per request | peak RSS, PNG loop (MiB) | peak RSS, with 64-image requests and photos (MiB) | steady RSS (MiB) | of it anonymous | of it file-backed | malloc arenas (resident MiB) | threads | container cgroup: usage / working set (MiB) |');
say('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const arm of arms) {
  const rs = runs.get(arm.label)!;
  const m = (f: (r: ArmRun) => number, digits = 0) => median(rs.map(f)).toFixed(digits);
  const settings = Object.entries(arm.env).map(([k, v]) => `${k}=${v}`).join(' ') || '(defaults)';
  say(
    `| ${arm.label} | ${settings} | ${m((r) => r.reqPerSec, 1)} | ${m((r) => r.cpuMsPerRequest, 2)} | ${m((r) => r.peakLoadMiB)} | ${m((r) => r.peakAllMiB)} | ${m((r) => r.steadyMiB)} | ${m((r) => r.steady.anonMiB)} | ${m((r) => r.steady.fileMiB)} | ${m((r) => r.steady.arenas.count)} (${m((r) => r.steady.arenas.mib)}) | ${m((r) => r.threads.reduce((s, t) => s + t.count, 0))} | ${rs[0].cgroup ? `${m((r) => r.cgroup?.usageMiB ?? 0)} / ${m((r) => r.cgroup?.workingSetMiB ?? 0)}` : '—'} |`,
  );
}
say('');
for (const arm of arms) {
  const last = runs.get(arm.label)!.at(-1)!;
  say(`${arm.label}, steady state of the last round, by owner (MiB): ${last.steady.groups.map((g) => `${g.group} [${g.kind}] ${g.mib}`).join('; ')}`);
  say(`  threads: ${last.threads.map((t) => `${t.name} ×${t.count}`).join(', ')}`);
  say(`  engine workers' own memory (V8 heap + external): ${last.engineWorkerMiB.map((x) => x.toFixed(0)).join(' + ')} MiB; main thread's V8 heap ${last.mainHeapMiB.toFixed(0)} MiB`);
}
if (values.json) say(JSON.stringify(Object.fromEntries(runs)));
