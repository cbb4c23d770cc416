import { jest } from '@jest/globals';
import { KubeConfig } from '@kubernetes/client-node';
import { parseConfig, type OperatorConfig } from '../../../operator/config.js';
import { KubeClient } from '../../../operator/kube/client.js';
import type { Manager } from '../../../operator/manager.js';
import { helmOk, parseManifests, templateArgs, type Manifest } from '../../unit/chart/support.js';
import {
  condition,
  createDm,
  createNamespace,
  deleteNamespace,
  dmSpec,
  findChild,
  getDm,
  installCrd,
  kubeConfig,
  mergePatch,
  refusal,
  startTestOperator,
  testClient,
  waitFor,
  waitReady,
} from '../operator/support/harness.js';
import { crashLoopStatus, type Pod } from '../operator/support/pod-status.js';
import { kubectl, kubectlOk, suffix } from './support.js';

/**
 * RBAC proven, not assumed: the chart's ServiceAccount, ClusterRole, Role and bindings are
 * applied, and the real operator runs in-process as that ServiceAccount (client-node's
 * impersonation, `as:` in a kubeconfig, on the admin credentials), configured from the rendered
 * Deployment's environment. It must pass the main scenarios; with one verb taken away it must not.
 * The operator watches only the test's namespace (the chart default is all namespaces, which the
 * ClusterRole allows) so it never touches other tests' DigitModels.
 */

jest.setTimeout(300_000);

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

interface Setup {
  ns: string;
  release: string;
  serviceAccount: string;
  config: OperatorConfig;
  kc: KubeConfig;
  clusterScoped: string[];
}

const admin = testClient();
const setups: Setup[] = [];
const operators: Manager[] = [];

beforeAll(async () => {
  await installCrd(admin);
});

afterAll(async () => {
  for (const o of operators) await o.stop().catch(() => {});
  for (const s of setups) {
    for (const obj of s.clusterScoped) kubectl(['delete', obj, '--ignore-not-found']);
    await deleteNamespace(admin, s.ns);
  }
  admin.close();
});

/** Renders the chart for `release` into `ns` and applies its ServiceAccount and RBAC, edited by `edit`. */
async function applyChartRbac(prefix: string, edit: (objects: Manifest[]) => void = () => {}): Promise<Setup> {
  const ns = await createNamespace(admin, prefix);
  const release = `rbac-${suffix()}`;
  const rendered = parseManifests(
    helmOk(templateArgs({ release, namespace: ns, showOnly: ['templates/serviceaccount.yaml', 'templates/rbac.yaml', 'templates/deployment.yaml'] })),
  );
  const deployment = rendered.find((m) => m.kind === 'Deployment');
  if (!deployment) throw new Error('the chart rendered no Deployment');
  const rbac = rendered.filter((m) => m !== deployment);
  expect(rbac.map((m) => m.kind).sort()).toEqual(['ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding', 'ServiceAccount']);
  edit(rbac);
  const clusterScoped = rbac.filter((m) => m.kind.startsWith('Cluster')).map((m) => `${m.kind.toLowerCase()}/${m.metadata.name}`);
  const setup: Setup = { ns, release, serviceAccount: '', config: undefined as never, kc: undefined as never, clusterScoped };
  setups.push(setup);
  kubectlOk(['apply', '--server-side', '--field-manager=chart-rbac-test', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: rbac }));

  const pod = deployment.spec.template.spec;
  setup.serviceAccount = pod.serviceAccountName;
  const env: Record<string, string> = {};
  for (const e of pod.containers[0].env as { name: string; value?: string; valueFrom?: { fieldRef: { fieldPath: string } } }[]) {
    env[e.name] = e.valueFrom ? (e.valueFrom.fieldRef.fieldPath === 'metadata.name' ? `${release}-pod-0` : ns) : (e.value ?? '');
  }
  setup.config = {
    ...parseConfig([], env),
    watchNamespaces: [ns],
    progressDeadlineSeconds: 15,
    preStopSleepSeconds: 1,
    runtimeImage: 'ghcr.io/digitserve/runtime:test',
  };
  setup.kc = impersonating(`system:serviceaccount:${ns}:${setup.serviceAccount}`);
  return setup;
}

/** The admin kubeconfig, acting as `user` (Impersonate-User; the apiserver adds the service-account groups). */
function impersonating(user: string): KubeConfig {
  const base = kubeConfig();
  const cluster = base.getCurrentCluster();
  const current = base.getCurrentUser();
  if (!cluster || !current) throw new Error('the kubeconfig has no current cluster or user');
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [cluster],
    users: [{ ...current, name: 'impersonated', impersonateUser: user }],
    contexts: [{ name: 'impersonated', cluster: cluster.name, user: 'impersonated' }],
    currentContext: 'impersonated',
  });
  return kc;
}

