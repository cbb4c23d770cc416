import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { FIELD_MANAGER, LABELS } from '../api/constants.js';
import type { KubeObject } from '../api/types.js';
import type { KubeClient } from '../kube/client.js';
import { KubeError } from '../kube/errors.js';
import { CHILD_KINDS, type ChildKind } from '../kube/resources.js';
import type { Caches } from '../reconcile.js';
import { backoffDelay } from './backoff.js';
import { GatewayRoutes } from './gateway-routes.js';
import { InformerSet } from './informer.js';

const MANAGED = `${LABELS.managedBy}=${FIELD_MANAGER}`;

/** What the controller of the current leadership term hears from the caches. */
export interface CacheListener {
  onDigitModelAdd(o: KubeObject): void;
  onDigitModelUpdate(o: KubeObject): void;
  onDigitModelDelete(o: KubeObject): void;
  /** Any add, update or delete of a child the operator manages. */
  onChild(o: KubeObject): void;
  /** Any add, update or delete of a runtime pod (its status carries the termination messages). */
  onPod(o: KubeObject): void;
  /** What the caches watch changed (the Gateway API came or went): reconcile every DigitModel. */
  onResync(): void;
}

export interface ClusterCachesOptions {
  kc: KubeConfig;
  client: KubeClient;
  log: Logger;
  /** Namespaces to watch; empty = all. */
  namespaces: string[];
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** See InformerOptions. */
  minWatchTimeoutSeconds?: number;
  /** Ask API discovery about HTTPRoutes again this often (default 60 s; 0 = only when the reconciler finds it wrong). */
  gatewayApiRecheckMs?: number;
}

/**
 * The informer caches of DigitModels and their children, for the life of the process rather than
 * of one leadership term (as controller-runtime's caches): a standby keeps them warm, and an
 * apiserver outage that costs the leader its Lease is ridden out by the informers themselves
 * (retrying with backoff, resuming from their resourceVersions) instead of being thrown away with
 * them and relisted from scratch after re-election.
 */
export class ClusterCaches implements Caches {
  private dms?: InformerSet;
  private pods_?: InformerSet;
  private readonly childSets = new Map<ChildKind, InformerSet>();
  private listener?: CacheListener;
  private stopped = false;
  private started?: Promise<void>;
  private wake?: () => void;
  private readonly routes: GatewayRoutes;

  constructor(private readonly o: ClusterCachesOptions) {
    const backoff = { backoffBaseMs: o.backoffBaseMs, backoffMaxMs: o.backoffMaxMs, minWatchTimeoutSeconds: o.minWatchTimeoutSeconds };
    const onChild = (obj: KubeObject) => this.listener?.onChild(obj);
    this.routes = new GatewayRoutes({
      makeInformer: () =>
        new InformerSet({ kc: o.kc, client: o.client, kind: 'HTTPRoute', labelSelector: MANAGED, log: o.log, ...backoff }, o.namespaces, {
          onAdd: onChild,
          onUpdate: onChild,
          onDelete: onChild,
        }),
      discover: () => this.probeHttpRoutes(),
      log: o.log,
      recheckMs: o.gatewayApiRecheckMs ?? 60_000,
      onChange: () => this.listener?.onResync(),
    });
  }

  /** Whether the Gateway API's HTTPRoutes are served, as discovery last said. */
  get gatewayApi(): boolean {
    return this.routes.served();
  }

  /** Starts the informers (after asking discovery about HTTPRoutes, retried while the apiserver is unreachable). */
  start(): Promise<void> {
    this.started ??= this.run().catch((err: unknown) => this.o.log.error({ err: String(err) }, 'caches did not start'));
    return this.started;
  }

  private async run(): Promise<void> {
    const { kc, client, log, namespaces } = this.o;
    const gatewayApi = await this.discoverHttpRoutes();
    if (this.stopped) return;
    this.routes.init(gatewayApi);
    const backoff = { backoffBaseMs: this.o.backoffBaseMs, backoffMaxMs: this.o.backoffMaxMs, minWatchTimeoutSeconds: this.o.minWatchTimeoutSeconds };
    this.dms = new InformerSet({ kc, client, kind: 'DigitModel', log, ...backoff }, namespaces, {
      onAdd: (o) => this.listener?.onDigitModelAdd(o),
      onUpdate: (o) => this.listener?.onDigitModelUpdate(o),
      onDelete: (o) => this.listener?.onDigitModelDelete(o),
    });
    const onChild = (o: KubeObject) => this.listener?.onChild(o);
    const selector = MANAGED;
    for (const kind of CHILD_KINDS) {
      if (kind === 'HTTPRoute') continue; // GatewayRoutes follows the Gateway API as it comes and goes
      this.childSets.set(kind, new InformerSet({ kc, client, kind, labelSelector: selector, log, ...backoff }, namespaces, { onAdd: onChild, onUpdate: onChild, onDelete: onChild }));
    }
    // the runtime pods, for their termination messages (RBAC: pods list/watch)
    const onPod = (o: KubeObject) => this.listener?.onPod(o);
    this.pods_ = new InformerSet({ kc, client, kind: 'Pod', labelSelector: selector, log, ...backoff }, namespaces, { onAdd: onPod, onUpdate: onPod, onDelete: onPod });
    for (const inf of this.childSets.values()) inf.start();
    this.pods_.start();
    this.dms.start();
  }

