import { pino } from 'pino';
import type { DigitModel, KubeObject } from '../../../operator/api/types.js';
import type { KubeClient } from '../../../operator/kube/client.js';
import { KubeError } from '../../../operator/kube/errors.js';
import type { ChildKind } from '../../../operator/kube/resources.js';
import { Reconciler, type Caches } from '../../../operator/reconcile.js';
import type { EventSpec } from '../../../operator/status-events.js';
import { defaults, digitModel } from './fixtures.js';

/** An in-memory apiserver good enough for the reconciler: SSA merges nothing, it just stores. */
class FakeCluster {
  objects = new Map<string, KubeObject>();
  writes: string[] = [];
  failApply?: (obj: KubeObject) => KubeError | undefined;
  private rv = 1;

  key(kind: string, ns: string, name: string) {
    return `${kind}/${ns}/${name}`;
  }

  client(): KubeClient {
    const c = {
      apply: async (obj: KubeObject, sub?: string) => {
        const err = this.failApply?.(obj);
        if (err) throw err;
        this.writes.push(`apply ${obj.kind}${sub ? '/' + sub : ''} ${obj.metadata.name}`);
        const k = this.key(obj.kind, obj.metadata.namespace!, obj.metadata.name);
        if (sub === 'status') {
          const cur = this.objects.get(k)!;
          const next = { ...cur, status: (obj as unknown as { status: unknown }).status, metadata: { ...cur.metadata, resourceVersion: String(++this.rv) } };
          this.objects.set(k, next);
          return next;
        }
        const prev = this.objects.get(k);
        const next = { ...structuredClone(obj), metadata: { ...structuredClone(obj.metadata), uid: prev?.metadata.uid ?? `uid-${obj.metadata.name}`, resourceVersion: String(++this.rv) } };
        if (prev && 'status' in prev) (next as Record<string, unknown>).status = prev.status;
        this.objects.set(k, next);
        return next;
      },
      delete: async (kind: string, ns: string, name: string) => {
        this.writes.push(`delete ${kind} ${name}`);
        this.objects.delete(this.key(kind, ns, name));
      },
    };
    return c as unknown as KubeClient;
  }

  caches(): Caches {
    return {
      digitModel: (ns, name) => this.objects.get(this.key('DigitModel', ns, name)),
      child: (kind, ns, name) => this.objects.get(this.key(kind, ns, name)),
      children: (kind: ChildKind, ns) => [...this.objects.values()].filter((o) => o.kind === kind && o.metadata.namespace === ns),
      watches: () => true,
      pods: (ns, dm) => [...this.objects.values()].filter((o) => o.kind === 'Pod' && o.metadata.namespace === ns && o.metadata.labels?.['app.kubernetes.io/instance'] === dm),
    };
  }

  /** Makes every Deployment report a finished rollout with all pods ready, as kube-controller-manager and kwok would. */
  settleDeployments(): void {
    for (const [k, o] of this.objects) {
      if (o.kind !== 'Deployment') continue;
      const replicas = (o.spec as { replicas: number }).replicas;
      const status = { observedGeneration: 1, replicas, updatedReplicas: replicas, readyReplicas: replicas, availableReplicas: replicas };
      this.objects.set(k, { ...o, metadata: { ...o.metadata, generation: 1, resourceVersion: String(++this.rv) }, status });
    }
  }
}

function setup(dm: DigitModel, childDefaults = defaults) {
  const cluster = new FakeCluster();
  cluster.objects.set(cluster.key('DigitModel', dm.metadata.namespace, dm.metadata.name), dm as unknown as KubeObject);
  const events: EventSpec[] = [];
  const reconciler = new Reconciler({
    client: cluster.client(),
    caches: cluster.caches(),
    defaults: childDefaults,
    events: { record: (_dm, e) => events.push(e) },
    log: pino({ level: 'silent' }),
    now: () => new Date('2026-01-01T00:00:00Z'),
  });
  const dmNow = () => cluster.objects.get(cluster.key('DigitModel', dm.metadata.namespace, dm.metadata.name)) as unknown as DigitModel;
  const update = (spec: Partial<DigitModel['spec']>) => {
    const cur = dmNow();
    cluster.objects.set(cluster.key('DigitModel', 'mail', 'postcodes'), { ...cur, metadata: { ...cur.metadata, generation: (cur.metadata.generation ?? 0) + 1 }, spec: { ...cur.spec, ...spec } } as unknown as KubeObject);
  };
  return { cluster, reconciler, events, dmNow, update };
}

