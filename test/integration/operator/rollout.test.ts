import { jest } from '@jest/globals';
import type { KubeClient } from '../../../operator/kube/client.js';
import type { Manager } from '../../../operator/manager.js';
import {
  condition,
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

jest.setTimeout(240_000);

let client: KubeClient;
const namespaces: string[] = [];
let operator: Manager;

beforeAll(async () => {
  client = testClient();
  await installCrd(client);
  for (const p of ['dm-roll', 'dm-promote', 'dm-stuck']) namespaces.push(await createNamespace(client, p));
  // a short progress deadline so a never-ready version is noticed within the test
  operator = await startTestOperator(testConfig(namespaces, { progressDeadlineSeconds: 10 }));
});

afterAll(async () => {
  await operator?.stop();
  for (const ns of namespaces) await deleteNamespace(client, ns);
  client?.close();
});

type Pod = { metadata: { labels: Record<string, string>; deletionTimestamp?: string }; status: { phase: string; conditions?: { type: string; status: string }[] } };
const readyPods = async (ns: string, selector: string) =>
  (await client.list<Pod>('Pod', ns, selector)).items.filter(
    (p) => !p.metadata.deletionTimestamp && p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
  );

function rolledOut(d: DeploymentView & { metadata: { generation?: number }; status?: { observedGeneration?: number } }): boolean {
  const s = d.status ?? {};
  return (s.observedGeneration ?? 0) >= (d.metadata.generation ?? 0) && (s.updatedReplicas ?? 0) >= d.spec.replicas && (s.replicas ?? 0) <= (s.updatedReplicas ?? 0) && (s.availableReplicas ?? 0) >= (s.updatedReplicas ?? 0);
}

describe('rolling out model versions', () => {
  it('rolls the stable Deployment on a version change and reports the new version only once the rollout completed', async () => {
    const ns = namespaces[0];
    await createDm(client, ns, 'roll', dmSpec({ replicas: 3 }));
    const before = await waitReady(client, ns, 'roll');
    expect(before.status?.stable?.version).toBe('1');
    const deploymentUid = (await findChild<DeploymentView>(client, 'Deployment', ns, 'roll-stable'))!.metadata.uid;

    await mergePatch(client, 'DigitModel', ns, 'roll', { spec: { model: { version: '2', uri: 'https://models.example/mnist-cnn/2/model.json' } } });
    let sawOldVersionMidRollout = false;
    await waitFor('status to report version 2', async () => {
      const dm = await getDm(client, ns, 'roll');
      const dep = (await findChild<DeploymentView>(client, 'Deployment', ns, 'roll-stable'))!;
      if (dm.status?.stable?.version === '2') {
        // the Deployment read after the status must show the finished rollout of version 2
        expect(dep.spec.template.metadata.labels['digitserve.dev/model-version']).toBe('2');
        expect(rolledOut(dep)).toBe(true);
        return true;
      }
      if (dep.spec.template.metadata.labels['digitserve.dev/model-version'] === '2' && !rolledOut(dep)) sawOldVersionMidRollout = true;
      expect(dm.status?.stable?.version).toBe('1');
      return false;
    }, 120_000, 100);
    expect(sawOldVersionMidRollout).toBe(true);
    const after = await waitReady(client, ns, 'roll');
    expect(after.status?.stable).toEqual({ version: '2', replicas: 3, readyReplicas: 3 });
    expect((await findChild<DeploymentView>(client, 'Deployment', ns, 'roll-stable'))!.metadata.uid).toBe(deploymentUid);
    const pods = await readyPods(ns, 'app.kubernetes.io/instance=roll');
    expect(pods.map((p) => p.metadata.labels['digitserve.dev/model-version'])).toEqual(['2', '2', '2']);
  });

  it('promotes the canary in one patch: stable runs its version, the canary track disappears', async () => {
    const ns = namespaces[1];
    const canaryUri = 'https://models.example/mnist-cnn/2/model.json';
    await createDm(client, ns, 'promo', dmSpec({ replicas: 5, canary: { version: '2', uri: canaryUri, weight: 20 } }));
    const before = await waitReady(client, ns, 'promo');
    expect(before.status?.canary).toMatchObject({ version: '2', replicas: 1 });

    await mergePatch(client, 'DigitModel', ns, 'promo', { spec: { model: { version: '2', uri: canaryUri }, canary: null } });
    await waitFor('the canary track to go', async () => !(await findChild(client, 'Deployment', ns, 'promo-canary')) && !(await findChild(client, 'Service', ns, 'promo-canary')));
    const after = await waitFor('stable to run version 2', async () => {
      const dm = await waitReady(client, ns, 'promo');
      return dm.status?.stable?.version === '2' ? dm : undefined;
    }, 120_000);
    expect(after.status).toMatchObject({ replicas: 5, readyReplicas: 5, stable: { version: '2', replicas: 5, readyReplicas: 5 } });
    expect(after.status?.canary).toBeUndefined();
    const pods = await readyPods(ns, 'app.kubernetes.io/instance=promo');
    expect(new Set(pods.map((p) => `${p.metadata.labels['digitserve.dev/track']}:${p.metadata.labels['digitserve.dev/model-version']}`))).toEqual(new Set(['stable:2']));
  });

  it('marks a never-ready version Degraded with an Event while the old pods keep serving, and recovers', async () => {
    const ns = namespaces[2];
    await createDm(client, ns, 'stuck', dmSpec({ replicas: 1 }));
    await waitReady(client, ns, 'stuck');
    // version 2's pods can never be scheduled (no node matches), so they never become ready
    await mergePatch(client, 'DigitModel', ns, 'stuck', {
      spec: { model: { version: '2', uri: 'https://models.example/mnist-cnn/2/model.json' }, pod: { nodeSelector: { 'digitserve.dev/no-such-node': 'true' } } },
    });
    const degraded = await waitFor('Degraded=True', async () => {
      const dm = await getDm(client, ns, 'stuck');
      return condition(dm, 'Degraded')?.status === 'True' ? dm : undefined;
    }, 120_000, 500);
    expect(condition(degraded, 'Degraded')).toMatchObject({ reason: 'ProgressDeadlineExceeded' });
    expect(condition(degraded, 'Degraded')?.message).toMatch(/stable version 2 never became ready; the previous pods keep serving/);
    expect(condition(degraded, 'Progressing')).toMatchObject({ status: 'False', reason: 'ProgressDeadlineExceeded' });
    expect(condition(degraded, 'Ready')?.status).toBe('True');
    expect(degraded.status?.stable?.version).toBe('1');
    const serving = await readyPods(ns, 'app.kubernetes.io/instance=stuck');
    expect(serving.map((p) => p.metadata.labels['digitserve.dev/model-version'])).toEqual(['1']);
    const events = await waitFor('a Warning event', async () => {
      const list = await client.list<{ reason: string; type: string; regarding: { name: string } }>('Event', ns);
      const found = list.items.filter((e) => e.regarding?.name === 'stuck' && e.reason === 'ProgressDeadlineExceeded');
      return found.length > 0 ? found : undefined;
    });
    expect(events[0].type).toBe('Warning');

    await mergePatch(client, 'DigitModel', ns, 'stuck', { spec: { pod: { nodeSelector: null } } });
    const recovered = await waitFor('recovery', async () => {
      const dm = await waitReady(client, ns, 'stuck');
      return condition(dm, 'Degraded')?.status === 'False' && dm.status?.stable?.version === '2' ? dm : undefined;
    }, 120_000);
    expect(condition(recovered, 'Degraded')?.reason).toBe('AsExpected');
  });
});