  /** Only one listener: the controller of the current term; it is replaced, not added to. */
  listen(listener: CacheListener): () => void {
    this.listener = listener;
    return () => {
      if (this.listener === listener) this.listener = undefined;
    };
  }

  /**
   * Informers (and an API discovery) waiting out a backoff step retry at once: a leadership term
   * starts only after the apiserver answered the Lease, so it is likely back, and the term should
   * not reconcile from caches that wait up to 30 s more before resuming their watches.
   */
  retryWaiting(): void {
    if (this.stopped) return;
    this.wake?.();
    const informers = [this.dms, this.pods_, ...this.childSets.values()].reduce((n, set) => n + (set?.retryNow() ?? 0), 0) + this.routes.retryNow();
    if (informers > 0) this.o.log.info({ informers }, 'informers waiting in backoff retried for the new term');
  }

  synced(): boolean {
    return !!this.dms?.hasSynced() && !!this.pods_?.hasSynced() && this.routes.startupSynced() && [...this.childSets.values()].every((i) => i.hasSynced());
  }

  digitModel(namespace: string, name: string): KubeObject | undefined {
    return this.dms?.get(namespace, name);
  }

  digitModels(): KubeObject[] {
    return this.dms?.list() ?? [];
  }

  child(kind: ChildKind, namespace: string, name: string): KubeObject | undefined {
    if (kind === 'HTTPRoute') return this.routes.get(namespace, name);
    return this.childSets.get(kind)?.get(namespace, name);
  }

  children(kind: ChildKind, namespace: string): KubeObject[] {
    if (kind === 'HTTPRoute') return this.routes.list(namespace);
    return this.childSets.get(kind)?.list(namespace) ?? [];
  }

  watches(kind: ChildKind): boolean {
    return kind === 'HTTPRoute' ? this.routes.watching() : this.childSets.has(kind);
  }

  /** The reconciler found the view of `kind` wrong (an HTTPRoute applied while none is watched): ask discovery again. */
  recheck(kind: ChildKind): void {
    if (kind === 'HTTPRoute' && !this.stopped) void this.routes.recheck();
  }

  pods(namespace: string, dmName: string): KubeObject[] {
    return (this.pods_?.list(namespace) ?? []).filter((p) => p.metadata.labels?.[LABELS.instance] === dmName);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.started;
    await Promise.all([this.dms?.stop(), this.pods_?.stop(), this.routes.stop(), ...[...this.childSets.values()].map((i) => i.stop())]);
  }

  /** One discovery request: whether HTTPRoutes are served; undefined when the apiserver did not answer. */
  private async probeHttpRoutes(): Promise<boolean | undefined> {
    try {
      const list = await this.o.client.request<{ resources?: { name: string }[] }>('GET', '/apis/gateway.networking.k8s.io/v1');
      return !!list.resources?.some((r) => r.name === 'httproutes');
    } catch (err) {
      if (err instanceof KubeError && err.code === 'Unavailable') return undefined;
      return false; // 404: not installed (any more); 403: not ours to see
    }
  }

  private async discoverHttpRoutes(): Promise<boolean> {
    for (let attempt = 0; !this.stopped; attempt++) {
      try {
        const list = await this.o.client.request<{ resources?: { name: string }[] }>('GET', '/apis/gateway.networking.k8s.io/v1');
        return !!list.resources?.some((r) => r.name === 'httproutes');
      } catch (err) {
        // an answer (404: not installed, 403: not ours to see) decides; no answer is asked again
        if (!(err instanceof KubeError) || err.code !== 'Unavailable') return false;
        const delayMs = backoffDelay(attempt, this.o.backoffBaseMs ?? 500, this.o.backoffMaxMs ?? 30_000);
        this.o.log.warn({ err: err.message, delayMs }, 'API discovery failed; retrying');
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, delayMs);
          this.wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
      }
    }
    return false;
  }
}
