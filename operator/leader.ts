import type { Logger } from 'pino';
import { sleep, withDeadline } from './abortable.js';
import type { KubeClient } from './kube/client.js';
import { KubeError, toKubeError } from './kube/errors.js';
import { microTime } from './kube/micro-time.js';

export interface LeaderElectionConfig {
  namespace: string;
  name: string;
  identity: string;
  /** How long a Lease stays valid after its last renewal, as seen by the other candidates. */
  leaseDurationSeconds: number;
  /** A leader that has not renewed for this long gives up (must be below leaseDurationSeconds). */
  renewDeadlineSeconds: number;
  /** Pause between acquire and renew attempts. */
  retryPeriodSeconds: number;
}

export interface LeaderCallbacks {
  onStartedLeading: () => Promise<void> | void;
  /** Must stop all reconciling before it resolves. */
  onStoppedLeading: () => Promise<void> | void;
  onLeadershipChange?: (leading: boolean) => void;
}

interface LeaseSpec {
  holderIdentity?: string | null;
  leaseDurationSeconds?: number;
  acquireTime?: string | null;
  renewTime?: string | null;
  leaseTransitions?: number;
}

interface Lease {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec?: LeaseSpec;
}

/**
 * Leader election on a coordination.k8s.io/v1 Lease, after client-go's: a candidate takes the
 * Lease once its holder has not renewed for leaseDuration (measured on this process's clock from
 * when it last saw the record change, so clock skew does not matter); the leader renews every
 * retryPeriod and steps down — stops reconciling and becomes a candidate again — when it could
 * not renew for renewDeadline or sees another holder.
 *
 * The renew deadline is kept whatever the apiserver does: it runs from the start of the last
 * attempt that succeeded (the Lease's renewTime is no older, so no candidate's clock started
 * before it), every attempt is aborted when it is reached, and the leader steps down then even
 * if a request is still pending — an apiserver that accepts connections but never answers must
 * not keep a leader leading after its Lease expired and another replica took over.
 */
export class LeaderElector {
  private observed?: { key: string; at: number; spec: LeaseSpec; resourceVersion?: string };
  private leading = false;
  /** Start of the last successful acquire or renew attempt (epoch ms). */
  private renewedAt = 0;
  private readonly abort = new AbortController();
  private loop?: Promise<void>;
  private starting: Promise<void> = Promise.resolve();

  constructor(
    private readonly client: KubeClient,
    private readonly cfg: LeaderElectionConfig,
    private readonly callbacks: LeaderCallbacks,
    private readonly log: Logger,
  ) {
    if (!(cfg.leaseDurationSeconds > cfg.renewDeadlineSeconds && cfg.renewDeadlineSeconds > cfg.retryPeriodSeconds)) {
      throw new Error('leader election needs leaseDuration > renewDeadline > retryPeriod');
    }
  }

  isLeader(): boolean {
    return this.leading;
  }

  /** Runs until stop(): campaign, lead, and campaign again after losing the Lease. */
  start(): void {
    this.loop ??= this.run();
  }

  /** Stops campaigning; a leader stops reconciling and, with release, hands the Lease over at once. */
  async stop(opts: { release: boolean } = { release: true }): Promise<void> {
    this.abort.abort();
    await this.loop;
    if (this.leading) await this.stepDown();
    if (opts.release) await this.release();
  }

  private get renewDeadlineMs(): number {
    return this.cfg.renewDeadlineSeconds * 1000;
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    const retryMs = this.cfg.retryPeriodSeconds * 1000;
    while (!signal.aborted) {
      const started = Date.now();
      // a candidate's attempt is bounded too: one that takes the Lease late leads for less
      if (await this.attempt(started + this.renewDeadlineMs, signal)) {
        this.renewedAt = started;
        this.leading = true;
        this.callbacks.onLeadershipChange?.(true);
        this.log.info({ lease: `${this.cfg.namespace}/${this.cfg.name}`, identity: this.cfg.identity }, 'became leader');
        // start reconciling alongside the renew loop: a slow cache sync must not starve renewals
        this.starting = Promise.resolve()
          .then(() => this.callbacks.onStartedLeading())
          .catch((err: unknown) => this.log.error({ err: String(err) }, 'could not start leading'));
        await this.renewWhileLeading(signal);
        if (this.leading && !signal.aborted) await this.stepDown();
      }
      await sleep(retryMs, signal);
    }
  }

  /** Returns when the Lease is lost (another holder, or no renewal within the renew deadline) or on stop. */
  private async renewWhileLeading(signal: AbortSignal): Promise<void> {
    const retryMs = this.cfg.retryPeriodSeconds * 1000;
    while (!signal.aborted) {
      const deadline = this.renewedAt + this.renewDeadlineMs;
      // never sleep past the deadline: a leader that failed its last attempts stops on time
      await sleep(Math.min(retryMs, deadline - Date.now()), signal);
      if (signal.aborted) return;
      const started = Date.now();
      if (started < deadline && (await this.attempt(deadline, signal))) {
        this.renewedAt = started;
        continue;
      }
      if (signal.aborted) return;
      const holder = this.observed?.spec.holderIdentity;
      const otherHolder = !!holder && holder !== this.cfg.identity;
      if (otherHolder || Date.now() >= deadline) {
        const reason = otherHolder ? 'held by another' : 'not renewed within the renew deadline';
        this.log.warn({ lease: `${this.cfg.namespace}/${this.cfg.name}`, holder, reason, lastRenewal: new Date(this.renewedAt).toISOString() }, 'lost the lease');
        return;
      }
    }
  }

