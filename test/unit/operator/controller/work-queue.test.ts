import { WorkQueue } from '../../../../operator/controller/work-queue.js';
import { backoffDelay } from '../../../../operator/controller/backoff.js';

describe('WorkQueue', () => {
  it('hands out a key once however often it was added while waiting', async () => {
    const q = new WorkQueue();
    q.add('ns/a');
    q.add('ns/a');
    q.add('ns/b');
    expect(q.length).toBe(2);
    expect(await q.get()).toBe('ns/a');
    expect(await q.get()).toBe('ns/b');
  });

  it('never hands out a key that is being processed; an add meanwhile requeues it on done()', async () => {
    const q = new WorkQueue();
    q.add('ns/a');
    const key = await q.get();
    q.add('ns/a');
    expect(q.length).toBe(0);
    let second: string | undefined;
    void q.get().then((k) => (second = k));
    await new Promise((r) => setImmediate(r));
    expect(second).toBeUndefined();
    q.done(key!);
    await new Promise((r) => setImmediate(r));
    expect(second).toBe('ns/a');
  });

  it('serialises each key across many concurrent workers', async () => {
    const q = new WorkQueue();
    const inFlight = new Map<string, number>();
    let maxPerKey = 0;
    let processed = 0;
    const worker = async () => {
      for (;;) {
        const key = await q.get();
        if (key === undefined) return;
        inFlight.set(key, (inFlight.get(key) ?? 0) + 1);
        maxPerKey = Math.max(maxPerKey, inFlight.get(key)!);
        await new Promise((r) => setTimeout(r, Math.random() * 3));
        inFlight.set(key, inFlight.get(key)! - 1);
        processed++;
        q.done(key);
      }
    };
    const workers = Array.from({ length: 8 }, worker);
    for (let i = 0; i < 200; i++) {
      q.add(`ns/k${i % 5}`);
      if (i % 10 === 0) await new Promise((r) => setTimeout(r, 1));
    }
    await new Promise((r) => setTimeout(r, 50));
    q.shutdown();
    await Promise.all(workers);
    expect(maxPerKey).toBe(1);
    expect(processed).toBeGreaterThanOrEqual(5);
  });

  it('retries with growing backoff until forget()', () => {
    const retries: number[] = [];
    const q = new WorkQueue({ onRetry: () => retries.push(1) }, 10, 1000);
    const d1 = q.addRateLimited('ns/a');
    const d2 = q.addRateLimited('ns/a');
    const d3 = q.addRateLimited('ns/a');
    expect(d1).toBeGreaterThanOrEqual(10);
    expect(d2).toBeGreaterThanOrEqual(20);
    expect(d3).toBeGreaterThanOrEqual(40);
    expect(q.retries('ns/a')).toBe(3);
    q.forget('ns/a');
    expect(q.retries('ns/a')).toBe(0);
    expect(retries).toHaveLength(3);
    q.shutdown();
  });

  it('delivers delayed adds after their delay', async () => {
    const q = new WorkQueue();
    q.addAfter('ns/a', 20);
    expect(q.length).toBe(0);
    await new Promise((r) => setTimeout(r, 40));
    expect(await q.get()).toBe('ns/a');
  });

  it('releases waiting workers on shutdown', async () => {
    const q = new WorkQueue();
    const waiting = q.get();
    q.shutdown();
    expect(await waiting).toBeUndefined();
    q.add('ns/a');
    expect(await q.get()).toBeUndefined();
  });
});

describe('backoffDelay', () => {
  it('doubles from the base and caps at the maximum', () => {
    const none = () => 0;
    expect([0, 1, 2, 3].map((n) => backoffDelay(n, 5, 1000, none))).toEqual([5, 10, 20, 40]);
    expect(backoffDelay(30, 5, 1000, none)).toBe(1000);
    expect(backoffDelay(30, 5, 1000, () => 1)).toBe(1000);
  });
});
