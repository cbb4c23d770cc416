import { jest } from '@jest/globals';
import type { KubeClient } from '../../../operator/kube/client.js';
import type { Manager } from '../../../operator/manager.js';
import {
  condition,
  createDm,
  createNamespace,
  deleteNamespace,
  dmSpec,
  getDm,
  installCrd,
  mergePatch,
  startTestOperator,
  testClient,
  testConfig,
  waitFor,
  waitReady,
} from './support/harness.js';
import { crashLoopStatus, type Pod } from './support/pod-status.js';

/**
 * #15 item 12, operator side: a runtime that refuses to start (its MODEL_VERSION contradicts the
 * model) exits with a termination message; the operator reads the track's pods and puts that
 * message into the Degraded condition. kwok's fake pods run no container, so the test writes the
 * status a kubelet would: the runtime container terminated with exit code 1 and the message,
 * waiting in CrashLoopBackOff, not ready.
 */

jest.setTimeout(180_000);

let client: KubeClient;
let ns: string;
let operator: Manager;

beforeAll(async () => {
  client = testClient();
  await installCrd(client);
  ns = await createNamespace(client, 'dm-pod-failures');
  operator = await startTestOperator(testConfig([ns]));
});

afterAll(async () => {
  await operator?.stop();
  await deleteNamespace(client, ns);
  client?.close();
});

const REFUSAL = 'MODEL_VERSION "2" contradicts the model at https://models.example/mnist-cnn/2/model.json (its metadata says version "1"); refusing to serve';

describe('a runtime that refuses to start', () => {
  it("puts the pod's termination message into Degraded, and clears it once the pods serve", async () => {
    await createDm(client, ns, 'contradicted', dmSpec({ replicas: 2 }));
    await waitReady(client, ns, 'contradicted');
    const pods = (await client.list<Pod>('Pod', ns, 'app.kubernetes.io/instance=contradicted')).items;
    expect(pods).toHaveLength(2);
    const victim = pods[0];
    await mergePatch(client, 'Pod', ns, victim.metadata.name, crashLoopStatus(victim, REFUSAL, new Date().toISOString().replace(/\.\d+Z$/, 'Z')), 'status');

    const degraded = await waitFor('Degraded=True with the termination message', async () => {
      const dm = await getDm(client, ns, 'contradicted');
      return condition(dm, 'Degraded')?.status === 'True' ? dm : undefined;
    }, 60_000, 200);
    expect(condition(degraded, 'Degraded')).toMatchObject({ reason: 'RuntimeFailing' });
    expect(condition(degraded, 'Degraded')?.message).toBe(`stable pod ${victim.metadata.name} (version 1): exited 1: ${REFUSAL}`);
    // the Deployment controller counts the pod out a moment later
    await waitFor('the failing pod to be counted unready', async () => (await getDm(client, ns, 'contradicted')).status?.readyReplicas === 1, 60_000, 200);
    const event = await waitFor('a RuntimeFailing event', async () => {
      const list = await client.list<{ reason: string; type: string; note?: string; regarding: { name: string } }>('Event', ns);
      return list.items.find((e) => e.regarding?.name === 'contradicted' && e.reason === 'RuntimeFailing');
    });
    expect(event.type).toBe('Warning');
    expect(event.note).toContain(REFUSAL);

    // the pod is replaced (as after a fixed spec): the failure goes with it
    await client.delete('Pod', ns, victim.metadata.name);
    const recovered = await waitFor('Degraded=False', async () => {
      const dm = await getDm(client, ns, 'contradicted');
      return condition(dm, 'Degraded')?.status === 'False' && dm.status?.readyReplicas === 2 ? dm : undefined;
    }, 120_000, 500);
    expect(condition(recovered, 'Degraded')).toMatchObject({ reason: 'AsExpected' });
  });
});
