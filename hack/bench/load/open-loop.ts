import http from 'node:http';

/**
 * An open-loop load generator: request i is due at start + its schedule, whether or not earlier
 * ones have been answered (a closed loop would slow down with the server and hide queueing).
 * Latency runs from the due time, so time spent waiting for a client socket counts too
 * (no coordinated omission).
 */

export interface Sample {
  phase: string;
  /** Due time, ms since the run's origin. */
  due: number;
  /** Answer (or failure) time, ms since the origin. */
  end: number;
  /** HTTP status; 0 when the request failed without one. */
  status: number;
  retryAfter?: string;
  /** Connection-level failure (ECONNRESET, client timeout, ...). */
  error?: string;
}

export interface Target {
  url: URL;
  body: (i: number) => Buffer;
  contentType: string;
  agent: http.Agent;
  /** Client-side give-up, ms (counted as a timeout). */
  timeoutMs: number;
}

export interface Phase {
  name: string;
  seconds: number;
  /** Requests per second at `t` seconds into the phase. */
  rate: (t: number) => number;
}

export function send(target: Target, i: number, phase: string, due: number, origin: number, onDone: (s: Sample) => void): void {
  const body = target.body(i);
  let finished = false;
  const finish = (status: number, extra: Partial<Sample> = {}) => {
    if (finished) return;
    finished = true;
    onDone({ phase, due, end: performance.now() - origin, status, ...extra });
  };
  const req = http.request(target.url, {
    method: 'POST',
    agent: target.agent,
    headers: { 'Content-Type': target.contentType, 'Content-Length': String(body.length) },
    timeout: target.timeoutMs,
  });
  req.on('response', (res) => {
    res.resume();
    res.on('end', () => finish(res.statusCode ?? 0, res.headers['retry-after'] ? { retryAfter: String(res.headers['retry-after']) } : {}));
    res.on('error', (e: NodeJS.ErrnoException) => finish(0, { error: e.code ?? e.message }));
  });
  req.on('timeout', () => {
    req.destroy();
    finish(0, { error: 'client-timeout' });
  });
  req.on('error', (e: NodeJS.ErrnoException) => finish(0, { error: e.code ?? e.message }));
  req.end(body);
}

/**
 * Runs the phases back to back; resolves with every sample once the last request is answered or
 * has timed out. `counter` numbers requests across calls (which digit image each one sends).
 */
export async function runPhases(target: Target, phases: Phase[], origin: number, counter = { i: 0 }, onTick?: (phase: string, t: number) => void): Promise<Sample[]> {
  const samples: Sample[] = [];
  let outstanding = 0;
  let drained: () => void = () => {};
  const onDone = (s: Sample) => {
    samples.push(s);
    outstanding--;
    if (outstanding === 0) drained();
  };
  for (const phase of phases) {
    const start = performance.now() - origin;
    // integrate the rate in 1 ms steps to place each request's due time
    let credit = 0;
    let lastTick = -1;
    for (let t = 0; t < phase.seconds * 1000; ) {
      const now = performance.now() - origin - start;
      if (now < t) {
        await sleep(Math.min(5, t - now));
        continue;
      }
      credit += phase.rate(t / 1000) / 1000;
      while (credit >= 1) {
        credit -= 1;
        outstanding++;
        send(target, counter.i++, phase.name, start + t, origin, onDone);
      }
      const sec = Math.floor(t / 1000);
      if (sec !== lastTick) {
        lastTick = sec;
        onTick?.(phase.name, sec);
      }
      t += 1;
    }
  }
  if (outstanding > 0) await new Promise<void>((r) => (drained = r));
  return samples;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
