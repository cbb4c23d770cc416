/**
 * What a load run saw, as counts: every request sent, every failure by reason, and which model
 * version and track answered (X-Model-Version, X-Model-Track). Pure; the CLI feeds it outcomes.
 */

export interface Outcome {
  /** HTTP status; 0 when the request failed without one. */
  status: number;
  /** Connection-level failure (ECONNREFUSED, ECONNRESET, client-timeout, ...). */
  error?: string;
  version?: string;
  track?: string;
  /** When the answer (or failure) arrived, ms since the run started. */
  at: number;
}

export interface FailureSample {
  at: number;
  status: number;
  error?: string;
}

export interface Tally {
  sent: number;
  answered: number;
  ok: number;
  failed: number;
  /** Failures by reason: "503", "ECONNRESET", "client-timeout", ... */
  failures: Record<string, number>;
  /** The first failures, with their times, to say when they happened. */
  firstFailures: FailureSample[];
  /** Successful answers by X-Model-Version and by X-Model-Track. */
  versions: Record<string, number>;
  tracks: Record<string, number>;
  /** When each version first and last answered (ms since the start). */
  versionSeen: Record<string, { first: number; last: number }>;
  /** Requests the generator did not send because `maxInFlight` were outstanding (the target is slower than the rate). */
  skipped: number;
}

const KEEP_FAILURES = 20;

export function emptyTally(): Tally {
  return { sent: 0, answered: 0, ok: 0, failed: 0, failures: {}, firstFailures: [], versions: {}, tracks: {}, versionSeen: {}, skipped: 0 };
}

/** A request counts as served only with a 2xx answer; anything else, including a 429, is a failure. */
export function isSuccess(o: Outcome): boolean {
  return o.error === undefined && o.status >= 200 && o.status < 300;
}

export function record(t: Tally, o: Outcome): void {
  t.answered++;
  if (!isSuccess(o)) {
    t.failed++;
    const reason = o.error ?? String(o.status);
    t.failures[reason] = (t.failures[reason] ?? 0) + 1;
    if (t.firstFailures.length < KEEP_FAILURES) t.firstFailures.push({ at: o.at, status: o.status, ...(o.error ? { error: o.error } : {}) });
    return;
  }
  t.ok++;
  const version = o.version ?? '(none)';
  const track = o.track ?? '(none)';
  t.versions[version] = (t.versions[version] ?? 0) + 1;
  t.tracks[track] = (t.tracks[track] ?? 0) + 1;
  const seen = t.versionSeen[version];
  if (seen) seen.last = Math.max(seen.last, o.at);
  else t.versionSeen[version] = { first: o.at, last: o.at };
}
