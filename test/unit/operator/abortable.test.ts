import { getEventListeners } from 'node:events';
import { jest } from '@jest/globals';
import { sleep } from '../../../operator/abortable.js';

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
