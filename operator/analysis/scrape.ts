import http from 'node:http';
import { podCounters, type CountersError } from './pod-counters.js';
import type { PodCounters } from './window.js';

/**
 * Reads the runtime pods' /metrics for one judgement, within a budget: each pod gets at most
 * `timeoutMs` and a body of at most `maxBytes`, at most `concurrency` scrapes run at once. A pod
 * that cannot be read is reported as unreachable, alone: the others' counters still count.
 * Plain HTTP to pod IPs (the metrics port is not behind TLS, SPEC §3).
 */

export interface ScrapeTarget {
  /** The pod's UID: what identifies its counters across scrapes. */
  pod: string;
  ip: string;
  port: number;
}

export interface ScrapeOptions {
  timeoutMs?: number;
  concurrency?: number;
  maxBytes?: number;
}

export interface ScrapeFailure {
  pod: string;
  code: 'unreachable' | 'http_status' | 'too_large' | CountersError['code'];
  message: string;
}

export interface ScrapeResult {
  counters: PodCounters[];
  failures: ScrapeFailure[];
}

export const SCRAPE_DEFAULTS = { timeoutMs: 2_000, concurrency: 8, maxBytes: 4 * 1024 * 1024 } as const;

type Fetched = { ok: true; text: string } | { ok: false; code: ScrapeFailure['code']; message: string };

function fetchMetrics(t: ScrapeTarget, timeoutMs: number, maxBytes: number): Promise<Fetched> {
  return new Promise((resolve) => {
    const host = t.ip.includes(':') ? `[${t.ip}]` : t.ip;
    const url = `http://${host}:${t.port}/metrics`;
    const req = http.get(url, { agent: false, headers: { accept: 'text/plain' } }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        finish({ ok: false, code: 'http_status', message: `GET ${url} answered ${res.statusCode}` });
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > maxBytes) {
          finish({ ok: false, code: 'too_large', message: `GET ${url}: more than ${maxBytes} bytes` });
          req.destroy();
        } else chunks.push(c);
      });
      res.on('end', () => finish({ ok: true, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', (e) => finish({ ok: false, code: 'unreachable', message: `GET ${url}: ${e.message}` }));
    });
    // one deadline for connect, headers and body alike
    const timer = setTimeout(() => {
      finish({ ok: false, code: 'unreachable', message: `GET ${url}: no complete answer within ${timeoutMs} ms` });
      req.destroy();
    }, timeoutMs);
    req.on('error', (e) => finish({ ok: false, code: 'unreachable', message: `GET ${url}: ${e.message}` }));
    let done = false;
    function finish(f: Fetched) {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(f);
    }
  });
}

/** Scrapes every target, at most `concurrency` at a time; resolves once each has counters or a failure. */
export async function scrapePods(targets: readonly ScrapeTarget[], opts: ScrapeOptions = {}): Promise<ScrapeResult> {
  const timeoutMs = opts.timeoutMs ?? SCRAPE_DEFAULTS.timeoutMs;
  const maxBytes = opts.maxBytes ?? SCRAPE_DEFAULTS.maxBytes;
  const concurrency = Math.max(1, opts.concurrency ?? SCRAPE_DEFAULTS.concurrency);
  const result: ScrapeResult = { counters: [], failures: [] };
  let next = 0;
  const worker = async () => {
    while (next < targets.length) {
      const t = targets[next++];
      const fetched = await fetchMetrics(t, timeoutMs, maxBytes);
      if (!fetched.ok) {
        result.failures.push({ pod: t.pod, code: fetched.code, message: fetched.message });
        continue;
      }
      const parsed = podCounters(t.pod, fetched.text);
      if (parsed.ok) result.counters.push(parsed.counters);
      else result.failures.push({ pod: t.pod, ...parsed.error });
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, targets.length) }, worker));
  return result;
}
