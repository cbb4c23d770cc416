import { jest } from '@jest/globals';
import { randomBytes, randomInt } from 'node:crypto';
import http from 'node:http';
import type { DigitModel, DigitModelSpec, KubeObject } from '../../../operator/api/types.js';
import type { KubeClient } from '../../../operator/kube/client.js';
import type { Manager } from '../../../operator/manager.js';
import { encodeDigit, mnistDigit } from '../../support/images.js';
import { modelCalibratedAt } from '../../support/model-fixture.js';
import { RuntimeProcess } from '../../support/runtime-process.js';
import { addLocalRoute, createLoopbackNode, deleteLocalRoute, deleteNode, Forwarders, loopbackCidr, modelWithSwappedClasses, tableRows } from './support/analysis.js';
import {
  condition,
  createDm,
  createNamespace,
  deleteNamespace,
  dmSpec,
  findChild,
  getDm,
  installCrd,
  mergePatch,
  startTestOperator,
  testClient,
  testConfig,
  TOLERATE_ALL,
  waitFor,
} from './support/harness.js';

/**
 * Automated canary analysis (#17, SPEC §7) end to end: the operator against the real control
 * plane, fed by real runtime processes at the (kwok) pods' IPs (support/analysis.ts), real HTTP
 * traffic with real PNGs. The test plays the users and the Gateway: it sends each request to the
 * canary pod with the probability the operator's HTTPRoute gives the canary backend, to the
 * stable pod otherwise. Three canaries: one as good as stable (walks its steps and is promoted),
 * one that swaps two digits (aborted by disagreement at its first step), one slow (aborted by its
 * p95 latency at its first step). Outcomes are asserted, never timings; the time to abort and the
 * share of user requests the bad canaries got are printed.
 */

jest.setTimeout(1_200_000);

const PATH = '/v1/models/mnist-cnn:predict';
const SAMPLES = 4;
const INTERVAL = '8s';
const START_WEIGHT = 20;
const STEP = 15;
const MAX_WEIGHT = 50;

let client: KubeClient;
let ns: string;
/** Two replicas electing a leader: the good canary's analysis moves from one to the other mid-way. */
let operators: Manager[] = [];
const nodeName = `kwok-analysis-${randomBytes(3).toString('hex')}`;
const octet = randomInt(1, 255);
const nodeSelector = { 'digitserve.dev/analysis-test-node': nodeName };
let candidates: { label: number; png: Buffer }[] = [];

beforeAll(async () => {
  client = testClient();
  await installCrd(client);
  ns = await createNamespace(client, 'dm-analysis');
  addLocalRoute(loopbackCidr(octet));
  await createLoopbackNode(client, nodeName, octet, nodeSelector);
  await waitFor(`node ${nodeName} to be Ready`, async () => {
    const n = await client.request<{ status?: { conditions?: { type: string; status: string }[] } }>('GET', `/api/v1/nodes/${nodeName}`);
    return n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
  }, 120_000);
  const election = { leaderElection: true, leaseName: 'digitserve-analysis-test', leaseNamespace: ns, leaseDurationSeconds: 4, renewDeadlineSeconds: 3, retryPeriodSeconds: 1 };
  operators = [
    await startTestOperator(testConfig([ns], { ...election, identity: 'analysis-a' })),
    await startTestOperator(testConfig([ns], { ...election, identity: 'analysis-b' })),
  ];
  await waitFor('a leader', () => operators.some((o) => o.isLeader()));
  candidates = await Promise.all(Array.from({ length: 60 }, async (_, i) => {
    const d = mnistDigit(i);
    return { label: d.label, png: await encodeDigit(d.pixels) };
  }));
});

afterAll(async () => {
  await Promise.all(operators.map((o) => o.stop()));
  await deleteNamespace(client, ns);
  await deleteNode(client, nodeName);
  deleteLocalRoute(loopbackCidr(octet));
  client?.close();
});

interface Answer {
  status: number;
  digit?: number;
  reliable?: boolean;
}

function predict(ip: string, png: Buffer): Promise<Answer> {
  return new Promise((resolve) => {
    const req = http.request(`http://${ip}:8080${PATH}`, { method: 'POST', agent: false, headers: { 'content-type': 'image/png', 'content-length': png.length } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c)).on('end', () => {
        if (res.statusCode !== 200) return resolve({ status: res.statusCode ?? 0 });
        const p = (JSON.parse(Buffer.concat(chunks).toString()) as { predictions: { digit: number; reliable: boolean }[] }).predictions[0];
        resolve({ status: 200, digit: p.digit, reliable: p.reliable });
      });
    });
    req.on('error', () => resolve({ status: 0 }));
    req.end(png);
  });
}

