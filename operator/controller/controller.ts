import type { Logger } from 'pino';
import { CONTROLLER_NAME, LABELS } from '../api/constants.js';
import type { DigitModel, KubeObject } from '../api/types.js';
import type { ChildDefaults } from '../children/index.js';
import { controllingDigitModel } from '../children/owner.js';
import type { KubeClient } from '../kube/client.js';
import type { OperatorMetrics } from '../metrics.js';
import { AnalysisLoop } from '../analysis/loop.js';
import type { ScrapeOptions } from '../analysis/scrape.js';
import { PendingAnalysis, Reconciler } from '../reconcile.js';
import type { EventSpec } from '../status-events.js';
import type { ClusterCaches } from './caches.js';
import { WorkQueue } from './work-queue.js';

export interface ControllerOptions {
  client: KubeClient;
  /** The process's informer caches; they outlive this controller (one per leadership term). */
  caches: ClusterCaches;
  log: Logger;
  metrics: OperatorMetrics;
  defaults: ChildDefaults;
  events: { record(dm: DigitModel, e: EventSpec): void };
  /** Namespaces watched (for the log); empty = all. */
  namespaces: string[];
  concurrency: number;
  /** Re-enqueue every DigitModel this often (0 = never); reconciles of unchanged objects write nothing. */
  resyncMs: number;
  /** Called around every reconcile (tests use them to prove per-key serialisation). */
  hooks?: { onReconcileStart?: (key: string) => void; onReconcileEnd?: (key: string) => void };
  /** The canary analysis loop's scrape budget (defaults in analysis/scrape.ts). */
  scrape?: ScrapeOptions;
  /** Canary analysis reads PromQL from this Prometheus instead of scraping (config prometheusUrl). */
  prometheusUrl?: string;
}

/**
 * The reconciling half of the operator for one leadership term: cache events feed a work queue
 * drained by N reconcile workers. The caches themselves are not its to start or stop.
 */
export class DigitModelController {
  private readonly queue: WorkQueue;
  private readonly reconciler: Reconciler;
  private workers: Promise<void>[] = [];
  private resyncTimer?: NodeJS.Timeout;
  private running = false;
  private unlisten?: () => void;
  private readonly analysis: AnalysisLoop;

  constructor(private readonly o: ControllerOptions) {
    const m = o.metrics;
    this.queue = new WorkQueue({
      onAdd: () => m.workqueueAdds.inc({ name: CONTROLLER_NAME }),
      onRetry: () => m.workqueueRetries.inc({ name: CONTROLLER_NAME }),
      onDepth: (d) => m.workqueueDepth.set({ name: CONTROLLER_NAME }, d),
    });
    const pending = new PendingAnalysis();
    this.reconciler = new Reconciler({ client: o.client, caches: o.caches, defaults: o.defaults, events: o.events, log: o.log, metrics: m, analysis: pending });
    // canary analysis runs with the controller, so on the leader only
    this.analysis = new AnalysisLoop({
      client: o.client,
      digitModels: () => o.caches.digitModels(),
      currentStatus: (key) => this.reconciler.currentStatus(key),
      pending,
      enqueue: (key) => this.queue.add(key),
      log: o.log,
      metrics: m,
      scrape: o.scrape,
      ...(o.prometheusUrl ? { prometheus: { url: o.prometheusUrl } } : {}),
    });
  }

  /** Listens to the caches, waits until they have synced, enqueues every DigitModel and starts the workers. */
  async start(signal?: AbortSignal): Promise<void> {
    const { caches, log, namespaces } = this.o;
    this.running = true;
    const key = (o: KubeObject) => `${o.metadata.namespace}/${o.metadata.name}`;
    this.unlisten = caches.listen({
      onDigitModelAdd: (o) => this.queue.add(key(o)),
      // status-only updates (our own writes) do not bump generation and need no reconcile
      onDigitModelUpdate: (o) => this.onDigitModelUpdate(o),
      onDigitModelDelete: (o) => this.reconciler.forget(key(o)),
      onChild: (o) => {
        const owner = controllingDigitModel(o.metadata.ownerReferences);
        if (owner && o.metadata.namespace) this.queue.add(`${o.metadata.namespace}/${owner}`);
      },
      // the Gateway API came or went: every DigitModel's route is to be applied or forgotten
      onResync: () => {
        for (const dm of caches.digitModels()) this.queue.add(key(dm));
      },
      // pods belong to ReplicaSets; their DigitModel is the instance label
      onPod: (o) => {
        const dm = o.metadata.labels?.[LABELS.instance];
        if (dm && o.metadata.namespace) this.queue.add(`${o.metadata.namespace}/${dm}`);
      },
    });
    void caches.start();
    caches.retryWaiting();
    while (!this.synced()) {
      if (!this.running || signal?.aborted) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    if (!this.running) return;
    log.info({ namespaces: namespaces.length ? namespaces : 'all', gatewayApi: caches.gatewayApi, concurrency: this.o.concurrency }, 'caches synced; starting workers');
    // whatever happened before this term (or before the DigitModels' list landed) is caught up here
    for (const dm of caches.digitModels()) this.queue.add(key(dm));
    this.workers = Array.from({ length: this.o.concurrency }, () => this.work());
    this.analysis.start();
    if (this.o.resyncMs > 0) {
      this.resyncTimer = setInterval(() => {
        for (const dm of caches.digitModels()) this.queue.add(key(dm));
      }, this.o.resyncMs);
      this.resyncTimer.unref();
    }
  }

  synced(): boolean {
    return this.o.caches.synced();
  }

  /** Stops taking work and lets in-flight reconciles finish; the caches keep running. */
  async stop(): Promise<void> {
    this.running = false;
    await this.analysis.stop();
    this.unlisten?.();
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    this.queue.shutdown();
    await Promise.all(this.workers);
  }

  private onDigitModelUpdate(o: KubeObject): void {
    const k = `${o.metadata.namespace}/${o.metadata.name}`;
    const status = (o as { status?: { observedGeneration?: number } }).status;
    if (o.metadata.deletionTimestamp || status?.observedGeneration !== o.metadata.generation) this.queue.add(k);
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
