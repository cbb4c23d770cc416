import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { serviceCidr } from '../../hack/cluster/certs.js';
import { exec } from '../../hack/cluster/exec.js';
import { startMonitoring } from '../../hack/cluster/monitoring.js';
import { ensurePrometheusAdapter } from '../../hack/cluster/prometheus-adapter.js';
import { readImagesManifest } from '../../hack/cluster/node-import.js';
import { ctr } from '../../hack/cluster/node-state.js';
import { importIntoRealNode, realNodeInfo, type RealNodeInfo } from '../../hack/cluster/real-node.js';
import { readState } from '../../hack/cluster/state.js';
import { acceptanceInterval } from '../../hack/loadgen/share.js';
import { binary } from '../unit/chart/support.js';
import { deriveImage } from './support/derived-image.js';
import { apply, getJson, helm, kubectl, kubectlOk, patchDm, until, viaServiceProxy } from './support/kube.js';
import { LoadRun, type LoadOptions, type Snapshot } from './support/load.js';
import { Report, reportFile, type StepRecord } from './support/report.js';
import { answeredDigits, everyKind, heavyBatch, png } from './support/requests.js';

/**
 * The user journey on real pods (issue 14), on the plane of this project's global setup
 * (`cluster:up --real-node`, images from `npm run images` imported into the node): helm install
 * → apply a DigitModel → roll out a new model version → canary split and promotion → autoscaling
 * on the runtime's queue depth → a runtime pod and the operator killed → helm upgrade to a
 * rebuilt operator. Every step runs under a load generator in the node's network namespace that
 * counts every failed request; the timeline goes to .cluster/journey-report.json.
 * The steps build on each other, so they run in order and a failed step fails the ones after it.
 */

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const version = (JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8')) as { version: string }).version;
const RUNTIME = `ghcr.io/digitserve/runtime:${version}`;
const OPERATOR = `ghcr.io/digitserve/operator:${version}`;
/** Test-only images made FROM the built ones (support/derived-image.ts). */
const RUNTIME_MODELS = `ghcr.io/digitserve/runtime:${version}-journey-models`;
const OPERATOR_REBUILT_TAG = `${version}-journey-rebuilt`;

const SYSTEM_NS = 'digitserve-system';
const RELEASE = 'digitserve'; // fullname = release name (it contains the chart name)
const NS = 'journey';
const DM = 'digits';
const MODEL_DIR = '/app/models/mnist-cnn';
const STEADY_RATE = 10; // requests per second during every step
// sized for a machine 3x slower than the one this was written on, shared with other work
const STEP_TIMEOUT = 20 * 60_000;
// a cold Go build of prometheus-adapter took 11 min here beside other builds: a build, not a test bound
const SETUP_TIMEOUT = 90 * 60_000;
const WAIT = 10 * 60_000;

interface Condition { type: string; status: string; reason?: string }
interface DigitModel {
  metadata: { generation: number };
  spec: { replicas: number };
  status?: {
    observedGeneration?: number; replicas?: number; readyReplicas?: number;
    stable?: { version: string; replicas: number; readyReplicas: number };
    canary?: { version: string; weight: number; effectiveWeight: number; replicas: number; readyReplicas: number };
    conditions?: Condition[];
  };
}
interface Pod {
  metadata: { name: string; labels: Record<string, string>; deletionTimestamp?: string };
  spec: {
    nodeName?: string; serviceAccountName?: string;
    containers: {
      image: string; readinessProbe?: { httpGet?: { path: string } }; livenessProbe?: unknown; startupProbe?: unknown;
      lifecycle?: { preStop?: { sleep?: { seconds: number } } };
      securityContext?: { readOnlyRootFilesystem?: boolean; runAsNonRoot?: boolean; allowPrivilegeEscalation?: boolean };
    }[];
    securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
  };
  status: { podIP?: string; conditions?: Condition[]; containerStatuses?: { containerID?: string; restartCount: number; imageID?: string }[] };
}

const report = new Report();
let node: RealNodeInfo;
let work: string;
let bodyFile: string;
let clusterIp: string;
let broken: string | undefined;
let imagesSeconds: number | undefined;

const dm = () => getJson<DigitModel>(['-n', NS, 'digitmodel', DM]);
const runtimePods = () => getJson<{ items: Pod[] }>(['-n', NS, 'pods', '-l', `app.kubernetes.io/instance=${DM},app.kubernetes.io/name=digitserve-runtime`]).items;
const operatorPods = () => getJson<{ items: Pod[] }>(['-n', SYSTEM_NS, 'pods', '-l', `app.kubernetes.io/instance=${RELEASE},app.kubernetes.io/component=operator`]).items;
const ready = (p: Pod) => !p.metadata.deletionTimestamp && (p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false);
const condition = (d: DigitModel, type: string) => d.status?.conditions?.find((c) => c.type === type);

/** The DigitModel has converged: `replicas` ready pods, all of `version`, no other pod left, Ready and not Progressing. */
function settled(d: DigitModel, versionWanted: string, replicas: number, pods: Pod[]): boolean {
  return d.status?.observedGeneration === d.metadata.generation
    && d.status?.stable?.version === versionWanted
    && d.status?.readyReplicas === replicas
    && condition(d, 'Ready')?.status === 'True'
    && condition(d, 'Progressing')?.status === 'False'
    && pods.length === replicas && pods.every((p) => ready(p) && p.metadata.labels['digitserve.dev/model-version'] === versionWanted);
}
const waitSettled = (v: string, replicas: number) => until(`DigitModel ${DM}: ${replicas} ready pods of version ${v}`, () => settled(dm(), v, replicas, runtimePods()), WAIT, 1000);

function steadyLoad(extra: Partial<LoadOptions> = {}): LoadRun {
  return new LoadRun({
    enter: node.enter, url: `http://${clusterIp}/v1/models/${DM}:predict`, bodyFile, contentType: 'image/png',
    rate: STEADY_RATE, durationSeconds: 1800, allow: [serviceCidr], ...extra,
  });
}

/** Runs one step: guards on earlier failures, records its timeline, stops its loads whatever happens. */
async function step(name: string, body: (rec: StepRecord, loads: LoadRun[]) => Promise<void>): Promise<void> {
  if (broken) throw new Error(`not run: an earlier step failed (${broken})`);
  const rec = report.begin(name);
  const loads: LoadRun[] = [];
  let passed = false;
  try {
    await body(rec, loads);
    passed = true;
  } catch (err) {
    broken = name;
    throw err;
  } finally {
    // loads a failed step left running still count (finish() took the others out of the list)
    for (const l of loads) {
      const final = await l.stop().catch(() => undefined);
      if (final) Report.load(rec, final);
    }
    Report.end(rec, passed);
  }
}

/** Stops a load run, counts it into the step's figures and returns its final tally. */
async function finish(rec: StepRecord, run: LoadRun, loads: LoadRun[]): Promise<Snapshot> {
  const final = await run.stop();
  loads.splice(loads.indexOf(run), 1);
  Report.load(rec, final);
  return final;
}

beforeAll(async () => {
  node = realNodeInfo();
  await ensurePrometheusAdapter(); // step 5's; built here (once, then cached) so no step waits for a build
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'journey-'));
  bodyFile = path.join(work, 'digit.png');
  fs.writeFileSync(bodyFile, await png(3));
  const images = readImagesManifest();
  const base = (ref: string) => {
    const e = images.find((i) => i.ref === ref);
    if (!e) throw new Error(`${ref} is not in .images/images.json: run \`npm run images\` first`);
    return e.tar;
  };
  // versions 2 and 3 of the default model, made for the test: copies of version 1 whose metadata says so
  const files = ['2', '3'].flatMap((v) => ['model.json', 'weights.bin', 'metadata.json'].map((f) => {
    const src = fs.readFileSync(path.join(repo, 'models', 'mnist-cnn', '1', f));
    const content = f === 'metadata.json' ? JSON.stringify({ ...(JSON.parse(src.toString('utf8')) as object), version: v }) : src;
    return { path: `${MODEL_DIR}/${v}/${f}`, content, uid: 65532, gid: 65532 };
  }));
  const models = await deriveImage({ base: base(RUNTIME), ref: RUNTIME_MODELS, files, dirs: [`${MODEL_DIR}/2`, `${MODEL_DIR}/3`],
    createdBy: 'COPY models/mnist-cnn/{2,3} (journey test: copies of version 1)' }, path.join(work, 'runtime-models.tar'));
  // the "rebuilt" operator: the same build under a new name and image ID (a label), see step 7
  const rebuilt = await deriveImage({ base: base(OPERATOR), ref: `ghcr.io/digitserve/operator:${OPERATOR_REBUILT_TAG}`,
    labels: { 'dev.digitserve.journey': 'rebuilt' }, createdBy: 'LABEL dev.digitserve.journey=rebuilt' }, path.join(work, 'operator-rebuilt.tar'));
  const t = Date.now();
  // the built images unless `cluster:up` imported them already (it does when .images/ existed then)
  const rn = readState()?.realNode;
  if (!rn) throw new Error('no real node in the plane state');
  const present = (await ctr(rn, ['images', 'list', '--quiet'])).stdout.split('\n');
  const built = [RUNTIME, OPERATOR].filter((ref) => !present.includes(ref)).map((ref) => ({ ref, tar: base(ref) }));
  await importIntoRealNode([...built, { ref: RUNTIME_MODELS, tar: models }, { ref: `ghcr.io/digitserve/operator:${OPERATOR_REBUILT_TAG}`, tar: rebuilt }]);
  imagesSeconds = Math.round((Date.now() - t) / 1000);
  process.stderr.write(`[journey] test images derived and imported in ${imagesSeconds} s\n`);
}, SETUP_TIMEOUT);