type Pod = KubeObject & { status?: { podIP?: string; phase?: string }; metadata: KubeObject['metadata'] & { labels?: Record<string, string> } };
type Route = { spec?: { rules?: { backendRefs?: { name: string; weight?: number }[] }[] } };

/**
 * The users and the Gateway: requests arrive at a steady rate whatever the answers take (users do
 * not wait for each other), at most `maxInFlight` at once, spread over the tracks by the
 * HTTPRoute's weights.
 */
class Users {
  canaryWeight = 0;
  readonly sent: { at: number; track: 'stable' | 'canary'; status: number }[] = [];
  private running = true;
  private inFlight = 0;
  private readonly pending = new Set<Promise<void>>();
  private readonly timer: NodeJS.Timeout;
  private readonly poller: Promise<void>;

  constructor(
    private readonly ips: { stable: string; canary: string },
    private readonly images: Buffer[],
    route: () => Promise<Route | undefined>,
    name: string,
    perSecond: number,
    maxInFlight = 64,
  ) {
    this.poller = (async () => {
      while (this.running) {
        const r = await route().catch(() => undefined);
        const ref = r?.spec?.rules?.[0]?.backendRefs?.find((b) => b.name === `${name}-canary`);
        this.canaryWeight = ref?.weight ?? 0;
        await new Promise((res) => setTimeout(res, 200));
      }
    })();
    let i = 0;
    this.timer = setInterval(() => {
      if (this.inFlight >= maxInFlight) return;
      const track = Math.random() * 100 < this.canaryWeight ? 'canary' : 'stable';
      const at = Date.now();
      this.inFlight++;
      const p = predict(this.ips[track], this.images[i++ % this.images.length]).then((a) => {
        this.inFlight--;
        this.sent.push({ at, track, status: a.status });
        this.pending.delete(p);
      });
      this.pending.add(p);
    }, 1000 / perSecond);
  }

  async stop(): Promise<void> {
    this.running = false;
    clearInterval(this.timer);
    await this.poller;
    await Promise.all(this.pending);
  }
}

interface Scenario {
  name: string;
  canaryModel: string;
  canaryEnv?: Record<string, string>;
  /** A slow path to the canary pod: each request's body reaches it this long after its head. */
  canaryBodyDelayMs?: number;
  checks: Record<string, number>;
  /** User requests per second. */
  rate: number;
  /** Called once per new weight in force while Progressing. */
  onWeight?: (weight: number) => Promise<void>;
}

interface Outcome {
  dm: DigitModel;
  /** `kubectl get dm -w` as the apiserver prints it, one line per change. */
  watch: string[];
  /** Distinct analysis weights seen while Progressing, in order. */
  weights: number[];
  events: { reason: string; type: string; note: string }[];
  /** When both tracks' runtimes became reachable at their pods' IPs: the first step (weight 20) in force. */
  servingFrom: number;
  /** When the users started (the canary then serves its first step's weight). */
  usersFrom: number;
  firstCanaryRequestAt?: number;
  endAt: number;
  toCanary: number;
  total: number;
  stableEnv: Record<string, string>;
  route?: Route;
  canaryDeployment?: KubeObject;
}

async function podsOf(name: string): Promise<Pod[]> {
  return (await client.list<Pod>('Pod', ns, `app.kubernetes.io/instance=${name}`)).items.filter((p) => !p.metadata.deletionTimestamp);
}

