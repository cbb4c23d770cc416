import { ApiextensionsV1Api, AutoscalingV2Api, CustomObjectsApi, type V1CustomResourceDefinition } from '@kubernetes/client-node';
import { createNamespace, deleteNamespace, gone, kubeConfig, waitFor } from './support.js';

const kc = kubeConfig();
const ext = kc.makeApiClient(ApiextensionsV1Api);
const custom = kc.makeApiClient(CustomObjectsApi);
const hpa = kc.makeApiClient(AutoscalingV2Api);

const group = 'scaletest.digitserve.dev';
const version = 'v1';
const plural = 'widgets';
const crdName = `${plural}.${group}`;
let ns: string;

const crd: V1CustomResourceDefinition = {
  metadata: { name: crdName },
  spec: {
    group,
    names: { kind: 'Widget', plural, singular: 'widget', listKind: 'WidgetList' },
    scope: 'Namespaced',
    versions: [{
      name: version,
      served: true,
      storage: true,
      subresources: {
        status: {},
        scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.status.selector' },
      },
      schema: {
        openAPIV3Schema: {
          type: 'object',
          properties: {
            spec: { type: 'object', properties: { replicas: { type: 'integer', minimum: 0 } } },
            status: { type: 'object', properties: { replicas: { type: 'integer' }, selector: { type: 'string' } } },
          },
        },
      },
    }],
  },
};

beforeAll(async () => {
  await ext.createCustomResourceDefinition({ body: crd });
  await waitFor('the CRD to be established', async () => {
    const got = await ext.readCustomResourceDefinition({ name: crdName });
    return got.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
  });
  // the REST endpoint may trail the Established condition by a moment
  await waitFor('widgets to be served', () => custom.listClusterCustomObject({ group, version, plural }));
  ns = await createNamespace(kc, 'scale');
});

afterAll(async () => {
  if (ns) await deleteNamespace(kc, ns);
  await ext.deleteCustomResourceDefinition({ name: crdName });
  await waitFor('the CRD to be gone', () => gone(() => ext.readCustomResourceDefinition({ name: crdName })));
});

const widget = (name: string, replicas: number) => ({ apiVersion: `${group}/${version}`, kind: 'Widget', metadata: { name }, spec: { replicas } });
const scaleOf = (name: string) => custom.getNamespacedCustomObjectScale({ group, version, namespace: ns, plural, name }) as Promise<{ spec?: { replicas?: number }; status?: { replicas?: number } }>;
const replicasOf = async (name: string) => ((await custom.getNamespacedCustomObject({ group, version, namespace: ns, plural, name })) as { spec: { replicas: number } }).spec.replicas;

test('a custom resource with a scale subresource is read and scaled through /scale', async () => {
  await custom.createNamespacedCustomObject({ group, version, namespace: ns, plural, body: widget('w1', 1) });
  const before = await scaleOf('w1');
  expect(before.spec?.replicas).toBe(1);

  await custom.replaceNamespacedCustomObjectScale({
    group, version, namespace: ns, plural, name: 'w1',
    body: { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: 'w1', namespace: ns }, spec: { replicas: 4 } },
  });

  expect(await replicasOf('w1')).toBe(4);
  expect((await scaleOf('w1')).spec?.replicas).toBe(4);
});

test('the HPA controller scales a custom resource up to minReplicas through /scale', async () => {
  await custom.createNamespacedCustomObject({ group, version, namespace: ns, plural, body: widget('w2', 1) });
  await hpa.createNamespacedHorizontalPodAutoscaler({
    namespace: ns,
    body: {
      metadata: { name: 'w2' },
      spec: {
        scaleTargetRef: { apiVersion: `${group}/${version}`, kind: 'Widget', name: 'w2' },
        minReplicas: 3,
        maxReplicas: 5,
        metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }],
      },
    },
  });
  // below minReplicas the controller rescales without needing metrics
  await waitFor('the HPA to raise spec.replicas to 3', async () => (await replicasOf('w2')) === 3, 150_000);
  const status = await waitFor('the HPA status', async () => (await hpa.readNamespacedHorizontalPodAutoscaler({ namespace: ns, name: 'w2' })).status);
  expect(status.desiredReplicas).toBe(3);
}, 180_000);
