import { jest } from '@jest/globals';
import { pino } from 'pino';
import type { KubeObject } from '../../../operator/api/types.js';
import { ResilientInformer } from '../../../operator/controller/informer.js';
import type { KubeClient } from '../../../operator/kube/client.js';
import type { Manager } from '../../../operator/manager.js';
import {
  createDm,
  createNamespace,
  deleteNamespace,
  dmSpec,
  findChild,
  getDm,
  installCrd,
  kubeConfig,
  mergePatch,
  startTestOperator,
  testClient,
  testConfig,
  waitFor,
  waitReady,
  type DeploymentView,
} from './support/harness.js';

/**
 * #15 item 2: promotion hands over. The test watches the DigitModel's pods through the whole
 * promotion (every pod event the apiserver sends, in order) and checks that the pods ready to serve
 * never drop below the PodDisruptionBudget's floor. The promoted version's new stable pods are held
 * unschedulable for a while, as pods still loading a model would be not ready: deleting the canary
 * at once leaves only the old stable pods serving.
 */

jest.setTimeout(240_000);

let client: KubeClient;
let ns: string;
let operator: Manager;
let pods: ReadyPods | undefined;

beforeAll(async () => {
  client = testClient();
  await installCrd(client);
  ns = await createNamespace(client, 'dm-handover');
  operator = await startTestOperator(testConfig([ns]));
});

afterAll(async () => {
  await pods?.stop();
  await operator?.stop();
  await deleteNamespace(client, ns);
  client?.close();
});

type Pod = KubeObject & { spec?: { nodeName?: string }; status?: { conditions?: { type: string; status: string }[] } };
const serving = (p: Pod) => !p.metadata.deletionTimestamp && !!p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');

/** Every pod event of the DigitModel, in the apiserver's order; the ready count after each. */
class ReadyPods {
  readonly pods = new Map<string, Pod>();
  readonly counts: number[] = [];
  private readonly informer: ResilientInformer;

  constructor(name: string) {
    const seen = (o: KubeObject) => {
      this.pods.set(o.metadata.name, o as Pod);
      this.record();
    };
    this.informer = new ResilientInformer(
      { kc: kubeConfig(), client, kind: 'Pod', namespace: ns, labelSelector: `app.kubernetes.io/instance=${name}`, log: pino({ level: 'silent' }) },
      {
        onAdd: seen,
        onUpdate: seen,
        onDelete: (o) => {
          this.pods.delete(o.metadata.name);
          this.record();
        },
      },
    );
  }

  start = () => this.informer.start();
  stop = () => this.informer.stop();
  synced = () => this.informer.hasSynced();
  ready = () => [...this.pods.values()].filter(serving).length;
  private record = () => this.counts.push(this.ready());
}

describe('promoting the canary', () => {
  it('keeps the canary serving until stable runs the promoted version: ready pods never drop below the PDB floor', async () => {
    const total = 4;
    const canaryUri = 'https://models.example/mnist-cnn/2/model.json';
    await createDm(client, ns, 'promo', dmSpec({ replicas: total, canary: { version: '2', uri: canaryUri, weight: 50 } }));
    const before = await waitReady(client, ns, 'promo');
    expect(before.status).toMatchObject({ readyReplicas: 4, stable: { replicas: 2 }, canary: { replicas: 2 } });
    const pdb = (await findChild<{ spec: { maxUnavailable: number } }>(client, 'PodDisruptionBudget', ns, 'promo'))!;
    const floor = total - pdb.spec.maxUnavailable;

    const watch = new ReadyPods('promo');
    pods = watch;
    watch.start();
    await waitFor('the pod watch to sync', () => watch.synced() && watch.ready() === total);
    const from = watch.counts.length;

    // the promotion edit; the new stable pods cannot be scheduled until the hold is lifted
    const hold = { 'digitserve.dev/test-hold': ns };
    await mergePatch(client, 'DigitModel', ns, 'promo', { spec: { model: { version: '2', uri: canaryUri }, canary: null, pod: { nodeSelector: hold } } });
    await waitFor('the new stable pods to be created and held', () => {
      const held = [...watch.pods.values()].filter((p) => !p.spec?.nodeName && p.metadata.labels?.['digitserve.dev/model-version'] === '2' && p.metadata.labels?.['digitserve.dev/track'] === 'stable');
      return held.length > 0;
    }, 60_000, 100);
    // the operator has reconciled the edit (its status says so) while those pods are still pending
    await waitFor('the operator to have reconciled the promotion', async () => {
      const dm = await getDm(client, ns, 'promo');
      return dm.status?.observedGeneration === dm.metadata.generation;
    });
    expect(watch.ready()).toBeGreaterThanOrEqual(floor);
    expect(await findChild(client, 'Deployment', ns, 'promo-canary')).toBeDefined();

    await mergePatch(client, 'DigitModel', ns, 'promo', { spec: { pod: { nodeSelector: null } } });
    await waitFor('the canary track to go after the handover', async () => !(await findChild(client, 'Deployment', ns, 'promo-canary')) && !(await findChild(client, 'Service', ns, 'promo-canary')), 120_000);
    const stable = (await findChild<DeploymentView>(client, 'Deployment', ns, 'promo-stable'))!;
    expect(stable.spec.template.metadata.labels['digitserve.dev/model-version']).toBe('2');
    const after = await waitFor('stable to run version 2 at full strength', async () => {
      const dm = await waitReady(client, ns, 'promo');
      return dm.status?.stable?.version === '2' && dm.status.readyReplicas === total ? dm : undefined;
    }, 120_000);
    expect(after.status?.canary).toBeUndefined();
    await waitFor('the last pod events', () => watch.ready() === total && [...watch.pods.values()].every(serving));
    await watch.stop();

    const during = watch.counts.slice(from);
    expect(during.length).toBeGreaterThan(4); // the watch saw the promotion happen
    expect(Math.min(...during)).toBeGreaterThanOrEqual(floor);
  });
});