async function run(s: Scenario): Promise<Outcome> {
  const spec: DigitModelSpec = dmSpec({
    replicas: 2,
    model: { name: 'mnist-cnn', version: '1', uri: 'https://models.example/mnist-cnn/1/model.json' },
    canary: {
      version: '2',
      uri: 'https://models.example/mnist-cnn/2/model.json',
      weight: START_WEIGHT,
      analysis: { interval: INTERVAL, stepWeight: STEP, maxWeight: MAX_WEIGHT, minPredictions: 20, mirrorPercent: 50, failureLimit: 1, promotion: 'Auto', checks: s.checks },
    },
    pod: { ...TOLERATE_ALL, nodeSelector },
    traffic: { parentRefs: [{ name: 'gateway' }] },
  } as Partial<DigitModelSpec>);
  await createDm(client, ns, s.name, spec);
  // `kubectl get dm -w`: a line per change of the object, as kubectl prints one per watch event
  const watch: string[] = [];
  let watching = true;
  const watcher = (async () => {
    let seen = '';
    for (;;) {
      // one more look after the end, so the last change is in
      const last = !watching;
      const got = await getDm(client, ns, s.name).catch(() => undefined);
      if (got && got.metadata.resourceVersion !== seen) {
        seen = got.metadata.resourceVersion ?? '';
        const t = await tableRows(client, ns, s.name).catch(() => undefined);
        if (t && watch.length === 0) watch.push(t.header.join('\t'));
        if (t) watch.push(t.row.join('\t'));
      }
      if (last) break;
      await new Promise((r) => setTimeout(r, 250));
    }
  })();

  // one pod per track (2 replicas, canary weight 1-99), on the loopback node
  const ips = await waitFor(`${s.name}: a running pod per track with an IP of ${loopbackCidr(octet)}`, async () => {
    const pods = (await podsOf(s.name)).filter((p) => p.status?.phase === 'Running' && p.status.podIP?.startsWith(`198.18.${octet}.`));
    const ip = (t: string) => pods.find((p) => p.metadata.labels?.['digitserve.dev/track'] === t)?.status?.podIP;
    return ip('stable') && ip('canary') ? { stable: ip('stable')!, canary: ip('canary')! } : undefined;
  }, 120_000);

  const stableDeployment = await findChild<{ spec: { template: { spec: { containers: { env: { name: string; value?: string }[] }[] } } } }>(client, 'Deployment', ns, `${s.name}-stable`);
  const stableEnv = Object.fromEntries((stableDeployment?.spec.template.spec.containers[0].env ?? []).map((e) => [e.name, e.value ?? '']));

  // the pods' runtimes: real processes behind the pods' IPs; stable mirrors to the canary pod (the
  // canary Service's cluster DNS name does not resolve outside a cluster)
  const base = { LOG_LEVEL: 'warn', PREPROCESS_WORKERS: '0' };
  const canary = await RuntimeProcess.start({ env: { ...base, MODEL_URI: s.canaryModel, MODEL_VERSION: '2', ...s.canaryEnv } });
  const stable = await RuntimeProcess.start({
    env: { ...base, MODEL_URI: modelCalibratedAt(SAMPLES, '1'), MODEL_VERSION: '1', MIRROR_URL: `http://${ips.canary}:8080`, MIRROR_PERCENT: stableEnv.MIRROR_PERCENT ?? '0' },
  });
  const fw = new Forwarders();
  let users: Users | undefined;
  try {
    await fw.forward(ips.stable, 8080, stable.port);
    await fw.forward(ips.stable, 9090, stable.metricsPort);
    await fw.forward(ips.canary, 8080, canary.port, { bodyDelayMs: s.canaryBodyDelayMs });
    await fw.forward(ips.canary, 9090, canary.metricsPort);
    const servingFrom = Date.now();

    // images stable answers right and reliably, so both tracks' unreliable shares stay near 0
    const images: Buffer[] = [];
    for (const c of candidates) {
      const a = await predict(ips.stable, c.png);
      if (a.status === 200 && a.digit === c.label && a.reliable) images.push(c.png);
    }
    expect(images.length).toBeGreaterThanOrEqual(20);

    const usersFrom = Date.now();
    users = new Users(ips, images, () => client.find<Route>('HTTPRoute', ns, s.name), s.name, s.rate);
    const weights: number[] = [];
    const dm = await waitFor(`${s.name}: the analysis to end (Promoted or Aborted)`, async () => {
      const got = await getDm(client, ns, s.name);
      const c = got.status?.canary;
      if (c?.phase === 'Progressing' && c.analysisWeight !== undefined && weights[weights.length - 1] !== c.analysisWeight) {
        weights.push(c.analysisWeight);
        await s.onWeight?.(c.analysisWeight);
      }
      return c?.phase === 'Promoted' || c?.phase === 'Aborted' ? got : undefined;
    }, 900_000, 300);
    const endAt = Date.now();
    // the route the operator now holds, once it has caught up with the final phase
    const route = await waitFor(`${s.name}: the HTTPRoute to follow the phase`, async () => {
      const r = await client.find<Route>('HTTPRoute', ns, s.name);
      const w = r?.spec?.rules?.[0]?.backendRefs?.find((b) => b.name === `${s.name}-canary`)?.weight;
      return w === (dm.status?.canary?.phase === 'Promoted' ? 100 : 0) ? r : undefined;
    });
    const sent = users.sent.filter((r) => r.at <= endAt);
    const firstCanaryRequestAt = sent.find((r) => r.track === 'canary')?.at;
    const fromFirst = sent.filter((r) => r.at >= usersFrom);
    type Ev = { reason: string; type: string; note: string; regarding: { name: string } };
    const events = await waitFor(`${s.name}: the analysis' Events`, async () => {
      const list = await client.request<{ items: Ev[] }>('GET', `/apis/events.k8s.io/v1/namespaces/${ns}/events`);
      const ours = list.items.filter((e) => e.regarding.name === s.name && e.reason.startsWith('Canary') && e.reason !== 'CanaryWeightChanged');
      return ours.some((e) => e.reason === 'CanaryPromoted' || e.reason === 'CanaryAborted') ? ours : undefined;
    });
    return {
      dm,
      watch,
      weights,
      events,
      servingFrom,
      usersFrom,
      firstCanaryRequestAt,
      endAt,
      toCanary: fromFirst.filter((r) => r.track === 'canary').length,
      total: fromFirst.length,
      stableEnv,
      route,
      canaryDeployment: await findChild(client, 'Deployment', ns, `${s.name}-canary`),
    };
  } finally {
    watching = false;
    await watcher;
    await users?.stop();
    await fw.close();
    await Promise.all([stable.kill(), canary.kill()]);
  }
}

