import type { Logger } from 'pino';
import type { KubeObject } from '../api/types.js';
import type { InformerSet } from './informer.js';

export interface GatewayRoutesOptions {
  /** A new (unstarted) HTTPRoute informer set, wired to the caches' handlers. */
  makeInformer: () => InformerSet;
  /** Asks API discovery: true served, false not served, undefined no answer (keep the current view). */
  discover: () => Promise<boolean | undefined>;
  log: Logger;
  /** Re-ask discovery this often (0 = only when asked). */
  recheckMs: number;
  /** The route cache changed meaning (synced after the Gateway API appeared, or dropped after it went): every DigitModel needs a reconcile. */
  onChange: () => void;
}

/**
 * The HTTPRoute cache, following the Gateway API as it comes and goes (#15 item 5): discovery is
 * asked again on a schedule and whenever the reconciler finds it wrong (an HTTPRoute applied while
 * none is watched), and the informer is started when the API appears and stopped when it goes.
 * Until the informer has synced, nothing counts as watched, so no route is judged missing or
 * unwanted from an empty cache.
 */
export class GatewayRoutes {
  private set?: InformerSet;
  /** The set that must sync before the caches count as synced: one started at start-up. */
  private startupSet?: InformerSet;
  private announced = false;
  private checking?: Promise<void>;
  private timer?: NodeJS.Timeout;
  private syncPoll?: NodeJS.Timeout;
  private stopped = false;

  constructor(private readonly o: GatewayRoutesOptions) {}

  /** Starts from what discovery said at start-up, and rechecks on schedule from then on. */
  init(served: boolean): void {
    if (served) this.startupSet = this.startInformer();
    if (this.o.recheckMs > 0) {
      this.timer = setInterval(() => void this.recheck(), this.o.recheckMs);
      this.timer.unref();
    }
  }

  /** Whether HTTPRoutes are served, as last seen. */
  served(): boolean {
    return this.set !== undefined;
  }

  /** Whether the cache holds every HTTPRoute the operator manages. */
  watching(): boolean {
    return !!this.set?.hasSynced();
  }

  /** For the caches' start-up gate: only a set started at start-up is waited for. */
  startupSynced(): boolean {
    return !this.startupSet || this.startupSet !== this.set || this.startupSet.hasSynced();
  }

  get(namespace: string, name: string): KubeObject | undefined {
    return this.watching() ? this.set?.get(namespace, name) : undefined;
  }

  list(namespace: string): KubeObject[] {
    return this.watching() ? (this.set?.list(namespace) ?? []) : [];
  }

  retryNow(): number {
    return this.set?.retryNow() ?? 0;
  }

  /** Asks discovery again (one request; concurrent calls share it) and follows the answer. */
  recheck(): Promise<void> {
    this.checking ??= this.o
      .discover()
      .then((served) => {
        if (this.stopped || served === undefined) return;
        if (served && !this.set) {
          this.o.log.info('the Gateway API appeared: watching HTTPRoutes');
          this.startInformer();
        } else if (!served && this.set) {
          this.o.log.info('the Gateway API is gone: no longer watching HTTPRoutes');
          void this.stopInformer();
          this.o.onChange();
        }
      })
      .finally(() => {
        this.checking = undefined;
      });
    return this.checking;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.checking?.catch(() => {});
    await this.stopInformer();
  }

  private startInformer(): InformerSet {
    const set = this.o.makeInformer();
    this.set = set;
    this.announced = false;
    set.start();
    const poll = () => {
      if (this.set !== set || this.stopped) return;
      if (!set.hasSynced()) {
        this.syncPoll = setTimeout(poll, 100);
        this.syncPoll.unref();
        return;
      }
      if (!this.announced) {
        this.announced = true;
        this.o.onChange();
      }
    };
    poll();
    return set;
  }

  private async stopInformer(): Promise<void> {
    const set = this.set;
    this.set = undefined;
    if (this.syncPoll) clearTimeout(this.syncPoll);
    await set?.stop();
  }
}
