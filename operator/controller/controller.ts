import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { CONTROLLER_NAME, FIELD_MANAGER, LABELS } from '../api/constants.js';
import type { KubeObject } from '../api/types.js';
import type { ChildDefaults } from '../children/index.js';
import { controllingDigitModel } from '../children/owner.js';
import type { KubeClient } from '../kube/client.js';
import { CHILD_KINDS, type ChildKind } from '../kube/resources.js';
import type { OperatorMetrics } from '../metrics.js';
import { Reconciler, type Caches } from '../reconcile.js';
import type { EventSpec } from '../status-events.js';
import type { DigitModel } from '../api/types.js';
import { InformerSet } from './informer.js';
import { WorkQueue } from './work-queue.js';

export interface ControllerOptions {
  kc: KubeConfig;
  client: KubeClient;
  log: Logger;
  metrics: OperatorMetrics;
  defaults: ChildDefaults;
  events: { record(dm: DigitModel, e: EventSpec): void };
  /** Namespaces to watch; empty = all. */
  namespaces: string[];
  concurrency: number;
  /** Re-enqueue every DigitModel this often (0 = never); reconciles of unchanged objects write nothing. */
  resyncMs: number;
  /** Called around every reconcile (tests use them to prove per-key serialisation). */
  hooks?: { onReconcileStart?: (key: string) => void; onReconcileEnd?: (key: string) => void };
}

/** Informers on DigitModels and their children feeding a work queue drained by N reconcile workers. */
export class DigitModelController {
  private readonly queue: WorkQueue;
  private readonly reconciler: Reconciler;
  private dms?: InformerSet;
  private readonly children = new Map<ChildKind, InformerSet>();
  private workers: Promise<void>[] = [];
  private resyncTimer?: NodeJS.Timeout;
  private running = false;

  constructor(private readonly o: ControllerOptions) {
    const m = o.metrics;
    this.queue = new WorkQueue({
      onAdd: () => m.workqueueAdds.inc({ name: CONTROLLER_NAME }),
      onRetry: () => m.workqueueRetries.inc({ name: CONTROLLER_NAME }),
      onDepth: (d) => m.workqueueDepth.set({ name: CONTROLLER_NAME }, d),
    });
    const caches: Caches = {
      digitModel: (ns, name) => this.dms?.get(ns, name),
      child: (kind, ns, name) => this.children.get(kind)?.get(ns, name),
      children: (kind, ns) => this.children.get(kind)?.list(ns) ?? [],
      watches: (kind) => this.children.has(kind),
    };
    this.reconciler = new Reconciler({ client: o.client, caches, defaults: o.defaults, events: o.events, log: o.log, metrics: m });
  }

  /** Starts informers, waits for their first lists, then starts the workers. */
  async start(signal?: AbortSignal): Promise<void> {
    const { kc, client, log, namespaces } = this.o;
    this.running = true;
    const key = (o: KubeObject) => `${o.metadata.namespace}/${o.metadata.name}`;
    this.dms = new InformerSet({ kc, client, kind: 'DigitModel', log }, namespaces, {
      onAdd: (o) => this.queue.add(key(o)),
      // status-only updates (our own writes) do not bump generation and need no reconcile
      onUpdate: (o) => this.onDigitModelUpdate(o),
      onDelete: (o) => this.reconciler.forget(key(o)),
    });
    const enqueueOwner = (o: KubeObject) => {
      const owner = controllingDigitModel(o.metadata.ownerReferences);
      if (owner && o.metadata.namespace) this.queue.add(`${o.metadata.namespace}/${owner}`);
    };
    const selector = `${LABELS.managedBy}=${FIELD_MANAGER}`;
    const gatewayApi = await this.hasHttpRoutes();
    for (const kind of CHILD_KINDS) {
      if (kind === 'HTTPRoute' && !gatewayApi) continue;
      this.children.set(
        kind,
        new InformerSet({ kc, client, kind, labelSelector: selector, log }, namespaces, { onAdd: enqueueOwner, onUpdate: enqueueOwner, onDelete: enqueueOwner }),
      );
    }
    for (const inf of this.children.values()) inf.start();
    this.dms.start();
    while (!this.synced()) {
      if (!this.running || signal?.aborted) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    if (!this.running) return;
    log.info({ namespaces: namespaces.length ? namespaces : 'all', gatewayApi, concurrency: this.o.concurrency }, 'caches synced; starting workers');
    // children reported before the DigitModels' list landed were dropped by the owner lookup
    for (const dm of this.dms.list()) this.queue.add(key(dm));
    this.workers = Array.from({ length: this.o.concurrency }, () => this.work());
    if (this.o.resyncMs > 0) {
      this.resyncTimer = setInterval(() => {
        for (const dm of this.dms?.list() ?? []) this.queue.add(key(dm));
      }, this.o.resyncMs);
      this.resyncTimer.unref();
    }
  }

  synced(): boolean {
    return !!this.dms?.hasSynced() && [...this.children.values()].every((i) => i.hasSynced());
  }

  /** Stops taking work, lets in-flight reconciles finish, and stops the informers. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    this.queue.shutdown();
    await Promise.all(this.workers);
    await Promise.all([this.dms?.stop(), ...[...this.children.values()].map((i) => i.stop())]);
  }

  private onDigitModelUpdate(o: KubeObject): void {
    const k = `${o.metadata.namespace}/${o.metadata.name}`;
    const status = (o as { status?: { observedGeneration?: number } }).status;
    if (o.metadata.deletionTimestamp || status?.observedGeneration !== o.metadata.generation) this.queue.add(k);
  }

  private async hasHttpRoutes(): Promise<boolean> {
    try {
      const list = await this.o.client.request<{ resources?: { name: string }[] }>('GET', '/apis/gateway.networking.k8s.io/v1');
      return !!list.resources?.some((r) => r.name === 'httproutes');
    } catch {
      return false;
    }
  }

  private async work(): Promise<void> {
    const { metrics: m, log, hooks } = this.o;
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      const [namespace, name] = key.split('/');
      hooks?.onReconcileStart?.(key);
      m.activeWorkers.inc({ controller: CONTROLLER_NAME });
      const end = m.reconcileTime.startTimer({ controller: CONTROLLER_NAME });
      try {
        const result = await this.reconciler.reconcile(namespace, name);
        this.queue.forget(key);
        if (result.requeueAfterMs) this.queue.addAfter(key, result.requeueAfterMs);
        m.reconcileTotal.inc({ controller: CONTROLLER_NAME, result: result.requeueAfterMs ? 'requeue_after' : 'success' });
      } catch (err) {
        m.reconcileTotal.inc({ controller: CONTROLLER_NAME, result: 'error' });
        m.reconcileErrors.inc({ controller: CONTROLLER_NAME });
        const delayMs = this.running ? this.queue.addRateLimited(key) : 0;
        log.warn({ namespace, name, err: err instanceof Error ? err.message : String(err), retryInMs: delayMs }, 'reconcile failed');
      } finally {
        end();
        m.activeWorkers.dec({ controller: CONTROLLER_NAME });
        hooks?.onReconcileEnd?.(key);
        this.queue.done(key);
      }
    }
  }
}