function report(name: string, o: Outcome): void {
  const since = (t: number | undefined) => (t === undefined ? 'n/a' : ((o.endAt - t) / 1000).toFixed(1));
  process.stderr.write(
    `[canary-analysis] ${name}: ${o.dm.status?.canary?.phase} ${since(o.servingFrom)} s after the first step served (both runtimes reachable), ` +
      `${since(o.usersFrom)} s after the users started ` +
      `(${since(o.firstCanaryRequestAt)} s after the canary's first user request); ` +
      `${o.toCanary} of ${o.total} user requests (${((100 * o.toCanary) / Math.max(1, o.total)).toFixed(1)} %) reached the canary meanwhile\n` +
      `  kubectl get dm -w:\n${o.watch.map((l) => `    ${l}`).join('\n')}\n` +
      `  events: ${o.events.map((e) => `${e.reason}: ${e.note}`).join('\n          ')}\n` +
      `  status.canary: ${JSON.stringify(o.dm.status?.canary)}\n  Degraded: ${JSON.stringify(condition(o.dm, 'Degraded'))}\n`,
  );
}

const checks = { maxLatencyP95Ms: 1500, maxDisagreement: 0.1, maxUnreliableIncrease: 0.2, maxErrorRate: 0.01 };

test('a canary as good as stable walks its steps and is promoted, across a leader change; the stable pods mirror to it', async () => {
  let handedOver = false;
  const o = await run({
    name: 'good',
    canaryModel: modelCalibratedAt(SAMPLES, '2'),
    checks,
    rate: 20,
    // after the first step the leader steps down: the other replica goes on from status
    onWeight: async (w) => {
      if (w !== START_WEIGHT + STEP || handedOver) return;
      handedOver = true;
      const leader = operators.find((op) => op.isLeader())!;
      await leader.stop();
      operators = operators.filter((op) => op !== leader);
      await waitFor('the other replica to lead', () => operators[0].isLeader(), 60_000);
    },
  });
  expect(handedOver).toBe(true);
  report('good canary', o);
  expect(o.stableEnv.MIRROR_URL).toBe(`http://good-canary.${ns}.svc.cluster.local`);
  expect(o.stableEnv.MIRROR_PERCENT).toBe('50');
  const c = o.dm.status!.canary!;
  expect(c).toMatchObject({ phase: 'Promoted', analysisWeight: MAX_WEIGHT, step: 3, failures: 0, weight: START_WEIGHT });
  expect(o.weights).toEqual([20, 35, 50]);
  expect(c.checks?.map((k) => `${k.name}:${k.verdict}`).sort()).toEqual(['disagreement:Pass', 'errorRate:Pass', 'latencyP95:Pass', 'unreliableIncrease:Pass']);
  expect(o.events.filter((e) => e.reason === 'CanaryStepAdvanced').map((e) => e.note)).toEqual([
    expect.stringContaining('weight now 35'),
    expect.stringContaining('weight now 50'),
  ]);
  expect(o.events.filter((e) => e.reason === 'CanaryPromoted')).toHaveLength(1);
  expect(o.events.filter((e) => e.reason === 'CanaryAborted' || e.reason === 'CanaryCheckFailed')).toEqual([]);
  expect(condition(o.dm, 'Degraded')?.status).toBe('False');
  // the Gateway now sends all traffic to the promoted canary
  expect(o.route?.spec?.rules?.[0]?.backendRefs?.find((b) => b.name === 'good-canary')?.weight).toBe(100);
});

