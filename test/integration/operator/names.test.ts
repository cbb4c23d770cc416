import { jest } from '@jest/globals';
import type { KubeClient } from '../../../operator/kube/client.js';
import { resourcePath } from '../../../operator/kube/resources.js';
import type { Manager } from '../../../operator/manager.js';
import {
  createDm,
  createNamespace,
  deleteNamespace,
  dmSpec,
  findChild,
  installCrd,
  refusal,
  startTestOperator,
  testClient,
  testConfig,
  waitReady,
} from './support/harness.js';

/**
 * #15 item 4: the CRD admits exactly the names whose children the apiserver accepts. A refused name
 * is refused at admission with a message saying why; an admitted one really reconciles (its
 * Services, Deployments, PDB and HPA are created and it turns Ready).
 */

jest.setTimeout(240_000);

let client: KubeClient;
let ns: string;
let operator: Manager;

beforeAll(async () => {
  client = testClient();
  await installCrd(client);
  ns = await createNamespace(client, 'dm-names');
  operator = await startTestOperator(testConfig([ns]));
});

afterAll(async () => {
  await operator?.stop();
  await deleteNamespace(client, ns);
  client?.close();
});

const canary = { version: '2', uri: 'https://models.example/mnist-cnn/2/model.json', weight: 50 };
const autoscaling = { maxReplicas: 4, targetQueueDepth: 4 };

describe('DigitModel names', () => {
  it.each([
    ['a', 'one character'],
    ['7up', 'a leading digit (Service names may start with one since Kubernetes 1.36)'],
    ['0-9', 'digits and a dash'],
    [`m${'x'.repeat(54)}9`, '56 characters, the longest'],
  ])('admits %s (%s) and reconciles every child', async (name) => {
    await createDm(client, ns, name, dmSpec({ replicas: 2, canary, autoscaling }));
    const dm = await waitReady(client, ns, name, 120_000);
    expect(dm.status?.readyReplicas).toBe(2);
    for (const svc of [name, `${name}-stable`, `${name}-canary`]) expect(await findChild(client, 'Service', ns, svc)).toBeDefined();
    for (const dep of [`${name}-stable`, `${name}-canary`]) expect(await findChild(client, 'Deployment', ns, dep)).toBeDefined();
    expect(await findChild(client, 'PodDisruptionBudget', ns, name)).toBeDefined();
    expect(await findChild(client, 'HorizontalPodAutoscaler', ns, name)).toBeDefined();
  });

  it.each(['a.b', 'mnist.v2', `m${'x'.repeat(40)}.y`])('refuses %s: a dot makes the Service names invalid', async (name) => {
    const err = await refusal(() => createDm(client, ns, name, dmSpec()));
    expect(err.code).toBe('Invalid');
    expect(err.message).toMatch(/metadata\.name must be a DNS-1123 label .*no '\.'.*names the Services <name>, <name>-stable and <name>-canary/);
  });

  it('the refused names are exactly those the apiserver refuses for a Service', async () => {
    // what the rule stands for, checked against the apiserver itself: a dotted Service is refused,
    // a leading digit accepted
    const svc = (name: string) => ({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, namespace: ns },
      spec: { ports: [{ port: 80 }] },
    });
    const dryRunCreate = (name: string) => client.request('POST', resourcePath('Service', ns), { query: { dryRun: 'All' }, body: svc(name) });
    const err = await refusal(() => dryRunCreate('a.b-canary'));
    expect(err.code).toBe('Invalid');
    await dryRunCreate('7up-probe-canary');
  });

  it.each([`m${'x'.repeat(56)}`])('refuses %s: longer than 56 characters', async (name) => {
    const err = await refusal(() => createDm(client, ns, name, dmSpec()));
    expect(err.message).toMatch(/metadata\.name must be at most 56 characters/);
  });
});
