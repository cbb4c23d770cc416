import { jest } from '@jest/globals';
import { pino } from 'pino';
import type { KubeObject } from '../../../operator/api/types.js';
import type { KubeClient } from '../../../operator/kube/client.js';
import { KubeError } from '../../../operator/kube/errors.js';
import { LeaderElector } from '../../../operator/leader.js';

/** How one client's Lease updates hang: answered never, but aborted when asked, or not even then. */
type Hang = 'abortable' | 'forever';

/** One Lease with optimistic concurrency, like the apiserver's. */
class FakeLeaseStore {
  lease?: KubeObject & { spec: Record<string, unknown> };
  private rv = 0;
  down = false;
  /** Updates that were left hanging, and whether their caller aborted them. */
  readonly hung: { signal?: AbortSignal; abortedAt?: number }[] = [];
  client(hang: () => Hang | undefined = () => undefined): KubeClient {
    const check = () => {
      if (this.down) throw new KubeError('Unavailable', 'apiserver down');
    };
    const hangUpdate = (mode: Hang, signal?: AbortSignal) =>
      new Promise<never>((_, reject) => {
        const rec: (typeof this.hung)[number] = { signal };
        this.hung.push(rec);
        signal?.addEventListener('abort', () => {
          rec.abortedAt = Date.now();
          if (mode === 'abortable') reject(new KubeError('Aborted', 'aborted'));
        });
      });
    return {
      find: async () => {
        check();
        return this.lease ? structuredClone(this.lease) : undefined;
      },
      create: async (obj: KubeObject) => {
        check();
        if (this.lease) throw new KubeError('Conflict', 'exists', 409);
        this.lease = { ...structuredClone(obj), metadata: { ...obj.metadata, resourceVersion: String(++this.rv) } } as never;
        return structuredClone(this.lease);
      },
      replace: async (obj: KubeObject, opts?: { signal?: AbortSignal }) => {
        check();
        const mode = hang();
        if (mode) return hangUpdate(mode, opts?.signal);
        if (obj.metadata.resourceVersion !== this.lease?.metadata.resourceVersion) throw new KubeError('Conflict', 'modified', 409);
        this.lease = { ...structuredClone(obj), metadata: { ...obj.metadata, resourceVersion: String(++this.rv) } } as never;
        return structuredClone(this.lease);
      },
    } as unknown as KubeClient;
  }
}

