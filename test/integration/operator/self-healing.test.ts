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
  ns = await createNamespace(client, 'dm-heal');
  operator = await startTestOperator(testConfig([ns]));
  await createDm(client, ns, 'heal', dmSpec({ replicas: 2, canary: { version: '2', uri: 'https://models.example/mnist-cnn/2/model.json', weight: 50 } }));
  await waitReady(client, ns, 'heal');
});

afterAll(async () => {
  await operator?.stop();
  await deleteNamespace(client, ns);
  client?.close();
});

describe('children edited or deleted by hand', () => {
  it('reverts a manual edit of the fields the operator sets', async () => {
    await mergePatch(client, 'Deployment', ns, 'heal-stable', {
      metadata: { labels: { 'digitserve.dev/track': 'hacked' } },
      spec: { replicas: 7 },
    });
    await waitFor('the edit to be reverted', async () => {
      const d = (await findChild<DeploymentView>(client, 'Deployment', ns, 'heal-stable'))!;
      return d.spec.replicas === 1 && d.metadata.labels?.['digitserve.dev/track'] === 'stable';
    });
    await mergePatch(client, 'Service', ns, 'heal', { spec: { ports: [{ name: 'http', port: 80, targetPort: 9999, protocol: 'TCP' }] } });
    await waitFor('the Service ports to be restored', async () => {
      const s = await findChild<{ spec: { ports: { name: string; port: number; targetPort: number }[] } }>(client, 'Service', ns, 'heal');
      const port = (name: string) => s?.spec.ports.find((p) => p.name === name);
      return s?.spec.ports.length === 2 && port('http')?.port === 80 && port('http')?.targetPort === 8080 && port('grpc')?.port === 8081 && port('grpc')?.targetPort === 8081;
    });
  });

  it('leaves fields it does not set alone', async () => {
    await mergePatch(client, 'Service', ns, 'heal-stable', { metadata: { annotations: { 'team.example/owner': 'mail' } } });
    await new Promise((r) => setTimeout(r, 3000));
    const s = await findChild(client, 'Service', ns, 'heal-stable');
    expect(s?.metadata.annotations?.['team.example/owner']).toBe('mail');
  });

  it('recreates a deleted child', async () => {
    for (const [kind, name] of [
      ['Service', 'heal-canary'],
      ['PodDisruptionBudget', 'heal'],
      ['Deployment', 'heal-canary'],
    ]) {
      const old = (await findChild(client, kind, ns, name))!;
      await client.delete(kind, ns, name);
      const again = await waitFor(`${kind} ${name} to come back`, async () => {
        const o = await findChild(client, kind, ns, name);
        return o && o.metadata.uid !== old.metadata.uid && !o.metadata.deletionTimestamp ? o : undefined;
      });
      expect(again.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'DigitModel', name: 'heal', controller: true });
    }
    await waitReady(client, ns, 'heal');
  });
});