  /** One acquire-or-renew attempt, aborted (and given up on, if it does not return) at `deadline` or on stop. */
  private attempt(deadline: number, signal: AbortSignal): Promise<boolean> {
    return withDeadline(deadline, signal, (s) => this.tryAcquireOrRenew(s), false);
  }

  private async stepDown(): Promise<void> {
    this.leading = false;
    this.callbacks.onLeadershipChange?.(false);
    await this.callbacks.onStoppedLeading();
    await this.starting;
    this.log.info({ identity: this.cfg.identity }, 'stopped leading; candidate again');
  }

  private lease(spec: LeaseSpec, resourceVersion?: string): Lease {
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: this.cfg.name, namespace: this.cfg.namespace, ...(resourceVersion ? { resourceVersion } : {}) },
      spec,
    };
  }

  /** One attempt; true when this process holds the Lease afterwards (never once `signal` has aborted). */
  async tryAcquireOrRenew(signal?: AbortSignal): Promise<boolean> {
    const now = new Date();
    const { identity, leaseDurationSeconds } = this.cfg;
    const opts = { signal };
    try {
      const current = await this.client.find<Lease>('Lease', this.cfg.namespace, this.cfg.name, opts);
      if (signal?.aborted) return false;
      if (!current) {
        const spec = { holderIdentity: identity, leaseDurationSeconds, acquireTime: microTime(now), renewTime: microTime(now), leaseTransitions: 0 };
        const created = await this.client.create<Lease>(this.lease(spec) as never, opts);
        if (signal?.aborted) return false;
        this.observe(created);
        return true;
      }
      this.observe(current);
      const spec = current.spec ?? {};
      const holder = spec.holderIdentity ?? '';
      const heldByOther = holder !== '' && holder !== identity;
      const validFor = (spec.leaseDurationSeconds ?? leaseDurationSeconds) * 1000;
      if (heldByOther && this.observed && Date.now() < this.observed.at + validFor) return false;
      const next: LeaseSpec =
        holder === identity
          ? { ...spec, leaseDurationSeconds, renewTime: microTime(now) }
          : {
              holderIdentity: identity,
              leaseDurationSeconds,
              acquireTime: microTime(now),
              renewTime: microTime(now),
              leaseTransitions: (spec.leaseTransitions ?? 0) + 1,
            };
      const updated = await this.client.replace<Lease>(this.lease(next, current.metadata.resourceVersion) as never, opts);
      if (signal?.aborted) return false;
      this.observe(updated);
      return true;
    } catch (err) {
      // given up on at the deadline or on stop: the caller says why
      if (signal?.aborted) return false;
      const e = toKubeError(err, 'lease');
      if (!(e instanceof KubeError && e.code === 'Conflict')) this.log.warn({ err: e.message }, 'lease attempt failed');
      return false;
    }
  }

  private observe(lease: Lease): void {
    const spec = lease.spec ?? {};
    const key = `${spec.holderIdentity ?? ''}|${spec.renewTime ?? ''}`;
    if (this.observed?.key !== key) this.observed = { key, at: Date.now(), spec, resourceVersion: lease.metadata.resourceVersion };
  }

  /** Gives the Lease up so a standby takes over without waiting for it to expire (within the renew deadline, or not at all). */
  private async release(): Promise<void> {
    const released = await withDeadline(Date.now() + this.renewDeadlineMs, undefined, (signal) => this.tryRelease(signal), false);
    if (!released) this.log.warn({ lease: `${this.cfg.namespace}/${this.cfg.name}` }, 'did not release the lease within the renew deadline');
  }

  private async tryRelease(signal: AbortSignal): Promise<boolean> {
    try {
      const current = await this.client.find<Lease>('Lease', this.cfg.namespace, this.cfg.name, { signal });
      if (!current || current.spec?.holderIdentity !== this.cfg.identity) return true;
      const now = microTime(new Date());
      const spec: LeaseSpec = { ...current.spec, holderIdentity: null, leaseDurationSeconds: 1, acquireTime: now, renewTime: now };
      await this.client.replace(this.lease(spec, current.metadata.resourceVersion) as never, { signal });
      this.log.info({ lease: `${this.cfg.namespace}/${this.cfg.name}` }, 'released the lease');
      return true;
    } catch (err) {
      if (!signal.aborted) this.log.warn({ err: toKubeError(err).message }, 'could not release the lease');
      return true; // answered (and logged): nothing more to say
    }
  }
}
