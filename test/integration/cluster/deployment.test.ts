import { AppsV1Api, CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { createNamespace, deleteNamespace, kubeConfig, waitFor } from './support.js';

const kc = kubeConfig();
const apps = kc.makeApiClient(AppsV1Api);
const core = kc.makeApiClient(CoreV1Api);
let ns: string;

beforeAll(async () => {
  ns = await createNamespace(kc, 'deploy');
});
afterAll(async () => {
  await deleteNamespace(kc, ns);
});

const isReady = (p: V1Pod) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

test('a Deployment gets a ReplicaSet whose pods are scheduled onto kwok nodes and become Running and Ready', async () => {
  const labels = { app: 'web' };
  await apps.createNamespacedDeployment({
    namespace: ns,
    body: {
      metadata: { name: 'web' },
      spec: {
        replicas: 3,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            // a readiness gate: the pod counts as Ready only once this condition is True too
            readinessGates: [{ conditionType: 'digitserve.dev/warmed-up' }],
            containers: [{ name: 'web', image: 'registry.invalid/web:1', ports: [{ containerPort: 8080 }] }],
          },
        },
      },
    },
  });

  const deployment = await waitFor('3 ready replicas', async () => {
    const d = await apps.readNamespacedDeployment({ namespace: ns, name: 'web' });
    return d.status?.readyReplicas === 3 && d.status.availableReplicas === 3 ? d : undefined;
  });
  expect(deployment.status?.replicas).toBe(3);

  const replicaSets = await apps.listNamespacedReplicaSet({ namespace: ns, labelSelector: 'app=web' });
  expect(replicaSets.items).toHaveLength(1);
  expect(replicaSets.items[0].metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'Deployment', name: 'web', controller: true });

  const pods = (await core.listNamespacedPod({ namespace: ns, labelSelector: 'app=web' })).items;
  expect(pods).toHaveLength(3);
  for (const pod of pods) {
    expect(pod.spec?.nodeName).toMatch(/^kwok-node-\d$/);
    expect(pod.status?.phase).toBe('Running');
    expect(isReady(pod)).toBe(true);
    expect(pod.status?.conditions).toContainEqual(expect.objectContaining({ type: 'digitserve.dev/warmed-up', status: 'True' }));
    expect(pod.status?.podIP).toBeTruthy();
  }
});

test('scaling the Deployment down removes pods', async () => {
  await apps.replaceNamespacedDeploymentScale({
    namespace: ns,
    name: 'web',
    body: { metadata: { name: 'web', namespace: ns }, spec: { replicas: 1 } },
  });
  await waitFor('1 pod left', async () => (await core.listNamespacedPod({ namespace: ns, labelSelector: 'app=web' })).items.length === 1);
  await waitFor('1 ready replica', async () => (await apps.readNamespacedDeployment({ namespace: ns, name: 'web' })).status?.readyReplicas === 1);
});