describe('Reconciler', () => {
  it('creates the children, then reports Ready, then makes no write at all in steady state', async () => {
    const { cluster, reconciler, dmNow, events } = setup(digitModel({ canary: { version: '4', uri: 'pvc://models/m/4', weight: 10 } }));
    await reconciler.reconcile('mail', 'postcodes');
    expect(cluster.writes.filter((w) => w.startsWith('apply ') && !w.includes('status')).sort()).toEqual([
      'apply Deployment postcodes-canary',
      'apply Deployment postcodes-stable',
      'apply PodDisruptionBudget postcodes',
      'apply Service postcodes',
      'apply Service postcodes-canary',
      'apply Service postcodes-stable',
    ]);
    expect(dmNow().status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('False');
    cluster.settleDeployments();
    cluster.writes = [];
    await reconciler.reconcile('mail', 'postcodes');
    expect(cluster.writes).toEqual(['apply DigitModel/status postcodes']);
    expect(dmNow().status).toMatchObject({ readyReplicas: 4, stable: { version: '3' }, canary: { effectiveWeight: 25 } });
    expect(events.map((e) => e.reason)).toContain('RolloutFinished');
    cluster.writes = [];
    await reconciler.reconcile('mail', 'postcodes');
    await reconciler.reconcile('mail', 'postcodes');
    expect(cluster.writes).toEqual([]);
  });

  it('re-applies a child whose operator-set fields were edited by hand', async () => {
    const { cluster, reconciler } = setup(digitModel());
    await reconciler.reconcile('mail', 'postcodes');
    const k = cluster.key('Service', 'mail', 'postcodes');
    const svc = cluster.objects.get(k)!;
    cluster.objects.set(k, { ...svc, spec: { ...(svc.spec as object), selector: { app: 'other' } } });
    cluster.writes = [];
    await reconciler.reconcile('mail', 'postcodes');
    expect(cluster.writes).toContain('apply Service postcodes');
    expect(cluster.writes).not.toContain('apply Service postcodes-stable');
  });

  it('deletes the canary children once spec.canary is gone, and only children it controls', async () => {
    const { cluster, reconciler, update } = setup(digitModel({ canary: { version: '4', uri: 'pvc://models/m/4', weight: 10 } }));
    await reconciler.reconcile('mail', 'postcodes');
    cluster.objects.set(cluster.key('Service', 'mail', 'someone-elses'), { apiVersion: 'v1', kind: 'Service', metadata: { name: 'someone-elses', namespace: 'mail' } });
    update({ canary: undefined });
    cluster.writes = [];
    await reconciler.reconcile('mail', 'postcodes');
    expect(cluster.writes.filter((w) => w.startsWith('delete')).sort()).toEqual(['delete Deployment postcodes-canary', 'delete Service postcodes-canary']);
  });

  it('keeps a promoted canary serving until stable runs its version completely, then deletes it (#15 item 2)', async () => {
    const { cluster, reconciler, update, dmNow } = setup(digitModel({ canary: { version: '4', uri: 'pvc://models/m/4', weight: 50 } }));
    await reconciler.reconcile('mail', 'postcodes');
    cluster.settleDeployments();
    await reconciler.reconcile('mail', 'postcodes');
    expect(dmNow().status).toMatchObject({ readyReplicas: 4, stable: { replicas: 2 }, canary: { replicas: 2 } });
    update({ model: { name: 'mnist-cnn', version: '4', uri: 'pvc://models/m/4' }, canary: undefined });
    cluster.writes = [];
    await reconciler.reconcile('mail', 'postcodes');
    // stable rolls to version 4 with all 4 replicas; the canary track is left as it is
    expect(cluster.writes.filter((w) => !w.includes('status'))).toEqual(['apply Deployment postcodes-stable']);
    const during = dmNow().status!;
    expect(during).toMatchObject({ replicas: 4, readyReplicas: 4 });
    expect(during.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'True' });
    expect(during.conditions?.find((c) => c.type === 'Progressing')?.message).toMatch(/promoted canary's pods \(version 4\) keep serving/);
    // the stable Deployment's new pods are not all available yet: still no deletion
    const k = cluster.key('Deployment', 'mail', 'postcodes-stable');
    const dep = cluster.objects.get(k)!;
    cluster.objects.set(k, { ...dep, metadata: { ...dep.metadata, generation: 2 }, status: { observedGeneration: 2, replicas: 5, updatedReplicas: 3, readyReplicas: 4, availableReplicas: 4 } });
    cluster.writes = [];
    await reconciler.reconcile('mail', 'postcodes');
    expect(cluster.writes.filter((w) => w.startsWith('delete'))).toEqual([]);
    cluster.settleDeployments();
    cluster.writes = [];
    await reconciler.reconcile('mail', 'postcodes');
    expect(cluster.writes.filter((w) => w.startsWith('delete')).sort()).toEqual(['delete Deployment postcodes-canary', 'delete Service postcodes-canary']);
  });

  it('reports a failed apply as Degraded=True with the apiserver message, and throws for a retry', async () => {
    const { cluster, reconciler, dmNow, events } = setup(digitModel());
    cluster.failApply = (o) => (o.kind === 'PodDisruptionBudget' ? new KubeError('Forbidden', 'apply PodDisruptionBudget mail/postcodes: forbidden') : undefined);
    await expect(reconciler.reconcile('mail', 'postcodes')).rejects.toThrow(/forbidden/);
    const degraded = dmNow().status?.conditions?.find((c) => c.type === 'Degraded');
    expect(degraded).toMatchObject({ status: 'True', reason: 'ReconcileError' });
    expect(degraded?.message).toMatch(/PodDisruptionBudget/);
    expect(events).toContainEqual(expect.objectContaining({ type: 'Warning', reason: 'ReconcileFailed' }));
    cluster.failApply = undefined;
    await reconciler.reconcile('mail', 'postcodes');
    expect(dmNow().status?.conditions?.find((c) => c.type === 'Degraded')?.status).toBe('False');
  });

  it('keeps the last known counts when a Deployment write fails: Degraded and an Event, no outage, no RolloutStarted (#15 item 1)', async () => {
    const { cluster, reconciler, dmNow, events } = setup(digitModel());
    await reconciler.reconcile('mail', 'postcodes');
    cluster.settleDeployments();
    await reconciler.reconcile('mail', 'postcodes');
    expect(dmNow().status).toMatchObject({ replicas: 4, readyReplicas: 4 });
    events.length = 0;
    // a hand edit makes the operator re-apply the Deployment, and the apiserver refuses that write
    const k = cluster.key('Deployment', 'mail', 'postcodes-stable');
    const dep = cluster.objects.get(k)!;
    cluster.objects.set(k, { ...dep, spec: { ...(dep.spec as object), revisionHistoryLimit: 9 } });
    cluster.failApply = (o) => (o.kind === 'Deployment' ? new KubeError('Conflict', 'apply Deployment mail/postcodes-stable: the object has been modified') : undefined);
    await expect(reconciler.reconcile('mail', 'postcodes')).rejects.toThrow(/has been modified/);
    const status = dmNow().status!;
    expect(status).toMatchObject({ replicas: 4, readyReplicas: 4, stable: { version: '3', replicas: 4, readyReplicas: 4 } });
    const cond = (type: string) => status.conditions?.find((c) => c.type === type);
    expect(cond('Ready')).toMatchObject({ status: 'True', reason: 'AllTracksAvailable' });
    expect(cond('Progressing')).toMatchObject({ status: 'False', reason: 'RolloutComplete' });
    expect(cond('Degraded')).toMatchObject({ status: 'True', reason: 'ReconcileError' });
    expect(cond('Degraded')?.message).toMatch(/apply Deployment mail\/postcodes-stable: the object has been modified/);
    expect(events.map((e) => `${e.type} ${e.reason}`)).toEqual(['Warning ReconcileFailed']);
  });

  it('refuses to take over an object controlled by someone else', async () => {
    const { cluster, reconciler } = setup(digitModel());
    cluster.objects.set(cluster.key('Service', 'mail', 'postcodes'), {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'postcodes', namespace: 'mail', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'x', uid: 'other', controller: true }] },
    });
    await expect(reconciler.reconcile('mail', 'postcodes')).rejects.toThrow(/already exists and is controlled by Deployment x/);
  });

  it('does nothing for a DigitModel that is gone or being deleted', async () => {
    const { cluster, reconciler } = setup({ ...digitModel(), metadata: { ...digitModel().metadata, deletionTimestamp: '2026-01-01T00:00:00Z' } });
    await reconciler.reconcile('mail', 'postcodes');
    await reconciler.reconcile('mail', 'absent');
    expect(cluster.writes).toEqual([]);
  });

  describe('formats without a converter image (SPEC §7)', () => {
    const keras = { name: 'mnist-cnn', version: '3', uri: 'pvc://models/mnist-cnn/3/model.keras', format: 'keras' as const };
    const degraded = (dm: DigitModel) => dm.status?.conditions?.find((c) => c.type === 'Degraded');

    it('creates no Deployment for a keras model and is Degraded FormatNotSupported with one Warning Event', async () => {
      const { cluster, reconciler, dmNow, events } = setup(digitModel({ model: keras }));
      await reconciler.reconcile('mail', 'postcodes');
      expect(cluster.writes.filter((w) => w.includes('Deployment'))).toEqual([]);
      expect(degraded(dmNow())).toMatchObject({ status: 'True', reason: 'FormatNotSupported' });
      expect(degraded(dmNow())?.message).toMatch(/spec\.model\.format is keras \(version 3\).*no converter image.*converter\.image\.repository.*no track is deployed/);
      expect(dmNow().status?.conditions?.find((c) => c.type === 'Progressing')).toMatchObject({ status: 'False', reason: 'FormatNotSupported' });
      expect(dmNow().status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False' });
      expect(events.filter((e) => e.type === 'Warning')).toEqual([expect.objectContaining({ reason: 'FormatNotSupported' })]);
      // steady: nothing more is written and no Event repeats
      cluster.writes = [];
      events.length = 0;
      await reconciler.reconcile('mail', 'postcodes');
      expect(cluster.writes).toEqual([]);
      expect(events).toEqual([]);
    });

    it('keeps the stable track serving when only the canary is savedmodel, and recovers once a converter image is configured', async () => {
      const dm = digitModel({ canary: { version: '4', uri: 'pvc://models/m/4', weight: 25, format: 'savedmodel' } });
      const { cluster, reconciler, dmNow } = setup(dm);
      await reconciler.reconcile('mail', 'postcodes');
      cluster.settleDeployments();
      await reconciler.reconcile('mail', 'postcodes');
      expect(cluster.objects.has(cluster.key('Deployment', 'mail', 'postcodes-canary'))).toBe(false);
      expect(dmNow().status).toMatchObject({ stable: { version: '3', replicas: 3, readyReplicas: 3 } });
      expect(degraded(dmNow())?.message).toMatch(/spec\.canary\.format is savedmodel \(version 4\).*the canary track is not deployed; the stable track keeps serving/);
      // an operator with the converter image (the chart's default) deploys the canary with its init container
      const withConverter = setup(dmNow(), { ...defaults, converterImage: 'example.test/converter:1' });
      withConverter.cluster.objects = cluster.objects;
      await withConverter.reconciler.reconcile('mail', 'postcodes');
      const canary = cluster.objects.get(cluster.key('Deployment', 'mail', 'postcodes-canary')) as unknown as { spec: { template: { spec: { initContainers: { image: string }[] } } } };
      expect(canary.spec.template.spec.initContainers[0].image).toBe('example.test/converter:1');
      expect(degraded(dmNow())).toMatchObject({ status: 'False', reason: 'AsExpected' });
    });

    it('leaves an existing Deployment untouched when its track switches to a format it cannot convert', async () => {
      const { cluster, reconciler, dmNow, update } = setup(digitModel());
      await reconciler.reconcile('mail', 'postcodes');
      cluster.settleDeployments();
      await reconciler.reconcile('mail', 'postcodes');
      const before = cluster.objects.get(cluster.key('Deployment', 'mail', 'postcodes-stable'));
      update({ model: { ...keras, version: '4' } });
      cluster.writes = [];
      await reconciler.reconcile('mail', 'postcodes');
      expect(cluster.writes).toEqual(['apply DigitModel/status postcodes']);
      expect(cluster.objects.get(cluster.key('Deployment', 'mail', 'postcodes-stable'))).toBe(before);
      // the old pods keep serving and are counted; the new version is not rolled out
      expect(dmNow().status).toMatchObject({ readyReplicas: 4, stable: { version: '3' } });
      expect(dmNow().status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'True' });
      expect(degraded(dmNow())).toMatchObject({ status: 'True', reason: 'FormatNotSupported' });
    });
  });
});
