import { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import { createNamespace, deleteNamespace, gone, kubeConfig, waitFor } from './support.js';

const kc = kubeConfig();
const core = kc.makeApiClient(CoreV1Api);
const apps = kc.makeApiClient(AppsV1Api);
let ns: string;

beforeAll(async () => {
  ns = await createNamespace(kc, 'gc');
});
afterAll(async () => {
  await deleteNamespace(kc, ns);
});

test('deleting an owner garbage-collects the objects that name it in ownerReferences', async () => {
  const owner = await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'owner' }, data: { role: 'owner' } } });
  const ownerReferences = [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata!.uid! }];
  for (const name of ['child-a', 'child-b']) {
    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name, ownerReferences }, data: { role: 'child' } } });
  }
  await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'bystander' }, data: { role: 'none' } } });

  await core.deleteNamespacedConfigMap({ namespace: ns, name: 'owner', propagationPolicy: 'Background' });

  for (const name of ['child-a', 'child-b']) {
    await waitFor(`${name} to be collected`, () => gone(() => core.readNamespacedConfigMap({ namespace: ns, name })));
  }
  await expect(core.readNamespacedConfigMap({ namespace: ns, name: 'bystander' })).resolves.toBeDefined();
});

test('foreground deletion of a Deployment removes its ReplicaSet and pods first', async () => {
  const labels = { app: 'doomed' };
  await apps.createNamespacedDeployment({
    namespace: ns,
    body: {
      metadata: { name: 'doomed' },
      spec: { replicas: 2, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: 'c', image: 'registry.invalid/c:1' }] } } },
    },
  });
  await waitFor('2 pods', async () => (await core.listNamespacedPod({ namespace: ns, labelSelector: 'app=doomed' })).items.length === 2);

  await apps.deleteNamespacedDeployment({ namespace: ns, name: 'doomed', propagationPolicy: 'Foreground' });

  await waitFor('the Deployment to be gone', () => gone(() => apps.readNamespacedDeployment({ namespace: ns, name: 'doomed' })));
  expect((await apps.listNamespacedReplicaSet({ namespace: ns, labelSelector: 'app=doomed' })).items).toHaveLength(0);
  await waitFor('its pods to be gone', async () => (await core.listNamespacedPod({ namespace: ns, labelSelector: 'app=doomed' })).items.length === 0);
});
