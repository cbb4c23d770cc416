import { jest } from '@jest/globals';
import type { KubeClient } from '../../../operator/kube/client.js';
import type { Manager } from '../../../operator/manager.js';
import {
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
  waitFor,
  waitReady,
  type DeploymentView,
} from './support/harness.js';

jest.setTimeout(180_000);

let client: KubeClient;
let ns: string;
let operator: Manager;

beforeAll(async () => {
  client = testClient();
  await installCrd(client);
  ns = await createNamespace(client, 'dm-lifecycle');
  operator = await startTestOperator(testConfig([ns]));
});

afterAll(async () => {
  await operator?.stop();
  await deleteNamespace(client, ns);
  client?.close();
});

const replicasOf = async (name: string) => (await findChild<DeploymentView>(client, 'Deployment', ns, name))?.spec.replicas;

describe('a DigitModel in, its children out', () => {
  it('creates every child with a controller owner reference and turns Ready with correct counts', async () => {
    const dm = await createDm(client, ns, 'digits', dmSpec({ replicas: 4, canary: { version: '2', uri: 'https://models.example/mnist-cnn/2/model.json', weight: 10 } }));
    const ready = await waitReady(client, ns, 'digits');
    for (const [kind, name] of [
      ['Deployment', 'digits-stable'],
      ['Deployment', 'digits-canary'],
      ['Service', 'digits'],
      ['Service', 'digits-stable'],
      ['Service', 'digits-canary'],
      ['PodDisruptionBudget', 'digits'],
    ]) {
      const child = await findChild(client, kind, ns, name);
      expect(child?.metadata.ownerReferences).toEqual([
        { apiVersion: 'digitserve.dev/v1alpha1', kind: 'DigitModel', name: 'digits', uid: dm.metadata.uid, controller: true, blockOwnerDeletion: true },
      ]);
      expect(child?.metadata.labels?.['app.kubernetes.io/managed-by']).toBe('digitserve-operator');
    }
    expect(ready.status).toMatchObject({
      replicas: 4,
      readyReplicas: 4,
      selector: 'app.kubernetes.io/instance=digits,app.kubernetes.io/name=digitserve-runtime',
      url: `http://digits.${ns}.svc.cluster.local`,
      stable: { version: '1', replicas: 3, readyReplicas: 3 },
      canary: { version: '2', weight: 10, effectiveWeight: 25, replicas: 1, readyReplicas: 1 },
    });
    const pods = await client.list<{ metadata: { labels: Record<string, string> }; status: { phase: string } }>('Pod', ns, 'app.kubernetes.io/instance=digits');
    expect(pods.items.filter((p) => p.status.phase === 'Running')).toHaveLength(4);
    expect(pods.items.map((p) => p.metadata.labels['digitserve.dev/model-version']).sort()).toEqual(['1', '1', '1', '2']);
  });

  it('shows version, canary, weight, replicas and ready in `kubectl get dm`', async () => {
    await waitReady(client, ns, 'digits');
    // what kubectl asks for: the server-side Table rendering with the CRD's printer columns
    const raw = await rawTable(client, `/apis/digitserve.dev/v1alpha1/namespaces/${ns}/digitmodels`);
    expect(raw.columnDefinitions.map((c) => c.name)).toEqual(['Name', 'Version', 'Canary', 'Weight', 'Replicas', 'Ready', 'Phase', 'Analysis', 'Age']);
    expect(raw.rows[0].cells.slice(0, 6)).toEqual(['digits', '1', '2', 10, 4, 4]);
  });

  it('scales through /scale: 5 replicas at canary weight 20 become 4 stable + 1 canary', async () => {
    await mergePatch(client, 'DigitModel', ns, 'digits', { spec: { canary: { weight: 20 } } });
    await mergePatch(client, 'DigitModel', ns, 'digits', { spec: { replicas: 5 } }, 'scale');
    await waitFor('4 + 1', async () => (await replicasOf('digits-stable')) === 4 && (await replicasOf('digits-canary')) === 1);
    const scale = await client.request<{ spec: { replicas: number }; status: { replicas: number; selector: string } }>(
      'GET',
      `/apis/digitserve.dev/v1alpha1/namespaces/${ns}/digitmodels/digits/scale`,
    );
    expect(scale.spec.replicas).toBe(5);
    const ready = await waitReady(client, ns, 'digits');
    expect(ready.status?.canary).toMatchObject({ weight: 20, replicas: 1, effectiveWeight: 20 });
    expect(ready.status?.readyReplicas).toBe(5);
  });

  it('re-splits when the weight changes', async () => {
    await mergePatch(client, 'DigitModel', ns, 'digits', { spec: { canary: { weight: 50 } } });
    await waitFor('2 + 3', async () => (await replicasOf('digits-stable')) === 2 && (await replicasOf('digits-canary')) === 3);
    const ready = await waitReady(client, ns, 'digits');
    expect(ready.status?.canary).toMatchObject({ weight: 50, replicas: 3, readyReplicas: 3, effectiveWeight: 60 });
  });

  it('deletes the canary Deployment and Service when spec.canary is removed, and gives stable all replicas', async () => {
    await mergePatch(client, 'DigitModel', ns, 'digits', { spec: { canary: null } });
    await waitFor('the canary children to go', async () => !(await findChild(client, 'Deployment', ns, 'digits-canary')) && !(await findChild(client, 'Service', ns, 'digits-canary')));
    await waitFor('stable to own all 5 replicas', async () => (await replicasOf('digits-stable')) === 5);
    const ready = await waitReady(client, ns, 'digits');
    expect(ready.status?.canary).toBeUndefined();
  });

  it('creates the HPA and HTTPRoute only while their sections are set', async () => {
    await mergePatch(client, 'DigitModel', ns, 'digits', { spec: { autoscaling: { minReplicas: 2, maxReplicas: 8, targetQueueDepth: 4, targetLatencyMs: 250 } } });
    type Hpa = { spec: { scaleTargetRef: unknown; metrics: unknown[]; behavior?: { scaleDown?: { stabilizationWindowSeconds?: number } } } };
    const hpa = await waitFor('the HPA', () => findChild<Hpa>(client, 'HorizontalPodAutoscaler', ns, 'digits'));
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'digitserve.dev/v1alpha1', kind: 'DigitModel', name: 'digits' });
    expect(hpa.spec.metrics).toHaveLength(2);
    expect(hpa.spec.behavior?.scaleDown?.stabilizationWindowSeconds).toBe(300);
    // the window is the user's to set; the apiserver's HPA validation accepts the CRD's whole range
    for (const seconds of [3600, 0]) {
      await mergePatch(client, 'DigitModel', ns, 'digits', { spec: { autoscaling: { scaleDownStabilizationSeconds: seconds } } });
      await waitFor(`the HPA's scale-down window to be ${seconds} s`, async () =>
        (await findChild<Hpa>(client, 'HorizontalPodAutoscaler', ns, 'digits'))?.spec.behavior?.scaleDown?.stabilizationWindowSeconds === seconds);
    }
    await mergePatch(client, 'DigitModel', ns, 'digits', { spec: { autoscaling: null } });
    await waitFor('the HPA to go', async () => !(await findChild(client, 'HorizontalPodAutoscaler', ns, 'digits')));

    const gatewayApi = await client.request('GET', '/apis/gateway.networking.k8s.io/v1').then(() => true, () => false);
    expect(gatewayApi).toBe(true); // cluster:up installs the Gateway API CRDs
    await mergePatch(client, 'DigitModel', ns, 'digits', {
      spec: { traffic: { parentRefs: [{ name: 'public-gw', namespace: 'gateways' }] }, canary: { version: '2', uri: 'https://models.example/mnist-cnn/2/model.json', weight: 30 } },
    });
    type Route = { spec: { rules: { backendRefs: { name: string; weight: number }[] }[] } };
    const weights = async () => (await findChild<Route>(client, 'HTTPRoute', ns, 'digits'))?.spec.rules[0].backendRefs.map((b) => `${b.name}=${b.weight}`).join(',');
    await waitFor('exact route weights once the canary is ready', async () => (await weights()) === 'digits-stable=70,digits-canary=30');
    const ready = await waitReady(client, ns, 'digits');
    expect(ready.status?.canary?.effectiveWeight).toBe(30);
    await mergePatch(client, 'DigitModel', ns, 'digits', { spec: { traffic: null } });
    await waitFor('the HTTPRoute to go', async () => !(await findChild(client, 'HTTPRoute', ns, 'digits')));
  });

  it('garbage-collects every child when the DigitModel is deleted', async () => {
    const dm = await getDm(client, ns, 'digits');
    await client.delete('DigitModel', ns, 'digits');
    await waitFor('the children to be collected', async () => {
      const owned = [];
      for (const kind of ['Deployment', 'Service', 'PodDisruptionBudget', 'HorizontalPodAutoscaler', 'HTTPRoute']) {
        const list = await client.list(kind, ns);
        owned.push(...list.items.filter((o) => o.metadata.ownerReferences?.some((r) => r.uid === dm.metadata.uid)));
      }
      return owned.length === 0;
    }, 90_000);
  });
});

async function rawTable(client: KubeClient, path: string): Promise<{ columnDefinitions: { name: string }[]; rows: { cells: unknown[] }[] }> {
  return client.request('GET', path, { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' });
}
