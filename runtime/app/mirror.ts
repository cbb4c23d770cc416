import type { Logger } from 'pino';

/**
 * Mirroring for canary disagreement (SPEC §7): the stable runtime sends a sample of its answered
 * `:predict` requests to the other track (MIRROR_URL + the same path), after its own client has
 * its answer, tagged `X-Digitserve-Mirror: 1`, and compares the digits. Fire and forget: bounded
 * in flight (beyond the bound a request is dropped and counted), a short timeout, and no error of
 * the mirror ever reaches the client. A mirrored request is never mirrored onward.
 *
 * Only answers this track marked `reliable` are compared: on an ambiguous digit two copies of the
 * SAME model can answer differently (MC dropout samples differ per process; measured 4.8 % of
 * ambiguous traffic), so counting those would abort good canaries. A request none of whose answers
 * was reliable here is not sent at all (outcome `skipped`): it could not tell the tracks apart.
 */

export const MIRROR_HEADER = 'x-digitserve-mirror';

/**
 * How one mirrored request ended: compared (the peer answered 2xx with one digit per image),
 * skipped (not sent: no answer of ours was reliable), dropped (over the in-flight bound), error
 * (anything else).
 */
export type MirrorOutcome = 'compared' | 'skipped' | 'dropped' | 'error';
export const MIRROR_OUTCOMES: readonly MirrorOutcome[] = ['compared', 'skipped', 'dropped', 'error'];

export interface MirrorResult {
  outcome: MirrorOutcome;
  /** Compared requests only: true when the peer's digit differs from ours for at least one image we answered reliably. */
  disagreed: boolean;
}

/** True for a request another runtime mirrored to this one (its header is exactly "1"). Pure. */
export function isMirrored(header: string | undefined): boolean {
  return header?.trim() === '1';
}

/** Whether this request is in the sample: `random()` in [0, 1) against `percent` of 100. Pure. */
export function sampled(percent: number, random: () => number = Math.random): boolean {
  if (percent <= 0) return false;
  if (percent >= 100) return true;
  return random() * 100 < percent;
}

/** Our answer for one image: its digit and whether we marked it reliable. */
export interface OwnAnswer {
  digit: number;
  reliable: boolean;
}

/**
 * The peer's `:predict` answer against our answers, image by image, over the images we answered
 * reliably. A body that is not a `:predict` answer, or holds another number of predictions, is an
 * error (not a disagreement: nothing was compared). Pure.
 */
export function compareDigits(own: readonly OwnAnswer[], peerBody: unknown): MirrorResult {
  const preds = (peerBody as { predictions?: unknown } | null)?.predictions;
  if (!Array.isArray(preds) || preds.length !== own.length) return { outcome: 'error', disagreed: false };
  const theirs = preds.map((p) => (p as { digit?: unknown } | null)?.digit);
  if (!theirs.every((d) => Number.isInteger(d))) return { outcome: 'error', disagreed: false };
  return { outcome: 'compared', disagreed: theirs.some((d, i) => own[i].reliable && d !== own[i].digit) };
}

/** `base` (e.g. http://dm-canary.ns.svc) joined with the request's path and query. Pure. */
export function mirrorTarget(base: string, pathAndQuery: string): string {
  return base.replace(/\/+$/, '') + (pathAndQuery.startsWith('/') ? pathAndQuery : `/${pathAndQuery}`);
}

export interface MirrorOptions {
  url: string;
  percent: number;
  /** Mirrored requests in flight at most; beyond, dropped (default 8). */
  maxInFlight?: number;
  /** Give up on the peer's answer after this long (default 2000 ms): counted as error. */
  timeoutMs?: number;
  /** Each mirrored request's end. */
  onResult: (r: MirrorResult) => void;
  logger?: Logger;
  random?: () => number;
}

export interface MirrorRequest {
  /** Path and query of the original request. */
  path: string;
  contentType: string;
  body: Buffer;
  /** Our answers for the request's images, in order. */
  answers: OwnAnswer[];
}

export class Mirror {
  private inFlight = 0;
  private readonly maxInFlight: number;
  private readonly timeoutMs: number;

  constructor(private readonly opts: MirrorOptions) {
    this.maxInFlight = opts.maxInFlight ?? 8;
    this.timeoutMs = opts.timeoutMs ?? 2000;
  }

  /** Whether the next request is in the sample (decided before its body is read, so only sampled bodies are kept). */
  sample(): boolean {
    return sampled(this.opts.percent, this.opts.random);
  }

  /** Requests sent and not yet ended. */
  pending(): number {
    return this.inFlight;
  }

  /** Sends `req` to the peer in the background; returns at once. The promise (for tests) settles when it ended. */
  send(req: MirrorRequest): Promise<void> {
    if (!req.answers.some((a) => a.reliable)) {
      this.opts.onResult({ outcome: 'skipped', disagreed: false });
      return Promise.resolve();
    }
    if (this.inFlight >= this.maxInFlight) {
      this.opts.onResult({ outcome: 'dropped', disagreed: false });
      return Promise.resolve();
    }
    this.inFlight++;
    return this.exchange(req)
      .catch((e: unknown): MirrorResult => {
        this.opts.logger?.debug({ err: e, url: this.opts.url }, 'mirrored request failed');
        return { outcome: 'error', disagreed: false };
      })
      .then((r) => {
        this.inFlight--;
        this.opts.onResult(r);
      });
  }

  private async exchange(req: MirrorRequest): Promise<MirrorResult> {
    const res = await fetch(mirrorTarget(this.opts.url, req.path), {
      method: 'POST',
      headers: { 'content-type': req.contentType, [MIRROR_HEADER]: '1' },
      body: req.body,
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    const text = await res.text();
    if (!res.ok) return { outcome: 'error', disagreed: false };
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return { outcome: 'error', disagreed: false };
    }
    return compareDigits(req.answers, body);
  }
}
