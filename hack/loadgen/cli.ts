import fs from 'node:fs';
import http from 'node:http';
import { parseArgs } from 'node:util';
import { emptyTally, record, type Outcome, type Tally } from './tally.js';
import { refuseTarget } from './targets.js';

/**
 * A bounded load generator for the journey test: POSTs one body to one URL over a fresh TCP
 * connection per request (so a Service's kube-proxy rules pick an endpoint each time), either at
 * a steady rate (open loop, `--rate`) or with a fixed number in flight (closed loop,
 * `--concurrency`). It stops by itself after `--duration` seconds or `--max-requests` requests,
 * and on SIGTERM/SIGINT; then waits for what is outstanding and prints its final tally.
 * Prints one JSON line per `--report-ms` on stdout ({"type":"snapshot",...}) and a last one
 * ({"type":"final",...}). Targets only loopback or the `--allow` CIDRs (see targets.ts).
 *
 *   tsx hack/loadgen/cli.ts --url http://10.0.0.12/v1/models/m:predict --body digit.png \
 *     --content-type image/png --rate 20 --duration 120 --allow 10.0.0.0/16
 */

const MAX_DURATION_S = 3600;
const MAX_REQUESTS = 1_000_000;

interface Options {
  url: URL;
  body: Buffer;
  contentType: string;
  rate?: number;
  concurrency?: number;
  maxInFlight: number;
  durationMs: number;
  maxRequests: number;
  timeoutMs: number;
  reportMs: number;
}

function fail(message: string): never {
  process.stderr.write(`loadgen: ${message}\n`);
  process.exit(2);
}

function positive(name: string, raw: string | undefined, fallback?: number, max = Number.MAX_SAFE_INTEGER): number {
  if (raw === undefined) {
    if (fallback === undefined) fail(`--${name} is required`);
    return fallback;
  }
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0 || n > max) fail(`--${name} must be a number in (0, ${max}], got "${raw}"`);
  return n;
}

function parse(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      url: { type: 'string' }, body: { type: 'string' }, 'content-type': { type: 'string' },
      rate: { type: 'string' }, concurrency: { type: 'string' }, 'max-in-flight': { type: 'string' },
      duration: { type: 'string' }, 'max-requests': { type: 'string' }, 'timeout-ms': { type: 'string' },
      'report-ms': { type: 'string' }, allow: { type: 'string', multiple: true },
    },
    strict: true,
  });
  if (!values.url || !values.body || !values['content-type']) fail('--url, --body and --content-type are required');
  let url: URL;
  try {
    url = new URL(values.url);
  } catch {
    fail(`--url is not a URL: ${values.url}`);
  }
  const refused = refuseTarget(url, values.allow ?? []);
  if (refused) fail(refused);
  if ((values.rate === undefined) === (values.concurrency === undefined)) fail('give exactly one of --rate (open loop) and --concurrency (closed loop)');
  const durationMs = positive('duration', values.duration, undefined, MAX_DURATION_S) * 1000;
  const rate = values.rate === undefined ? undefined : positive('rate', values.rate, undefined, 10_000);
  const concurrency = values.concurrency === undefined ? undefined : Math.floor(positive('concurrency', values.concurrency, undefined, 1024));
  const defaultMax = rate ? Math.ceil(rate * durationMs / 1000) : MAX_REQUESTS;
  return {
    url, body: fs.readFileSync(values.body), contentType: values['content-type'], rate, concurrency,
    maxInFlight: Math.floor(positive('max-in-flight', values['max-in-flight'], 64, 4096)),
    durationMs, maxRequests: Math.floor(positive('max-requests', values['max-requests'], defaultMax, MAX_REQUESTS)),
    timeoutMs: positive('timeout-ms', values['timeout-ms'], 30_000, 600_000),
    reportMs: positive('report-ms', values['report-ms'], 1000, 60_000),
  };
}

function header(res: http.IncomingMessage, name: string): string | undefined {
  const v = res.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** One POST on a connection of its own; resolves with its outcome, never rejects. */
function send(o: Options, start: number): Promise<Outcome> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (outcome: Omit<Outcome, 'at'>) => {
      if (done) return;
      done = true;
      resolve({ ...outcome, at: Date.now() - start });
    };
    const req = http.request(o.url, {
      method: 'POST',
      agent: false,
      headers: { 'Content-Type': o.contentType, 'Content-Length': String(o.body.length), Connection: 'close' },
      timeout: o.timeoutMs,
    });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => finish({ status: res.statusCode ?? 0, version: header(res, 'x-model-version'), track: header(res, 'x-model-track') }));
      res.on('error', (e: NodeJS.ErrnoException) => finish({ status: 0, error: e.code ?? e.message }));
    });
    req.on('timeout', () => {
      req.destroy();
      finish({ status: 0, error: 'client-timeout' });
    });
    req.on('error', (e: NodeJS.ErrnoException) => finish({ status: 0, error: e.code ?? e.message }));
    req.end(o.body);
  });
}

/** `startedAt` (epoch ms) is the origin of every `at` in the tally, so callers can place outcomes on their own clock. */
function print(type: 'snapshot' | 'final', tally: Tally, start: number, stopReason?: string): void {
  process.stdout.write(`${JSON.stringify({ type, startedAt: start, elapsedMs: Date.now() - start, ...(stopReason ? { stopReason } : {}), ...tally })}\n`);
}

async function main(): Promise<void> {
  const o = parse(process.argv.slice(2));
  const tally: Tally = emptyTally();
  const start = Date.now();
  let inFlight = 0;
  let stopReason: string | undefined;
  const stop = (reason: string) => (stopReason ??= reason);
  for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => stop(sig));
  const deadline = setTimeout(() => stop('duration'), o.durationMs);
  const reporter = setInterval(() => print('snapshot', tally, start), o.reportMs);

  const launch = () => {
    tally.sent++;
    inFlight++;
    void send(o, start).then((outcome) => {
      inFlight--;
      record(tally, outcome);
    });
  };
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  if (o.rate) {
    // open loop: request i is due at start + i / rate, whatever the answers do
    for (let i = 0; !stopReason; i++) {
      if (tally.sent + tally.skipped >= o.maxRequests) stop('max-requests');
      if (stopReason) break;
      const wait = start + (i * 1000) / o.rate - Date.now();
      if (wait > 0) await sleep(wait);
      if (stopReason) break;
      if (inFlight >= o.maxInFlight) tally.skipped++;
      else launch();
    }
  } else {
    // closed loop: keep `concurrency` requests outstanding
    while (!stopReason) {
      if (tally.sent >= o.maxRequests) stop('max-requests');
      else if (inFlight < (o.concurrency ?? 1)) launch();
      else await sleep(2);
    }
  }
  clearTimeout(deadline);
  // outstanding requests end by their own timeout at the latest
  while (inFlight > 0) await sleep(20);
  clearInterval(reporter);
  print('final', tally, start, stopReason);
}

main().catch((err: unknown) => fail(err instanceof Error ? err.message : String(err)));
