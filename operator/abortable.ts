/** Waits `ms`, or less when `signal` aborts first; never rejects, and leaves no listener behind. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      // a long-lived signal (the elector's, for the life of the process) sees one sleep per retry
      // period: a listener left on it per sleep is a leak (Node warns after 10)
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * Runs `fn` with a signal that aborts at `deadline` (epoch ms) or when `signal` does, and settles
 * by then whatever `fn` does: a call that ignores its signal is abandoned, `onAbandon` answers, and
 * its late result (or rejection) is dropped.
 */
export async function withDeadline<T>(deadline: number, signal: AbortSignal | undefined, fn: (signal: AbortSignal) => Promise<T>, onAbandon: T): Promise<T> {
  const ac = new AbortController();
  const forward = () => ac.abort(signal?.reason);
  signal?.addEventListener('abort', forward, { once: true });
  if (signal?.aborted) forward();
  const timer = setTimeout(() => ac.abort(new Error('deadline reached')), Math.max(0, deadline - Date.now()));
  const abandoned = new Promise<T>((resolve) => {
    if (ac.signal.aborted) resolve(onAbandon);
    ac.signal.addEventListener('abort', () => resolve(onAbandon), { once: true });
  });
  try {
    return await Promise.race([fn(ac.signal), abandoned]);
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', forward);
  }
}