const log = pino({ level: 'silent' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** An elector with production timings (Lease 15 s, renew deadline 10 s, retry 2 s), for fake time. */
function prodElector(client: KubeClient, identity: string, running: Set<string>) {
  return new LeaderElector(
    client,
    { namespace: 'ops', name: 'lease', identity, leaseDurationSeconds: 15, renewDeadlineSeconds: 10, retryPeriodSeconds: 2 },
    { onStartedLeading: () => void running.add(identity), onStoppedLeading: () => void running.delete(identity) },
    log,
  );
}

function elector(store: FakeLeaseStore, identity: string, running: Set<string>, leaseDurationSeconds = 0.6) {
  return new LeaderElector(
    store.client(),
    { namespace: 'ops', name: 'lease', identity, leaseDurationSeconds, renewDeadlineSeconds: 0.4, retryPeriodSeconds: 0.1 },
    { onStartedLeading: () => void running.add(identity), onStoppedLeading: () => void running.delete(identity) },
    log,
  );
}

describe('LeaderElector', () => {
  it('lets exactly one candidate lead and hands over after a crashed leader’s lease expires', async () => {
    const store = new FakeLeaseStore();
    const running = new Set<string>();
    const a = elector(store, 'a', running, 2);
    const b = elector(store, 'b', running, 2);
    a.start();
    await sleep(50);
    b.start();
    await sleep(500);
    expect([a.isLeader(), b.isLeader()]).toEqual([true, false]);
    expect([...running]).toEqual(['a']);
    expect(store.lease?.spec.holderIdentity).toBe('a');
    expect(String(store.lease?.spec.renewTime)).toMatch(/\.\d{6}Z$/);

    await a.stop({ release: false });
    expect(running.has('a')).toBe(false);
    await sleep(300);
    expect(b.isLeader()).toBe(false); // the lease (2 s) has not expired yet
    for (let i = 0; i < 40 && !b.isLeader(); i++) await sleep(100);
    expect(b.isLeader()).toBe(true);
    expect([...running]).toEqual(['b']);
    expect(store.lease?.spec.leaseTransitions).toBe(1);
    await b.stop();
  });

  it('steps down when it cannot renew within the renew deadline, and campaigns again afterwards', async () => {
    const store = new FakeLeaseStore();
    const running = new Set<string>();
    const a = elector(store, 'a', running);
    a.start();
    await sleep(200);
    expect(a.isLeader()).toBe(true);
    store.down = true;
    for (let i = 0; i < 30 && a.isLeader(); i++) await sleep(100);
    expect(a.isLeader()).toBe(false);
    expect(running.size).toBe(0);
    store.down = false;
    for (let i = 0; i < 30 && !a.isLeader(); i++) await sleep(100);
    expect(a.isLeader()).toBe(true);
    await a.stop();
  });

  it('releases the lease on graceful stop so a standby takes over at once', async () => {
    const store = new FakeLeaseStore();
    const running = new Set<string>();
    const a = elector(store, 'a', running);
    a.start();
    await sleep(150);
    await a.stop({ release: true });
    expect(store.lease?.spec.holderIdentity).toBeNull();
    const b = elector(store, 'b', running);
    b.start();
    for (let i = 0; i < 10 && !b.isLeader(); i++) await sleep(100);
    expect(b.isLeader()).toBe(true);
    await b.stop();
  });

  describe.each<Hang>(['abortable', 'forever'])('against an apiserver whose Lease updates hang (%s)', (mode) => {
    beforeEach(() => jest.useFakeTimers({ now: 0 }));
    afterEach(() => jest.useRealTimers());

    it('the leader stops leading at the renew deadline from its last successful renewal, before a standby takes over, and campaigns again', async () => {
      const store = new FakeLeaseStore();
      const running = new Set<string>();
      let aHangs = false;
      const a = prodElector(store.client(() => (aHangs ? mode : undefined)), 'a', running);
      const b = prodElector(store.client(), 'b', running);
      a.start();
      await jest.advanceTimersByTimeAsync(500);
      b.start();
      await jest.advanceTimersByTimeAsync(6_500); // a renewed at 2, 4 and 6 s
      expect([a.isLeader(), b.isLeader()]).toEqual([true, false]);
      aHangs = true; // a's renewal at 8 s is never answered

      const timeline: { t: number; a: boolean; b: boolean; running: string[] }[] = [];
      while (Date.now() < 40_000) {
        await jest.advanceTimersByTimeAsync(100);
        timeline.push({ t: Date.now(), a: a.isLeader(), b: b.isLeader(), running: [...running] });
      }
      // never two leaders, nor two replicas' workers, at once
      expect(timeline.filter((p) => p.a && p.b)).toEqual([]);
      expect(timeline.filter((p) => p.running.length > 1)).toEqual([]);
      // a stepped down at 6 s + 10 s, whatever its pending update was doing, and its workers with it
      const aLast = timeline.filter((p) => p.a).at(-1)!.t;
      expect(aLast).toBe(15_900);
      expect(timeline.find((p) => p.t === 16_000)).toMatchObject({ a: false, running: [] });
      expect(store.hung[0].signal?.aborted).toBe(true);
      expect(store.hung[0].abortedAt).toBe(16_000);
      // the standby took the Lease once it had expired (15 s after b saw a's last renewal)
      const bFirst = timeline.find((p) => p.b)!.t;
      expect(bFirst).toBeGreaterThan(20_000);
      expect(timeline.at(-1)).toMatchObject({ a: false, b: true, running: ['b'] });
      expect(store.lease?.spec.holderIdentity).toBe('b');

      // a is a candidate again, not dead: it takes over when b hands the Lease back
      aHangs = false;
      await b.stop({ release: true });
      await jest.advanceTimersByTimeAsync(2_100);
      expect(a.isLeader()).toBe(true);
      expect([...running]).toEqual(['a']);
      await a.stop();
    });
  });

  it('refuses lease timings that would let two leaders overlap', () => {
    expect(
      () =>
        new LeaderElector(new FakeLeaseStore().client(), { namespace: 'n', name: 'l', identity: 'x', leaseDurationSeconds: 5, renewDeadlineSeconds: 5, retryPeriodSeconds: 1 }, { onStartedLeading: () => {}, onStoppedLeading: () => {} }, log),
    ).toThrow(/leaseDuration > renewDeadline > retryPeriod/);
  });
});
