import { pino } from 'pino';
import type { KubeObject } from '../../../operator/api/types.js';
import type { KubeClient } from '../../../operator/kube/client.js';
import { KubeError } from '../../../operator/kube/errors.js';
import { LeaderElector } from '../../../operator/leader.js';

/** One Lease with optimistic concurrency, like the apiserver's. */
class FakeLeaseStore {
  lease?: KubeObject & { spec: Record<string, unknown> };
  private rv = 0;
  down = false;
  client(): KubeClient {
    const check = () => {
      if (this.down) throw new KubeError('Unavailable', 'apiserver down');
    };
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
      replace: async (obj: KubeObject) => {
        check();
        if (obj.metadata.resourceVersion !== this.lease?.metadata.resourceVersion) throw new KubeError('Conflict', 'modified', 409);
        this.lease = { ...structuredClone(obj), metadata: { ...obj.metadata, resourceVersion: String(++this.rv) } } as never;
        return structuredClone(this.lease);
      },
    } as unknown as KubeClient;
  }
}

const log = pino({ level: 'silent' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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

  it('refuses lease timings that would let two leaders overlap', () => {
    expect(
      () =>
        new LeaderElector(new FakeLeaseStore().client(), { namespace: 'n', name: 'l', identity: 'x', leaseDurationSeconds: 5, renewDeadlineSeconds: 5, retryPeriodSeconds: 1 }, { onStartedLeading: () => {}, onStoppedLeading: () => {} }, log),
    ).toThrow(/leaseDuration > renewDeadline > retryPeriod/);
  });
});
