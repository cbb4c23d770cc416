import { ListWatch, type KubeConfig, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { KubeObject } from '../api/types.js';
import type { KubeClient } from '../kube/client.js';
import { toKubeError } from '../kube/errors.js';
import { resourcePath } from '../kube/resources.js';
import { backoffDelay } from './backoff.js';
import { BoundedWatch } from './bounded-watch.js';

export interface InformerHandlers {
  onAdd?: (obj: KubeObject) => void;
  onUpdate?: (obj: KubeObject) => void;
  onDelete?: (obj: KubeObject) => void;
}

export interface InformerOptions {
  kc: KubeConfig;
  client: KubeClient;
  kind: string;
  /** Watch one namespace; undefined watches all. */
  namespace?: string;
  labelSelector?: string;
  log: Logger;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Watches end after a random [min, 2×min) seconds (default 300, client-go's); 0 = as the apiserver decides. See BoundedWatch. */
  minWatchTimeoutSeconds?: number;
}

export const DEFAULT_MIN_WATCH_TIMEOUT_SECONDS = 300;

/**
 * A client-node informer (list + watch + cache) that survives errors. client-node's ListWatch
 * relists on 410 Gone by itself but stops for good on any other error and never backs off; this
 * wrapper restarts it with exponential backoff until stop() is called. A restart resumes the watch
 * from the last resourceVersion (ListWatch keeps it), so the cache stays and nothing is relisted
 * unless the apiserver answers 410.
 */
export class ResilientInformer {
  private readonly informer: ListWatch<KubernetesObject>;
  private readonly watch: BoundedWatch;
  private stopped = true;
  private attempt = 0;
  private lastStart = 0;
  private timer?: NodeJS.Timeout;
  private listedOnce = false;

  constructor(
    private readonly opts: InformerOptions,
    handlers: InformerHandlers,
  ) {
    const { client, kind, namespace, labelSelector } = opts;
    // the list goes through KubeClient so cached objects are the same raw JSON as watch events
    const list = async () => {
      const result = await client.list(kind, namespace, labelSelector);
      // ListWatch starts the watch after the list without looking at its own stop flag
      if (this.stopped) throw new Error('informer stopped during its list');
      this.listedOnce = true;
      // rare after start-up: a relist follows only a 410 (the watch's resourceVersion is gone)
      opts.log.info({ kind, namespace, items: result.items.length, resourceVersion: result.metadata.resourceVersion }, 'informer listed');
      return result as unknown as KubernetesListObject<KubernetesObject>;
    };
    // autoStart false: start() runs it, and restarts re-run it after errors
    this.watch = new BoundedWatch(opts.kc, { minTimeoutSeconds: opts.minWatchTimeoutSeconds ?? DEFAULT_MIN_WATCH_TIMEOUT_SECONDS, log: opts.log.child({ kind, namespace }) });
    this.informer = new ListWatch<KubernetesObject>(resourcePath(kind, namespace), this.watch, list, false, labelSelector);
    if (handlers.onAdd) this.informer.on('add', handlers.onAdd as (o: KubernetesObject) => void);
    if (handlers.onUpdate) this.informer.on('update', handlers.onUpdate as (o: KubernetesObject) => void);
    if (handlers.onDelete) this.informer.on('delete', handlers.onDelete as (o: KubernetesObject) => void);
    this.informer.on('error', (err: unknown) => this.restartLater(err));
  }

  start(): void {
    this.stopped = false;
    this.run();
  }

  /** True once the first full list has landed in the cache. */
  hasSynced(): boolean {
    return this.listedOnce && this.informer.latestResourceVersion() !== '';
  }

  get(namespace: string, name: string): KubeObject | undefined {
    return this.informer.get(name, namespace) as KubeObject | undefined;
  }

  list(namespace?: string): KubeObject[] {
    return this.informer.list(namespace) as unknown as KubeObject[];
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.informer.stop();
    this.watch.cutAll(); // also a watch still being set up, which ListWatch cannot reach yet
  }

  /**
   * An informer waiting out a backoff step retries at once, with its backoff started afresh: the
   * apiserver answers again (a new leadership term should not start on caches that wait up to 30 s
   * more), and a failure now is likely its warming up — a just-restarted apiserver answers a watch
   * with 429 until its cache for the resource is ready — not a reason to wait the longest step
   * again. Once per term, so no spin. True if it was waiting.
   */
  retryNow(): boolean {
    if (this.stopped || !this.timer) return false;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.attempt = 0;
    this.opts.log.info({ kind: this.opts.kind, namespace: this.opts.namespace }, 'informer retrying now');
    this.run();
    return true;
  }

  private run(): void {
    if (this.stopped) return;
    this.lastStart = Date.now();
    this.informer.start().catch((err: unknown) => this.restartLater(err));
  }

  private restartLater(err: unknown): void {
    if (this.stopped) return; // stop() aborts the watch, which reports an error: not a failure
    // a watch that ran for a while before failing starts a fresh backoff sequence
    if (Date.now() - this.lastStart > 60_000) this.attempt = 0;
    const delay = backoffDelay(this.attempt++, this.opts.backoffBaseMs ?? 500, this.opts.backoffMaxMs ?? 30_000);
    const e = toKubeError(err, `watch ${this.opts.kind}`);
    this.opts.log.warn({ kind: this.opts.kind, namespace: this.opts.namespace, err: e.message, code: e.code, delayMs: delay }, 'informer failed; restarting');
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.run();
    }, delay);
    this.timer.unref();
  }
}

/** One kind across the watched namespaces (one informer each, or one cluster-wide). */
export class InformerSet {
  private readonly informers: Map<string, ResilientInformer>;

  constructor(opts: Omit<InformerOptions, 'namespace'>, namespaces: string[], handlers: InformerHandlers) {
    const targets = namespaces.length === 0 ? [undefined] : namespaces;
    this.informers = new Map(targets.map((ns) => [ns ?? '', new ResilientInformer({ ...opts, namespace: ns }, handlers)]));
  }

  start(): void {
    for (const i of this.informers.values()) i.start();
  }

  hasSynced(): boolean {
    return [...this.informers.values()].every((i) => i.hasSynced());
  }

  /** See ResilientInformer.retryNow; the number that were waiting. */
  retryNow(): number {
    return [...this.informers.values()].filter((i) => i.retryNow()).length;
  }

  private forNamespace(namespace: string): ResilientInformer | undefined {
    return this.informers.get(namespace) ?? this.informers.get('');
  }

  get(namespace: string, name: string): KubeObject | undefined {
    return this.forNamespace(namespace)?.get(namespace, name);
  }

  list(namespace?: string): KubeObject[] {
    if (namespace !== undefined) return this.forNamespace(namespace)?.list(namespace) ?? [];
    return [...this.informers.values()].flatMap((i) => i.list());
  }

  async stop(): Promise<void> {
    await Promise.all([...this.informers.values()].map((i) => i.stop()));
  }
}
