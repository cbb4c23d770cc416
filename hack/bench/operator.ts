import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { load } from 'js-yaml';
import { pino } from 'pino';
import type { DigitModel, KubeObject } from '../../operator/api/types.js';
import { parseConfig } from '../../operator/config.js';
import { KubeClient } from '../../operator/kube/client.js';
import { startManager } from '../../operator/manager.js';

/**
 * Operator benchmark (SPEC §6): how long N DigitModels take to reach Ready against the local
 * control plane (`npm run cluster:up`), and how many API writes the operator makes per minute in
 * steady state. Prints figures; asserts nothing about speed.
 */

export interface OperatorBenchOptions {
  /** DigitModels to create (default 200). */
  count?: number;
  /** Steady-state observation window (default 60 s). */
  steadyWindowMs?: number;
  /** Reconcile workers (default 4, the operator's default). */
  concurrency?: number;
  kubeconfig?: string;
  log?: (line: string) => void;
}

export interface OperatorBenchResult {
  count: number;
  concurrency: number;
  /** From the first create to the last DigitModel reporting Ready=True. */
  convergenceSeconds: number;
  readySecondsP50: number;
  readySecondsP95: number;
  /** Operator API writes (POST/PUT/PATCH/DELETE) until convergence. */
  writesToConverge: number;
  reconciles: number;
  steadyWindowSeconds: number;
  steadyStateWritesPerMinute: number;
  /** DigitModels whose resourceVersion changed during the steady window. */
  steadyStateChangedDigitModels: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** Converged: Ready, rollout complete and not Degraded, for the current generation. */
function isReady(dm: DigitModel): boolean {
  const has = (type: string, status: string, reason?: string) =>
    !!dm.status?.conditions?.some((c) => c.type === type && c.status === status && (reason === undefined || c.reason === reason));
  return dm.status?.observedGeneration === dm.metadata.generation && has('Ready', 'True') && has('Progressing', 'False', 'RolloutComplete') && has('Degraded', 'False');
}

export async function runOperatorBench(opts: OperatorBenchOptions = {}): Promise<OperatorBenchResult> {
  const count = opts.count ?? 200;
  const windowMs = opts.steadyWindowMs ?? 60_000;
  const concurrency = opts.concurrency ?? 4;
  const say = opts.log ?? ((line: string) => console.error(line));
  const kc = new KubeConfig();
  if (opts.kubeconfig) kc.loadFromFile(opts.kubeconfig);
  else kc.loadFromDefault();
  const client = new KubeClient(kc);
  const ns = `dm-bench-${randomBytes(3).toString('hex')}`;

  const crd = load(fs.readFileSync(new URL('../../crds/digitmodels.digitserve.dev.yaml', import.meta.url), 'utf8')) as KubeObject;
  await client.apply(crd);
  for (let i = 0; i < 100; i++) {
    if (await client.request('GET', '/apis/digitserve.dev/v1alpha1/digitmodels?limit=1').then(() => true, () => false)) break;
    await sleep(200);
  }
  await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  const config = { ...parseConfig([], {}), watchNamespaces: [ns], leaderElection: false, concurrency };
  const operator = await startManager({ config, kc, log: pino({ level: 'error' }), serveProbes: false });
  try {
    say(`creating ${count} DigitModels in ${ns}`);
    const t0 = Date.now();
    const names = Array.from({ length: count }, (_, i) => `bench-${i}`);
    const readyAt = new Map<string, number>();
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < names.length) {
          const name = names[next++];
          await client.create({
            apiVersion: 'digitserve.dev/v1alpha1',
            kind: 'DigitModel',
            metadata: { name, namespace: ns },
            spec: { replicas: 1, model: { name: 'mnist-cnn', version: '1', uri: 'https://models.example/mnist-cnn/1/model.json' }, pod: { tolerations: [{ operator: 'Exists' }] } },
          } as unknown as KubeObject);
        }
      }),
    );
    say(`created in ${((Date.now() - t0) / 1000).toFixed(1)} s; waiting for Ready`);
    let lastReport = Date.now();
    while (readyAt.size < count) {
      const list = await client.list<DigitModel>('DigitModel', ns);
      const now = Date.now();
      if (now - lastReport > 10_000) {
        say(`${readyAt.size} of ${count} Ready after ${((now - t0) / 1000).toFixed(0)} s (${list.items.length} listed)`);
        lastReport = now;
      }
      for (const dm of list.items) if (isReady(dm) && !readyAt.has(dm.metadata.name)) readyAt.set(dm.metadata.name, now - t0);
      if (readyAt.size < count) await sleep(1000);
      if (now - t0 > 30 * 60_000) throw new Error(`only ${readyAt.size} of ${count} DigitModels Ready after 30 min`);
    }
    const convergenceMs = Math.max(...readyAt.values());
    const writesToConverge = await operator.metrics.apiWrites();
    const reconcileMetric = await operator.metrics.reconcileTotal.get();
    const reconciles = reconcileMetric.values.reduce((n, v) => n + v.value, 0);
    const times = [...readyAt.values()].sort((a, b) => a - b);
    say(`all ${count} Ready after ${(convergenceMs / 1000).toFixed(1)} s; observing steady state for ${windowMs / 1000} s`);

    await sleep(5000); // let the last status writes land
    const rvBefore = new Map((await client.list<DigitModel>('DigitModel', ns)).items.map((d) => [d.metadata.name, d.metadata.resourceVersion]));
    const writesBefore = await operator.metrics.apiWrites();
    await sleep(windowMs);
    const writesAfter = await operator.metrics.apiWrites();
    const rvAfter = (await client.list<DigitModel>('DigitModel', ns)).items;
    return {
      count,
      concurrency,
      convergenceSeconds: Number((convergenceMs / 1000).toFixed(1)),
      readySecondsP50: Number((percentile(times, 50) / 1000).toFixed(1)),
      readySecondsP95: Number((percentile(times, 95) / 1000).toFixed(1)),
      writesToConverge,
      reconciles,
      steadyWindowSeconds: windowMs / 1000,
      steadyStateWritesPerMinute: Number((((writesAfter - writesBefore) * 60_000) / windowMs).toFixed(2)),
      steadyStateChangedDigitModels: rvAfter.filter((d) => rvBefore.get(d.metadata.name) !== d.metadata.resourceVersion).length,
    };
  } finally {
    await operator.stop();
    await client.delete('Namespace', undefined, ns).catch(() => {});
    client.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({ options: { count: { type: 'string' }, 'window-seconds': { type: 'string' }, concurrency: { type: 'string' } } });
  const result = await runOperatorBench({
    count: values.count ? Number(values.count) : undefined,
    steadyWindowMs: values['window-seconds'] ? Number(values['window-seconds']) * 1000 : undefined,
    concurrency: values.concurrency ? Number(values.concurrency) : undefined,
  });
  console.log(JSON.stringify(result, null, 2));
}
