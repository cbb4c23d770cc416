import { ApiextensionsV1Api, CoreV1Api, CustomObjectsApi, VersionApi } from '@kubernetes/client-node';
import { createNamespace, deleteNamespace, kubeConfig, waitFor } from './support.js';

const kc = kubeConfig();

test('the API server reports a stamped release version, not a development build', async () => {
  const info = await kc.makeApiClient(VersionApi).getCode();
  expect(info.gitVersion).toMatch(/^v1\.\d+\.\d+$/);
  expect(Number(info.minor)).toBeGreaterThanOrEqual(34);
});

test('two fake nodes are Ready and schedulable', async () => {
  const nodes = (await kc.makeApiClient(CoreV1Api).listNode({ labelSelector: 'type=kwok' })).items;
  expect(nodes.map((n) => n.metadata?.name).sort()).toEqual(['kwok-node-0', 'kwok-node-1']);
  for (const node of nodes) {
    expect(node.spec?.unschedulable).toBeFalsy();
    expect(node.status?.conditions).toContainEqual(expect.objectContaining({ type: 'Ready', status: 'True' }));
  }
});

test('the Gateway API standard channel is installed: an HTTPRoute can be created', async () => {
  const crd = await kc.makeApiClient(ApiextensionsV1Api).readCustomResourceDefinition({ name: 'httproutes.gateway.networking.k8s.io' });
  expect(crd.status?.conditions).toContainEqual(expect.objectContaining({ type: 'Established', status: 'True' }));
  const ns = await createNamespace(kc, 'gw');
  try {
    const custom = kc.makeApiClient(CustomObjectsApi);
    await custom.createNamespacedCustomObject({
      group: 'gateway.networking.k8s.io', version: 'v1', namespace: ns, plural: 'httproutes',
      body: {
        apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'r' },
        spec: { parentRefs: [{ name: 'public-gw' }], rules: [{ backendRefs: [{ name: 'svc', port: 80, weight: 100 }] }] },
      },
    });
    await waitFor('the route to be readable', () => custom.getNamespacedCustomObject({ group: 'gateway.networking.k8s.io', version: 'v1', namespace: ns, plural: 'httproutes', name: 'r' }));
  } finally {
    await deleteNamespace(kc, ns);
  }
});