afterAll(() => {
  const table = report.write({ node: node?.name, importSeconds: imagesSeconds, images: { runtime: RUNTIME, operator: OPERATOR, models: RUNTIME_MODELS, rebuiltOperatorTag: OPERATOR_REBUILT_TAG } });
  process.stderr.write(`\n${table}\n[journey] written to ${reportFile}\n`);
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

test('1. helm install: the operator runs on the real node under its own ServiceAccount and least-privilege RBAC', () => step('1 helm install', async (rec) => {
  const t0 = Date.now();
  helm(['install', RELEASE, path.join(repo, 'charts', 'digitserve'), '--namespace', SYSTEM_NS, '--create-namespace', '--wait', '--timeout', '10m',
    '--set-json', `operator.nodeSelector=${JSON.stringify({ 'kubernetes.io/hostname': node.name })}`,
    '--set', 'monitoring.prometheusAdapterRules.enabled=true']);
  Report.time(rec, 'install→operator Available', t0);
  const pods = operatorPods();
  expect(pods).toHaveLength(2);
  for (const p of pods) {
    expect(ready(p)).toBe(true);
    expect(p.spec.nodeName).toBe(node.name);
    expect(p.spec.serviceAccountName).toBe(RELEASE);
    expect(p.spec.containers[0].image).toBe(OPERATOR);
  }
  // one of them leads, through the Lease its Role allows
  const holder = await until('a Lease holder', () => kubectlOk(['-n', SYSTEM_NS, 'get', 'lease', RELEASE, '-o', 'jsonpath={.spec.holderIdentity}']).trim(), WAIT);
  expect(pods.map((p) => p.metadata.name)).toContain(holder);
  // the ServiceAccount's rights are the chart's and no more (the operator really runs with them below)
  const sa = `system:serviceaccount:${SYSTEM_NS}:${RELEASE}`;
  const can = (verb: string, resource: string, ns = NS) => kubectl(['auth', 'can-i', verb, resource, '--as', sa, '-n', ns]).stdout.trim();
  expect(can('patch', 'deployments.apps')).toBe('yes');
  expect(can('list', 'secrets')).toBe('no');
  expect(can('get', 'pods')).toBe('no');
  expect(can('delete', 'digitmodels.digitserve.dev')).toBe('no');
  rec.notes.leader = holder;
}), STEP_TIMEOUT);

test('2. kubectl apply a DigitModel: pods from the operator\'s template become Ready and the Service answers every kind of request', () => step('2 apply DigitModel', async (rec, loads) => {
  kubectlOk(['create', 'namespace', NS]);
  const t0 = Date.now();
  apply({
    apiVersion: 'digitserve.dev/v1alpha1', kind: 'DigitModel', metadata: { name: DM, namespace: NS },
    spec: {
      replicas: 2,
      model: { name: 'mnist-cnn', version: '1', uri: `file://${MODEL_DIR}/1` }, // baked into the runtime image
      resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { memory: '1Gi' } },
      pod: { nodeSelector: { 'kubernetes.io/hostname': node.name } },
    },
  });
  await waitSettled('1', 2);
  Report.time(rec, 'apply→Ready', t0);
  const pods = runtimePods();
  for (const p of pods) {
    const c = p.spec.containers[0];
    expect(p.spec.nodeName).toBe(node.name);
    expect(c.image).toBe(RUNTIME); // the operator's default: the image `npm run images` built
    expect(c.readinessProbe?.httpGet?.path).toBe('/readyz');
    expect(c.livenessProbe).toBeDefined();
    expect(c.startupProbe).toBeDefined();
    expect(c.lifecycle?.preStop?.sleep?.seconds).toBeGreaterThan(0);
    expect(c.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
    expect(p.spec.securityContext?.runAsNonRoot).toBe(true);
  }
  clusterIp = kubectlOk(['-n', NS, 'get', 'service', DM, '-o', 'jsonpath={.spec.clusterIP}']).trim();
  // A new Service's ClusterIP works once the node's kube-proxy has programmed the endpoints, which
  // can follow Ready by a sync period (until then the node refuses: seen once as 5 ECONNREFUSED of
  // 24 in 0.5 s). No controller can observe that, so the counted load starts once the ClusterIP has
  // answered, and the lag and what was refused before it are recorded as figures.
  const tReady = Date.now();
  const probe = steadyLoad();
  loads.push(probe);
  await probe.waitForOk(1);
  const probed = await probe.stop();
  loads.splice(loads.indexOf(probe), 1);
  Report.time(rec, 'Ready→ClusterIP answers', tReady);
  rec.notes.refusedBeforeClusterIpAnswered = probed.failures;
  const load = steadyLoad();
  loads.push(load);
  await load.waitForOk(10);
  // through the API server's service proxy, as a user without a port-forward would
  const listed = await viaServiceProxy(NS, DM, '/v1/models');
  expect(listed.status).toBe(200);
  expect(JSON.parse(listed.body.toString())).toMatchObject({ models: [{ name: DM, version: '1', track: 'stable' }] });
  for (const kind of await everyKind()) {
    const res = await viaServiceProxy(NS, DM, kind.path(DM), { body: kind.body, contentType: kind.contentType });
    expect({ kind: kind.kind, status: res.status }).toEqual({ kind: kind.kind, status: 200 });
    expect({ kind: kind.kind, digits: answeredDigits(JSON.parse(res.body.toString())) }).toEqual({ kind: kind.kind, digits: kind.labels });
    if (kind.path(DM).startsWith('/v1')) expect(res.headers['x-model-version']).toBe('1');
  }
  const final = await finish(rec, load, loads);
  expect(final.failures).toEqual({});
  expect(final.versions).toEqual({ 1: final.ok });
}), STEP_TIMEOUT);

test('3. a new model version rolls out under steady load with 0 failed requests, and answers switch version', () => step('3 rollout to version 2', async (rec, loads) => {
  const load = steadyLoad();
  loads.push(load);
  await load.waitForOk(20);
  const t0 = Date.now();
  patchDm(NS, DM, { spec: { image: RUNTIME_MODELS, model: { name: 'mnist-cnn', version: '2', uri: `file://${MODEL_DIR}/2` } } });
  await waitSettled('2', 2);
  const doneAt = Date.now();
  Report.time(rec, 'rollout', t0, doneAt);
  await load.waitForOk((load.latest()?.ok ?? 0) + 3 * STEADY_RATE); // a few more seconds on the new pods only
  const final = await finish(rec, load, loads);
  rec.notes.versions = final.versions;
  expect(final.failures).toEqual({});
  expect(final.failed).toBe(0);
  expect(Object.keys(final.versions).sort()).toEqual(['1', '2']);
  // version 1 answered only before the rollout finished (its pods were gone), version 2 last
  expect(final.versionSeen['1'].last).toBeLessThanOrEqual(doneAt - final.startedAt);
  expect(final.versionSeen['2'].last).toBeGreaterThan(final.versionSeen['1'].last);
}), STEP_TIMEOUT);

test('4. a canary\'s share of answers over the ClusterIP matches status.canary.effectiveWeight; promotion fails no request', () => step('4 canary and promotion', async (rec, loads) => {
  const load = steadyLoad();
  loads.push(load);
  await load.waitForOk(10);
  const t0 = Date.now();
  patchDm(NS, DM, { spec: { replicas: 4, canary: { version: '3', uri: `file://${MODEL_DIR}/3`, weight: 25 } } });
  const d = await until('canary ready beside 3 stable pods', () => {
    const x = dm();
    const pods = runtimePods();
    return x.status?.observedGeneration === x.metadata.generation && x.status?.canary?.readyReplicas === 1 && x.status?.stable?.readyReplicas === 3
      && pods.length === 4 && pods.every(ready) ? x : undefined;
  }, WAIT, 1000);
  Report.time(rec, 'canary set→ready', t0);
  const effective = d.status!.canary!.effectiveWeight;
  expect(effective).toBe(25); // 1 of 4 pods
  // every ready pod is a Service endpoint before sampling (kube-proxy picks one per new connection)
  await until('4 ready endpoints', () => getJson<{ items: { endpoints?: { conditions?: { ready?: boolean } }[] }[] }>(['-n', NS, 'endpointslices', '-l', `kubernetes.io/service-name=${DM}`])
    .items.flatMap((e) => e.endpoints ?? []).filter((e) => e.conditions?.ready === true).length === 4, WAIT);
  const sample = new LoadRun({ enter: node.enter, url: `http://${clusterIp}/v1/models/${DM}:predict`, bodyFile, contentType: 'image/png',
    concurrency: 4, maxRequests: 800, durationSeconds: 900, allow: [serviceCidr] });
  loads.push(sample);
  const s = await sample.done;
  loads.splice(loads.indexOf(sample), 1);
  Report.load(rec, s);
  expect(s.failures).toEqual({});
  const canary = s.tracks.canary ?? 0;
  const alpha = 1e-6; // a correct split fails this check once in a million runs
  const { lo, hi } = acceptanceInterval(s.ok, effective / 100, alpha);
  rec.notes.canaryShare = { answers: s.ok, canary, share: canary / s.ok, expected: effective / 100, acceptance: [lo, hi], alpha };
  expect(canary).toBeGreaterThanOrEqual(lo);
  expect(canary).toBeLessThanOrEqual(hi);
  expect(s.versions).toEqual({ 2: s.ok - canary, 3: canary });
  // promotion: one patch, canary version into spec.model, spec.canary removed
  const t1 = Date.now();
  patchDm(NS, DM, { spec: { model: { name: 'mnist-cnn', version: '3', uri: `file://${MODEL_DIR}/3` }, canary: null } });
  await waitSettled('3', 4);
  await until('the canary Deployment and Service removed', () => kubectl(['-n', NS, 'get', 'deployment', `${DM}-canary`]).status !== 0
    && kubectl(['-n', NS, 'get', 'service', `${DM}-canary`]).status !== 0, WAIT);
  Report.time(rec, 'promotion', t1);
  const final = await finish(rec, load, loads);
  expect(final.failures).toEqual({});
  expect(final.failed).toBe(0);
}), STEP_TIMEOUT);

test('5. the HPA scales the DigitModel up on the runtime\'s queue depth and back down once the load goes', () => step('5 autoscaling', async (rec, loads) => {
  const t0 = Date.now();
  const rules = kubectlOk(['-n', SYSTEM_NS, 'get', 'configmap', `${RELEASE}-adapter-rules`, '-o', 'jsonpath={.data.config\\.yaml}']);
  await startMonitoring(rules); // Prometheus + prometheus-adapter with the chart's rules
  Report.time(rec, 'Prometheus + adapter up', t0);
  const light = steadyLoad({ rate: 2 });
  loads.push(light);
  patchDm(NS, DM, { spec: { replicas: 1, autoscaling: { minReplicas: 1, maxReplicas: 3, targetQueueDepth: 4, scaleDownStabilizationSeconds: 15 } } });
  await waitSettled('3', 1);
  const metricPath = `/apis/custom.metrics.k8s.io/v1beta1/namespaces/${NS}/pods/*/digitserve_queue_depth?labelSelector=app.kubernetes.io%2Finstance%3D${DM}`;
  const queueDepth = () => (JSON.parse(kubectlOk(['get', '--raw', metricPath])) as { items: { describedObject: { name: string }; value: string }[] }).items;
  await until('digitserve_queue_depth served by the custom metrics API', () => queueDepth().length >= 1, WAIT, 2000);
  await until('the HPA reads its metric', () => kubectlOk(['-n', NS, 'get', 'hpa', DM, '-o', 'jsonpath={.status.conditions[?(@.type=="ScalingActive")].status}']).trim() === 'True', WAIT, 2000);
  const timeline: { t: number; replicas: number; ready: number; queueDepth: string[] }[] = [];
  const sampleTimeline = (since: number) => {
    const x = dm();
    timeline.push({ t: Math.round((Date.now() - since) / 1000), replicas: x.spec.replicas, ready: x.status?.readyReplicas ?? 0, queueDepth: queueDepth().map((i) => i.value) });
    return x;
  };
  // heavy: 8 requests of 16 images each always outstanding
  const heavyFile = path.join(work, 'heavy.json');
  fs.writeFileSync(heavyFile, await heavyBatch(16));
  const tUp = Date.now();
  const heavy = new LoadRun({ enter: node.enter, url: `http://${clusterIp}/v1/models/${DM}:predict`, bodyFile: heavyFile, contentType: 'application/json',
    concurrency: 8, durationSeconds: 1200, timeoutMs: 60_000, allow: [serviceCidr] });
  loads.push(heavy);
  await until('the HPA scales up', () => sampleTimeline(tUp).spec.replicas > 1, WAIT, 2000);
  Report.time(rec, 'load→scale-up decided', tUp);
  await until('3 ready replicas (maxReplicas)', () => {
    const x = sampleTimeline(tUp);
    return x.spec.replicas === 3 && x.status?.readyReplicas === 3;
  }, WAIT, 2000);
  Report.time(rec, 'load→3 ready', tUp);
  const heavyFinal = await finish(rec, heavy, loads);
  rec.notes.heavy = { sent: heavyFinal.sent, failed: heavyFinal.failed, failures: heavyFinal.failures };
  const tDown = Date.now();
  await until('scaled back down to 1', () => {
    const x = sampleTimeline(tDown);
    return x.spec.replicas === 1 && runtimePods().length === 1;
  }, WAIT, 2000);
  Report.time(rec, 'load removed→scaled down to 1', tDown);
  rec.notes.timeline = timeline;
  const lightFinal = await finish(rec, light, loads);
  expect(heavyFinal.failures).toEqual({});
  expect(lightFinal.failures).toEqual({});
}), STEP_TIMEOUT);

test('6. a runtime container and the operator leader killed under load: only connections to the dead process fail, and everything recovers', () => step('6 kill runtime and operator', async (rec, loads) => {
  patchDm(NS, DM, { spec: { replicas: 2, autoscaling: null } });
  await waitSettled('3', 2);
  const load = steadyLoad();
  loads.push(load);
  await load.waitForOk(20);
  const containerOf = (p: Pod) => {
    const id = p.status.containerStatuses?.[0]?.containerID?.replace(/^containerd:\/\//, '');
    if (!id) throw new Error(`no container id for ${p.metadata.name}`);
    return id;
  };
  const victim = runtimePods()[0];
  const leader = kubectlOk(['-n', SYSTEM_NS, 'get', 'lease', RELEASE, '-o', 'jsonpath={.spec.holderIdentity}']).trim();
  const leaderPod = operatorPods().find((p) => p.metadata.name === leader);
  if (!leaderPod) throw new Error(`the Lease holder ${leader} is no operator pod`);
  const rn = readState()?.realNode;
  if (!rn) throw new Error('no real node in the plane state');
  // crashes, not graceful deletes: SIGKILL to the runtime's process and to the leading operator's
  // (which cannot release its Lease, so leadership returns only through the Lease's expiry or its restart)
  const tKill = Date.now();
  await Promise.all([ctr(rn, ['tasks', 'kill', '--signal', 'SIGKILL', containerOf(victim)]), ctr(rn, ['tasks', 'kill', '--signal', 'SIGKILL', containerOf(leaderPod)])]);
  const notReadyAt = await until('the killed runtime pod reported not ready', () => {
    const p = runtimePods().find((x) => x.metadata.name === victim.metadata.name);
    return p && !ready(p) ? Date.now() : undefined;
  }, WAIT, 200);
  Report.time(rec, 'runtime kill→pod not ready', tKill, notReadyAt);
  // an operator reconciles again (the restarted leader or the standby, once the Lease allows): a deleted child comes back
  kubectlOk(['-n', NS, 'delete', 'pdb', DM]);
  await until('the PDB recreated by the operator', () => kubectl(['-n', NS, 'get', 'pdb', DM]).status === 0, WAIT, 500);
  Report.time(rec, 'operator kill→reconciling again', tKill);
  rec.notes.leaderAfter = kubectlOk(['-n', SYSTEM_NS, 'get', 'lease', RELEASE, '-o', 'jsonpath={.spec.holderIdentity}']).trim();
  await waitSettled('3', 2);
  const recoveredAt = Date.now();
  Report.time(rec, 'runtime kill→recovered', tKill, recoveredAt);
  expect(runtimePods().find((p) => p.metadata.name === victim.metadata.name)?.status.containerStatuses?.[0]?.restartCount).toBeGreaterThanOrEqual(1);
  expect(operatorPods().find((p) => p.metadata.name === leader)?.status.containerStatuses?.[0]?.restartCount).toBeGreaterThanOrEqual(1);
  const final = await finish(rec, load, loads);
  // outcome times on the generator's clock: ms since final.startedAt
  const kill = tKill - final.startedAt;
  rec.notes.failuresAfterKillMs = final.firstFailures.map((f) => f.at - kill);
  // what may fail, only between the kill and recovery: connections to the dead process, and 503s from
  // its restarted container (listening, model not loaded yet) for requests kube-proxy still sends to
  // the pod until the kubelet's not-ready status reaches the endpoints — the retry window the runtime
  // documents (a 503 is answered at once, before any work, and is safe to retry)
  const transient = ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', '503'];
  rec.notes.failuresByKind = final.failures;
  expect(Object.keys(final.failures).filter((k) => !transient.includes(k))).toEqual([]);
  for (const f of final.firstFailures) {
    expect(f.at).toBeGreaterThanOrEqual(kill);
    expect(f.at).toBeLessThanOrEqual(recoveredAt - final.startedAt);
  }
}), STEP_TIMEOUT);

test('7. helm upgrade to a rebuilt operator whose pod template differs rolls the DigitModel gradually within its PDB, 0 failed requests', () => step('7 helm upgrade', async (rec, loads) => {
  const load = steadyLoad();
  loads.push(load);
  await load.waitForOk(10);
  const before = new Set(runtimePods().map((p) => p.metadata.name));
  const pdbMaxUnavailable = Number(kubectlOk(['-n', NS, 'get', 'pdb', DM, '-o', 'jsonpath={.spec.maxUnavailable}']).trim());
  const t0 = Date.now();
  // the rebuilt operator reads a different preStop sleep: every runtime pod template it writes changes
  const upgrade = exec(binary('helm'), ['--kubeconfig', process.env.KUBECONFIG!, 'upgrade', RELEASE, path.join(repo, 'charts', 'digitserve'),
    '--namespace', SYSTEM_NS, '--reuse-values', '--wait', '--timeout', '10m',
    '--set', `operator.image.tag=${OPERATOR_REBUILT_TAG}`, '--set', 'runtime.preStopSleepSeconds=6'])
    .then(() => Report.time(rec, 'helm upgrade (operator rolled)', t0));
  // ready runtime pods, sampled from the upgrade's start to the end of the DigitModel's rollout
  let minReady = Number.POSITIVE_INFINITY;
  await until('every runtime pod replaced by one with the new template', () => {
    const pods = runtimePods();
    minReady = Math.min(minReady, pods.filter(ready).length);
    return pods.length === 2 && pods.every((p) => ready(p) && !before.has(p.metadata.name) && p.spec.containers[0].lifecycle?.preStop?.sleep?.seconds === 6);
  }, WAIT, 500);
  await upgrade;
  await waitSettled('3', 2);
  Report.time(rec, 'upgrade→DigitModel rolled', t0);
  rec.notes.minReadyDuringRollout = minReady;
  expect(minReady).toBeGreaterThanOrEqual(2 - pdbMaxUnavailable);
  for (const p of operatorPods()) expect(p.spec.containers[0].image).toBe(`ghcr.io/digitserve/operator:${OPERATOR_REBUILT_TAG}`);
  const final = await finish(rec, load, loads);
  expect(final.failures).toEqual({});
  expect(final.failed).toBe(0);
}), STEP_TIMEOUT);