test('a canary that swaps two digits is aborted at its first step by disagreement, and stays aborted', async () => {
  const o = await run({ name: 'swapped', canaryModel: modelWithSwappedClasses(SAMPLES, '2', 3, 5), checks, rate: 20 });
  report('disagreeing canary', o);
  const c = o.dm.status!.canary!;
  expect(c).toMatchObject({ phase: 'Aborted', analysisWeight: 0, step: 0, failures: 1 });
  const dis = c.checks?.find((k) => k.name === 'disagreement');
  expect(dis?.verdict).toBe('Fail');
  expect(dis?.canary).toBeGreaterThan(0.1);
  const degraded = condition(o.dm, 'Degraded');
  expect(degraded).toMatchObject({ status: 'True', reason: 'CanaryAborted' });
  expect(degraded?.message).toContain('disagreement');
  const aborted = o.events.filter((e) => e.reason === 'CanaryAborted');
  expect(aborted).toHaveLength(1);
  expect(aborted[0].type).toBe('Warning');
  expect(aborted[0].note).toMatch(/disagreement: canary 0\.\d+ vs stable 0\.0000 \(limit 0\.1000\)/);
  expect(o.events.filter((e) => e.reason === 'CanaryStepAdvanced')).toEqual([]);
  // left in place for a human: the Deployment stays (at 0 pods, as weight 0 splits)
  expect(o.canaryDeployment).toBeDefined();
  // no flapping: intervals later it is still aborted at weight 0
  await new Promise((r) => setTimeout(r, 3 * 8_000));
  const later = await getDm(client, ns, 'swapped');
  expect(later.status?.canary).toMatchObject({ phase: 'Aborted', analysisWeight: 0, effectiveWeight: 0, analysisVersion: '2' });
  // a fixed model as the new canary version is analysed from the start: weight back to the
  // spec's, no failures, not Degraded (its pods have no runtime behind them here: it then holds)
  await mergePatch(client, 'DigitModel', ns, 'swapped', { spec: { canary: { version: '3', uri: 'https://models.example/mnist-cnn/3/model.json' } } });
  const restarted = await waitFor('the analysis of canary version 3 to start', async () => {
    const got = await getDm(client, ns, 'swapped');
    return got.status?.canary?.analysisVersion === '3' ? got : undefined;
  });
  expect(restarted.status?.canary).toMatchObject({ phase: 'Progressing', analysisWeight: START_WEIGHT, step: 0, failures: 0 });
  expect(condition(restarted, 'Degraded')?.status).toBe('False');
});

test('a slow canary (each request waits 3 s for its body) is aborted at its first step by p95 latency', async () => {
  const o = await run({
    name: 'slow',
    canaryModel: modelCalibratedAt(SAMPLES, '2'),
    // a slow path to the pod (a batcher told to wait no longer slows a lone request: it starts
    // as soon as nothing more is coming); the runtime's own latency counts the wait for the body
    canaryBodyDelayMs: 3000,
    checks,
    rate: 20,
  });
  report('slow canary', o);
  const c = o.dm.status!.canary!;
  expect(c).toMatchObject({ phase: 'Aborted', analysisWeight: 0, step: 0, failures: 1 });
  const lat = c.checks?.find((k) => k.name === 'latencyP95');
  expect(lat?.verdict).toBe('Fail');
  expect(lat?.canary).toBeGreaterThan(1500);
  expect(condition(o.dm, 'Degraded')).toMatchObject({ status: 'True', reason: 'CanaryAborted' });
  const aborted = o.events.filter((e) => e.reason === 'CanaryAborted');
  expect(aborted).toHaveLength(1);
  expect(aborted[0].note).toMatch(/latencyP95: canary \d+\.\d ms vs stable \d+\.\d ms \(limit 1500\.0 ms\)/);
});
