import { jest } from '@jest/globals';
import type { DigitModel } from '../../../operator/api/types.js';
import type { KubeClient } from '../../../operator/kube/client.js';
import { resourcePath } from '../../../operator/kube/resources.js';
import { createDm, createNamespace, deleteNamespace, dmSpec, findChild, installCrd, isKubeError, testClient, waitFor, waitReady, type DeploymentView } from '../operator/support/harness.js';
import { OperatorProcess, writesOutsideLeadership } from './support.js';

// Concurrent writers: while the operator reconciles, other clients update the same DigitModel
// with optimistic concurrency (409 Conflict when they lose a race, as kubectl edit and other
// controllers do). Whatever the interleaving, the operator ends at the last spec written.
jest.setTimeout(240_000);

let client: KubeClient;
let ns: string;
let op: OperatorProcess;

beforeAll(async () => {
  client = testClient();
  await installCrd(client);
  ns = await createNamespace(client, 'dm-conflict');
  op = await OperatorProcess.start('op-conflict', [ns], ns);
});

afterAll(async () => {
  await op?.stop().catch(() => {});
  await deleteNamespace(client, ns);
  client?.close();
});

/** Read-modify-write with the resourceVersion read (a PUT): true when it landed, false on 409. */
async function updateReplicas(name: string, replicas: number): Promise<boolean> {
  const dm = await client.get<DigitModel>('DigitModel', ns, name);
  dm.spec.replicas = replicas;
  dm.metadata.annotations = { ...(dm.metadata.annotations ?? {}), 'faults.digitserve.dev/writer': String(replicas) };
  try {
    await client.request('PUT', resourcePath('DigitModel', ns, name), { body: dm });
    return true;
  } catch (err) {
    if (isKubeError(err, 'Conflict')) return false;
    throw err;
  }
}

describe('concurrent edits with 409 conflicts', () => {
  it('converges to the last accepted spec, every writer retrying its conflicts', async () => {
    await createDm(client, ns, 'race', dmSpec({ replicas: 1 }));
    let conflicts = 0;
    // three writers racing each other and the operator's own status writes
    await Promise.all(
      [0, 1, 2].map(async (w) => {
        for (let i = 0; i < 8; i++) {
          const target = 1 + ((i * 3 + w) % 4);
          while (!(await updateReplicas('race', target))) conflicts++;
        }
      }),
    );
    expect(conflicts).toBeGreaterThan(0);
    // the spec as the apiserver last accepted it: the state to converge to
    const last = (await client.get<DigitModel>('DigitModel', ns, 'race')).spec.replicas;
    await waitReady(client, ns, 'race', 120_000);
    // Ready can come while a scale-down's surplus pods still count (kubectl's rollout-complete rule:
    // updated ≥ desired, no old replicas): the status converges on the next Deployment status
    const dm = await waitFor('the status to count the last spec\'s replicas', async () => {
      const d = await client.get<DigitModel>('DigitModel', ns, 'race');
      return d.status?.replicas === d.spec.replicas ? d : undefined;
    }, 60_000);
    expect(dm.spec.replicas).toBe(last);
    expect(dm.status?.replicas).toBe(last);
    expect((await findChild<DeploymentView>(client, 'Deployment', ns, 'race-stable'))?.spec.replicas).toBe(last);
    expect(writesOutsideLeadership(op)).toEqual([]);
    expect(op.alive).toBe(true);
  });
});
