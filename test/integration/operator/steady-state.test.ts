import { jest } from '@jest/globals';
import type { KubeClient } from '../../../operator/kube/client.js';
import type { Manager } from '../../../operator/manager.js';
import {
  createDm,
  createNamespace,
  deleteNamespace,
  dmSpec,
  findChild,
  installCrd,
  startTestOperator,
  testClient,
  testConfig,
  waitFor,
  waitReady,
} from './support/harness.js';

/** Length of the observation window; SPEC says a minute, the default keeps `npm test` shorter. */
const WINDOW_MS = Number(process.env.STEADY_STATE_WINDOW_MS ?? 30_000);
jest.setTimeout(WINDOW_MS + 180_000);

let client: KubeClient;
let ns: string;
let operator: Manager;

beforeAll(async () => {
  client = testClient();
  await installCrd(client);
  ns = await createNamespace(client, 'dm-steady');
  // a 5 s resync makes the operator reconcile everything repeatedly during the window
  operator = await startTestOperator(testConfig([ns], { resyncSeconds: 5 }));
});

afterAll(async () => {
  await operator?.stop();
  await deleteNamespace(client, ns);
  client?.close();
});

async function resourceVersions(): Promise<Map<string, string>> {
  const rv = new Map<string, string>();
  for (const kind of ['DigitModel', 'Deployment', 'Service', 'PodDisruptionBudget', 'HorizontalPodAutoscaler', 'HTTPRoute']) {
    for (const o of (await client.list(kind, ns)).items) rv.set(`${kind}/${o.metadata.name}`, o.metadata.resourceVersion ?? '');
  }
  return rv;
}

async function reconciles(): Promise<number> {
  const m = await operator.metrics.reconcileTotal.get();
  return m.values.reduce((n, v) => n + v.value, 0);
}

describe('steady state', () => {
  it('changes no resourceVersion and makes no API write while nothing changes', async () => {
    await createDm(client, ns, 'plain', dmSpec({ replicas: 2 }));
    await createDm(client, ns, 'full', dmSpec({
      replicas: 4,
      model: { name: 'mnist-cnn', version: '1', uri: 'https://models.example/mnist-cnn/1/model.json', sha256: 'f'.repeat(64), authSecretRef: { name: 'models', key: 'auth' } },
      canary: { version: '2', uri: 'https://models.example/mnist-cnn/2/model.json', weight: 25 },
      inference: { samples: 30, reliabilityThreshold: 0.8 },
      resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
      autoscaling: { minReplicas: 2, maxReplicas: 8, targetQueueDepth: 4, targetLatencyMs: 250 },
      traffic: { parentRefs: [{ name: 'gw', namespace: 'gateways' }] },
    }));
    // quantities as a user may spell them, which the apiserver stores respelled in its canonical
    // form ("500m", "512Mi", "1500m", "1536Mi"): still no write (#15 item 6)
    await createDm(client, ns, 'spelled', dmSpec({
      replicas: 1,
      resources: { requests: { cpu: '0.5', memory: '0.5Gi' }, limits: { cpu: '1.5', memory: '1.5Gi' } },
    }));
    await waitReady(client, ns, 'plain');
    await waitReady(client, ns, 'full');
    await waitReady(client, ns, 'spelled');
    const stored = await findChild<{ spec: { template: { spec: { containers: { resources: unknown }[] } } } }>(client, 'Deployment', ns, 'spelled-stable');
    expect(stored?.spec.template.spec.containers[0].resources).toEqual({ requests: { cpu: '500m', memory: '512Mi' }, limits: { cpu: '1500m', memory: '1536Mi' } });
    // settle: other controllers finish their first passes too — the HPA controller writes its first
    // status some 15-30 s after creation, and on a plane whose CRD was just installed its first
    // statuses say FailedGetScale until its discovery knows DigitModels (then it writes again) —
    // then wait for two identical snapshots 5 s apart
    await waitFor('the HPA controller to have resolved the HPA’s scale target', async () => {
      const hpa = await findChild<{ status?: { conditions?: { type: string; status: string }[] } }>(client, 'HorizontalPodAutoscaler', ns, 'full');
      return hpa?.status?.conditions?.some((c) => c.type === 'AbleToScale' && c.status === 'True');
    }, 120_000, 1000);
    let previous = '';
    await waitFor('the namespace to settle', async () => {
      const snapshot = JSON.stringify([...(await resourceVersions())]) + (await operator.metrics.apiWrites());
      const settled = snapshot === previous;
      previous = snapshot;
      return settled;
    }, 120_000, 5000);

    const rvBefore = await resourceVersions();
    const writesBefore = await operator.metrics.apiWrites();
    const reconcilesBefore = await reconciles();
    await new Promise((r) => setTimeout(r, WINDOW_MS));
    const rvAfter = await resourceVersions();

    expect(await reconciles()).toBeGreaterThan(reconcilesBefore); // the resyncs did run
    expect(await operator.metrics.apiWrites()).toBe(writesBefore);
    const changed = [...rvBefore].filter(([k, v]) => rvAfter.get(k) !== v).map(([k]) => k);
    expect(changed).toEqual([]);
    expect(rvAfter.size).toBe(rvBefore.size);
    expect(rvBefore.size).toBeGreaterThanOrEqual(16);
  });
});
