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