async function startAs(s: Setup): Promise<Manager> {
  const m = await startTestOperator(s.config, { kc: s.kc });
  operators.push(m);
  return m;
}

async function stop(m: Manager): Promise<void> {
  await m.stop();
  operators.splice(operators.indexOf(m), 1);
}

const CANARY = { version: '2', uri: 'https://models.example/mnist-cnn/2/model.json', weight: 50 };

describe('with exactly the chart RBAC', () => {
  let s: Setup;
  let operator: Manager;

  beforeAll(async () => {
    s = await applyChartRbac('chart-rbac');
    operator = await startAs(s);
  });

  afterAll(async () => {
    if (operator) await stop(operator);
  });

  test('the operator really is the chart ServiceAccount, which may not read Secrets', async () => {
    const client = new KubeClient(s.kc);
    try {
      const review = await client.request<{ status: { userInfo: { username: string; groups: string[] } } }>('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', {
        body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
      });
      expect(review.status.userInfo.username).toBe(`system:serviceaccount:${s.ns}:${s.serviceAccount}`);
      expect(review.status.userInfo.groups).toContain('system:serviceaccounts');
      const denied = await refusal(() => client.request('GET', `/api/v1/namespaces/${s.ns}/secrets`));
      expect(denied.code).toBe('Forbidden');
    } finally {
      client.close();
    }
  });

  test('it takes the leader Lease in the release namespace under its pod name', async () => {
    await waitFor('the operator to lead', () => operator.isLeader());
    const lease = await admin.get<{ spec: { holderIdentity: string } }>('Lease', s.ns, s.config.leaseName);
    expect(s.config.leaseNamespace).toBe(s.ns);
    expect(lease.spec.holderIdentity).toBe(`${s.release}-pod-0`);
  });

  test('a DigitModel with autoscaling and a Gateway route becomes Ready with all its children', async () => {
    await createDm(admin, s.ns, 'digits', dmSpec({
      replicas: 2,
      autoscaling: { minReplicas: 2, maxReplicas: 4, targetQueueDepth: 4, targetLatencyMs: 250 },
      traffic: { parentRefs: [{ name: 'public-gw', namespace: 'gateways' }] },
    }));
    const dm = await waitReady(admin, s.ns, 'digits');
    expect(dm.status?.readyReplicas).toBe(2);
    expect(condition(dm, 'Degraded')?.status).toBe('False');
    for (const [kind, name] of [
      ['Deployment', 'digits-stable'],
      ['Service', 'digits'],
      ['Service', 'digits-stable'],
      ['HorizontalPodAutoscaler', 'digits'],
      ['PodDisruptionBudget', 'digits'],
      ['HTTPRoute', 'digits'],
    ]) {
      expect(await findChild(admin, kind, s.ns, name)).toBeDefined();
    }
  });

  test('a canary is added, becomes ready, and is removed again', async () => {
    await mergePatch(admin, 'DigitModel', s.ns, 'digits', { spec: { canary: CANARY } });
    const withCanary = await waitFor('the canary to be ready', async () => {
      const dm = await getDm(admin, s.ns, 'digits');
      return dm.status?.observedGeneration === dm.metadata.generation && (dm.status?.canary?.readyReplicas ?? 0) >= 1 && condition(dm, 'Ready')?.status === 'True' ? dm : undefined;
    }, 120_000);
    expect(withCanary.status?.canary?.version).toBe('2');
    expect(await findChild(admin, 'Deployment', s.ns, 'digits-canary')).toBeDefined();

    await mergePatch(admin, 'DigitModel', s.ns, 'digits', { spec: { canary: null } });
    await waitFor('the canary Deployment to be deleted', async () => !(await findChild(admin, 'Deployment', s.ns, 'digits-canary')), 120_000);
    const after = await waitReady(admin, s.ns, 'digits');
    expect(after.status?.canary).toBeUndefined();
    expect(condition(after, 'Degraded')?.status).toBe('False');
  });

  test('canary analysis reads the EndpointSlices of the track Services (endpointslices list)', async () => {
    await createDm(admin, s.ns, 'judged', dmSpec({ replicas: 2, canary: { ...CANARY, weight: 50, analysis: { interval: '1s', failureLimit: 1 } } }));
    // kwok's pods have IPs nothing answers on: once the leader has listed their endpoints, the
    // windows it judges are Inconclusive because the pods' metrics could not be read, and say so
    const dm = await waitFor('a judged window in status.canary.checks', async () => {
      const got = await getDm(admin, s.ns, 'judged');
      return got.status?.canary?.checks?.some((c) => c.verdict === 'Inconclusive' && /metrics unreachable/.test(c.reason ?? '')) ? got : undefined;
    }, 120_000);
    expect(dm.status?.canary).toMatchObject({ phase: 'Progressing', analysisWeight: 50, step: 0, failures: 0 });
    await admin.delete('DigitModel', s.ns, 'judged');
  });

  test('a standby under the same ServiceAccount takes the Lease over when the leader steps down, and reconciles', async () => {
    const standby = await startAs({ ...s, config: { ...s.config, identity: `${s.release}-pod-1` } });
    // taking over needs get and update on the Lease by name: without them the standby never leads
    expect(standby.isLeader()).toBe(false);
    await stop(operator);
    await waitFor('the standby to lead', () => standby.isLeader(), 60_000);
    const lease = await admin.get<{ spec: { holderIdentity: string } }>('Lease', s.ns, s.config.leaseName);
    expect(lease.spec.holderIdentity).toBe(`${s.release}-pod-1`);
    operator = standby;
    await mergePatch(admin, 'DigitModel', s.ns, 'digits', { spec: { model: { version: '3', uri: 'https://models.example/mnist-cnn/3/model.json' } } });
    const dm = await waitFor('version 3 to be rolled out', async () => {
      const got = await waitReady(admin, s.ns, 'digits');
      return got.status?.stable?.version === '3' ? got : undefined;
    }, 120_000);
    expect(condition(dm, 'Degraded')?.status).toBe('False');
  });

  test('it records Events on the DigitModel', async () => {
    type Event = { reason: string; reportingController: string; regarding: { name: string } };
    const events = await waitFor('operator events', async () => {
      const list = await admin.request<{ items: Event[] }>('GET', `/apis/events.k8s.io/v1/namespaces/${s.ns}/events`);
      const ours = list.items.filter((e) => e.regarding.name === 'digits' && e.reportingController === 'digitserve.dev/digitserve-operator');
      return ours.length > 0 ? ours : undefined;
    });
    expect(events.map((e) => e.reason)).toEqual(expect.arrayContaining(['CanaryRemoved']));
  });

  test("it reads the runtime pods' termination messages into Degraded (pods list/watch)", async () => {
    const pods = (await admin.list<Pod>('Pod', s.ns, 'app.kubernetes.io/instance=digits')).items.filter((p) => !p.metadata.deletionTimestamp);
    const victim = pods[0];
    const message = 'MODEL_VERSION "3" contradicts the model; refusing to serve';
    await mergePatch(admin, 'Pod', s.ns, victim.metadata.name, crashLoopStatus(victim, message, new Date().toISOString().replace(/\.\d+Z$/, 'Z')), 'status');
    const dm = await waitFor('Degraded=True RuntimeFailing', async () => {
      const got = await getDm(admin, s.ns, 'digits');
      return condition(got, 'Degraded')?.reason === 'RuntimeFailing' ? got : undefined;
    }, 60_000, 250);
    expect(condition(dm, 'Degraded')?.message).toContain(message);
  });
});

