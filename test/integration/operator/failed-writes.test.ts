import { jest } from '@jest/globals';
import type { KubeClient } from '../../../operator/kube/client.js';
import { resourcePath } from '../../../operator/kube/resources.js';
import type { Manager } from '../../../operator/manager.js';
import {
  condition,
  createDm,
  createNamespace,
  deleteNamespace,
  dmSpec,
  getDm,
  installCrd,
  isKubeError,
  mergePatch,
  startTestOperator,
  testClient,
  testConfig,
  waitFor,
  waitReady,
} from './support/harness.js';

/**
 * #15 item 1: one refused child write while every pod is ready must not report an outage. The
 * apiserver itself refuses the write, through a ValidatingAdmissionPolicy (built into
 * kube-apiserver) that denies setting a Deployment's revisionHistoryLimit back to 3 — what the
 * operator does after a hand edit — in this test's namespace only.
 */

jest.setTimeout(240_000);

const VAP = '/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies';
const VAPB = '/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings';

let client: KubeClient;
let ns: string;
let operator: Manager;
let policy: string;

beforeAll(async () => {
  client = testClient();
  await installCrd(client);
  ns = await createNamespace(client, 'dm-failed-write');
  policy = `digitserve-test-${ns}`;
  operator = await startTestOperator(testConfig([ns]));
});

async function removePolicy(): Promise<void> {
  for (const path of [`${VAPB}/${policy}`, `${VAP}/${policy}`]) {
    await client.request('DELETE', path).catch((err: unknown) => {
      if (!isKubeError(err, 'NotFound')) throw err;
    });
  }
}

afterAll(async () => {
  await removePolicy();
  await operator?.stop();
  await deleteNamespace(client, ns);
  client?.close();
});

type Event = { reason: string; type: string; note?: string; regarding: { name: string } };
const eventsFor = async (name: string) => (await client.list<Event>('Event', ns)).items.filter((e) => e.regarding?.name === name);

describe('a failed child write', () => {
  it('keeps the last known counts and Ready, reports Degraded with an Event, and starts no rollout', async () => {
    await createDm(client, ns, 'steady', dmSpec({ replicas: 4 }));
    const ready = await waitReady(client, ns, 'steady');
    expect(ready.status).toMatchObject({ replicas: 4, readyReplicas: 4 });
    const rolloutsBefore = (await eventsFor('steady')).filter((e) => e.reason === 'RolloutStarted').length;

    await client.request('POST', VAP, {
      body: {
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'ValidatingAdmissionPolicy',
        metadata: { name: policy },
        spec: {
          failurePolicy: 'Fail',
          matchConstraints: { resourceRules: [{ apiGroups: ['apps'], apiVersions: ['v1'], operations: ['UPDATE'], resources: ['deployments'] }] },
          validations: [
            {
              expression: 'object.spec.revisionHistoryLimit != 3 || oldObject.spec.revisionHistoryLimit == 3',
              message: 'test policy: revisionHistoryLimit may not go back to 3',
            },
          ],
        },
      },
    });
    await client.request('POST', VAPB, {
      body: {
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: 'ValidatingAdmissionPolicyBinding',
        metadata: { name: policy },
        spec: { policyName: policy, validationActions: ['Deny'], matchResources: { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns } } } },
      },
    });
    // a Deployment of nobody's proves the policy is in force before the operator's Deployment is touched
    await client.create({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'policy-probe', namespace: ns },
      spec: {
        replicas: 0,
        revisionHistoryLimit: 5,
        selector: { matchLabels: { app: 'policy-probe' } },
        template: { metadata: { labels: { app: 'policy-probe' } }, spec: { containers: [{ name: 'c', image: 'example.test/none:1' }] } },
      },
    });
    await waitFor('the admission policy to refuse writes', async () => {
      try {
        await client.request('PATCH', resourcePath('Deployment', ns, 'policy-probe'), {
          query: { dryRun: 'All' },
          body: { spec: { revisionHistoryLimit: 3 } },
          contentType: 'application/merge-patch+json',
        });
        return false;
      } catch (err) {
        return isKubeError(err, 'Invalid') || isKubeError(err, 'Forbidden');
      }
    }, 60_000, 500);

    // a hand edit the operator reverts — and the apiserver refuses the revert
    await mergePatch(client, 'Deployment', ns, 'steady-stable', { spec: { revisionHistoryLimit: 5 } });
    const degraded = await waitFor('Degraded=True', async () => {
      const dm = await getDm(client, ns, 'steady');
      return condition(dm, 'Degraded')?.status === 'True' ? dm : undefined;
    }, 60_000, 200);
    expect(condition(degraded, 'Degraded')).toMatchObject({ reason: 'ReconcileError' });
    expect(condition(degraded, 'Degraded')?.message).toMatch(/steady-stable.*revisionHistoryLimit may not go back to 3/);
    expect(degraded.status).toMatchObject({ replicas: 4, readyReplicas: 4, stable: { version: '1', replicas: 4, readyReplicas: 4 } });
    expect(condition(degraded, 'Ready')).toMatchObject({ status: 'True', reason: 'AllTracksAvailable' });
    expect(condition(degraded, 'Progressing')).toMatchObject({ status: 'False', reason: 'RolloutComplete' });
    const warning = await waitFor('a ReconcileFailed event', async () => (await eventsFor('steady')).find((e) => e.reason === 'ReconcileFailed'));
    expect(warning.type).toBe('Warning');

    // the retries keep failing meanwhile; none of them reports an outage either
    for (let i = 0; i < 10; i++) {
      const dm = await getDm(client, ns, 'steady');
      expect(dm.status).toMatchObject({ replicas: 4, readyReplicas: 4 });
      expect(condition(dm, 'Ready')?.status).toBe('True');
      await new Promise((r) => setTimeout(r, 300));
    }

    await removePolicy();
    const recovered = await waitFor('recovery', async () => {
      const dm = await getDm(client, ns, 'steady');
      return condition(dm, 'Degraded')?.status === 'False' ? dm : undefined;
    }, 180_000, 500);
    expect(recovered.status).toMatchObject({ replicas: 4, readyReplicas: 4 });
    expect((await eventsFor('steady')).filter((e) => e.reason === 'RolloutStarted').length).toBe(rolloutsBefore);
  });
});
