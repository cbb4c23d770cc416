import { getEventListeners } from 'node:events';
import { jest } from '@jest/globals';
import { sleep, withDeadline } from '../../../operator/abortable.js';

describe('sleep', () => {
  afterEach(() => jest.useRealTimers());

  it('leaves no abort listener behind: the count on a long-lived signal stays flat over many sleeps', async () => {
    jest.useFakeTimers();
    const signal = new AbortController().signal;
    for (let i = 0; i < 1000; i++) {
      const slept = sleep(1_000, signal);
      expect(getEventListeners(signal, 'abort')).toHaveLength(1);
      await jest.advanceTimersByTimeAsync(1_000);
      await slept;
    }
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
  });

  it('ends early when the signal aborts, and at once when it already has', async () => {
    jest.useFakeTimers();
    const ac = new AbortController();
    let woke = false;
    const slept = sleep(60_000, ac.signal).then(() => (woke = true));
    await jest.advanceTimersByTimeAsync(10);
    expect(woke).toBe(false);
    ac.abort();
    await slept;
    expect(woke).toBe(true);
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
    await sleep(60_000, ac.signal); // resolves without any timer advancing
    expect(jest.getTimerCount()).toBe(0);
  });
});

describe('withDeadline', () => {
  beforeEach(() => jest.useFakeTimers({ now: 0 }));
  afterEach(() => jest.useRealTimers());

  it('aborts the call’s signal at the deadline and answers then, even when the call ignores its signal', async () => {
    let seen: AbortSignal | undefined;
    const outcome = withDeadline(5_000, undefined, (signal) => {
      seen = signal;
      return new Promise<string>(() => {}); // never settles, ignores the abort
    }, 'abandoned');
    let settledAt: number | undefined;
    void outcome.then(() => (settledAt = Date.now()));
    await jest.advanceTimersByTimeAsync(4_999);
    expect([seen?.aborted, settledAt]).toEqual([false, undefined]);
    await jest.advanceTimersByTimeAsync(1);
    expect(await outcome).toBe('abandoned');
    expect([seen?.aborted, settledAt]).toEqual([true, 5_000]);
  });

  it('returns the call’s result before the deadline, and leaves no listener on the outer signal', async () => {
    const outer = new AbortController().signal;
    for (let i = 0; i < 100; i++) expect(await withDeadline(1_000, outer, async () => i, -1)).toBe(i);
    expect(getEventListeners(outer, 'abort')).toHaveLength(0);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('gives up at once when the outer signal aborts (stop)', async () => {
    const outer = new AbortController();
    const outcome = withDeadline(60_000, outer.signal, () => new Promise<boolean>(() => {}), false);
    outer.abort();
    expect(await outcome).toBe(false);
  });

  it('passes a rejection before the deadline on, and drops one after it', async () => {
    await expect(withDeadline(1_000, undefined, async () => Promise.reject(new Error('refused')), 'x')).rejects.toThrow('refused');
    let rejectLate: (e: Error) => void = () => {};
    const outcome = withDeadline(1_000, undefined, () => new Promise<string>((_, reject) => (rejectLate = reject)), 'abandoned');
    await jest.advanceTimersByTimeAsync(1_000);
    expect(await outcome).toBe('abandoned');
    rejectLate(new Error('too late')); // no unhandled rejection
  });
});