describe('with one verb taken away', () => {
  test.each(['patch', 'create'])('without %s on deployments the DigitModel never converges and reports the refusal', async (verb) => {
    const s = await applyChartRbac(`chart-rbac-no-${verb}`, (objects) => {
      const role = objects.find((m) => m.kind === 'ClusterRole');
      const rule = (role?.rules as Rule[] | undefined)?.find((r) => r.resources.includes('deployments'));
      if (!rule?.verbs.includes(verb)) throw new Error(`the chart ClusterRole grants no ${verb} on deployments to take away`);
      rule.verbs = rule.verbs.filter((v) => v !== verb);
    });
    const operator = await startAs(s);
    try {
      await createDm(admin, s.ns, 'digits', dmSpec({ replicas: 1 }));
      const dm = await waitFor('the DigitModel to report Degraded', async () => {
        const got = await getDm(admin, s.ns, 'digits');
        return condition(got, 'Degraded')?.status === 'True' ? got : undefined;
      }, 120_000);
      const degraded = condition(dm, 'Degraded');
      expect(degraded?.reason).toBe('ReconcileError');
      expect(degraded?.message).toContain(`cannot ${verb} resource "deployments"`);
      expect(condition(dm, 'Ready')?.status).not.toBe('True');
      expect(await findChild(admin, 'Deployment', s.ns, 'digits-stable')).toBeUndefined();
      // the other children are written: the failure is that one verb, not a broken setup
      expect(await findChild(admin, 'Service', s.ns, 'digits')).toBeDefined();
    } finally {
      await stop(operator);
    }
  });
});
