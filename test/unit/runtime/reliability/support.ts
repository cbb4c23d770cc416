import http from 'node:http';
import type net from 'node:net';
import { errorShapeProblem, type RawResponse } from '../../../support/hostile-http.js';
import type { HostileCase } from '../../../support/hostile.js';
import { getText, type RuntimeProcess } from '../../../support/runtime-process.js';
import { modelCalibratedAt } from '../../../support/model-fixture.js';

/** Shared pieces of the runtime reliability tests (real runtime process, real HTTP). */

/** Limits the reliability tests run the runtime with: small, so bombs and floods stay cheap. */
export const TEST_LIMITS = {
  maxBodyBytes: 1 << 20,
  maxImagesPerRequest: 16,
  maxInputPixels: 4_000_000,
  requestTimeoutMs: 2_000,
};

export function runtimeEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    MODEL_URI: modelCalibratedAt(4),
    MAX_BODY_BYTES: String(TEST_LIMITS.maxBodyBytes),
    MAX_IMAGES_PER_REQUEST: String(TEST_LIMITS.maxImagesPerRequest),
    MAX_INPUT_PIXELS: String(TEST_LIMITS.maxInputPixels),
    REQUEST_TIMEOUT_MS: String(TEST_LIMITS.requestTimeoutMs),
    LOG_LEVEL: 'info',
    ...extra,
  };
}

/** A loopback listener that counts every connection and request: URLs pointing at it must never be fetched. */
export class Canary {
  requests = 0;
  connections = 0;
  private constructor(private readonly server: http.Server) {}

  static async start(): Promise<Canary> {
    const server = http.createServer();
    const c = new Canary(server);
    server.on('connection', () => c.connections++);
    server.on('request', (_req, res) => {
      c.requests++;
      res.end('fetched');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return c;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as net.AddressInfo).port}`;
  }

  get hits(): number {
    return this.requests + this.connections;
  }

  close(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }
}

/** What is wrong with the answer to a hostile case (empty when it keeps the contract). */
export function caseProblems(c: HostileCase, res: RawResponse, serverStatus?: number): string[] {
  const out: string[] = [];
  if (res.status === 0) {
    // A refusal sent before the body was read, followed by a close with the body still arriving,
    // makes the kernel reset the connection: our write fails (EPIPE) and the answer may be lost.
    // The server's own log (by X-Request-Id) then says what it answered.
    if (serverStatus !== undefined && c.expect.includes(serverStatus) && serverStatus >= 400 && serverStatus < 500) return [];
    return [`no HTTP answer (${res.error})${serverStatus ? `; the server logged ${serverStatus}` : ''}`];
  }
  if (res.status >= 500 && !c.expect.includes(res.status)) out.push(`answered ${res.status}: ${res.body.toString('utf8').slice(0, 200)}`);
  if (!c.expect.includes(res.status)) out.push(`status ${res.status}, allowed ${c.expect.join('|')}: ${res.body.toString('utf8').slice(0, 200)}`);
  if (res.status >= 400) {
    const shape = errorShapeProblem(res, c.oip);
    if (shape) out.push(shape);
  }
  return out;
}

/** The process is alive, live, ready, and a real digit still gets a 200 prediction. */
export async function healthProblems(rp: RuntimeProcess, validPng: Buffer, model = 'mnist-cnn'): Promise<string[]> {
  const out: string[] = [];
  if (!rp.alive) return [`the runtime exited ${JSON.stringify(rp.exit)}:\n${rp.tail(30)}`];
  for (const p of ['/healthz', '/readyz']) {
    const r = await getText(`${rp.baseUrl}${p}`).catch((e: Error) => ({ status: 0, text: e.message }));
    if (r.status !== 200) out.push(`${p} answered ${r.status}: ${r.text}`);
  }
  const res = await fetch(`${rp.baseUrl}/v1/models/${model}:predict`, { method: 'POST', headers: { 'Content-Type': 'image/png' }, body: validPng }).catch((e: Error) => e);
  if (res instanceof Error) out.push(`a valid prediction failed: ${res.message}`);
  else {
    const body = (await res.json()) as { predictions?: { digit?: number }[] };
    if (res.status !== 200 || typeof body.predictions?.[0]?.digit !== 'number') out.push(`a valid prediction answered ${res.status}: ${JSON.stringify(body).slice(0, 200)}`);
  }
  return out;
}

/** The status the runtime logged for a request id (its access log line), if any. */
export function loggedStatus(rp: RuntimeProcess, requestId: string): number | undefined {
  const line = rp.logRecords().find((r) => r.requestId === requestId && r.msg === 'request');
  return typeof line?.status === 'number' ? line.status : undefined;
}

/** Count of prediction answers with a 5xx status other than 504 (the slow upload's deadline), from the runtime's own metrics. */
export async function serverErrorsCounted(rp: RuntimeProcess): Promise<number> {
  const text = (await getText(`http://127.0.0.1:${rp.metricsPort}/metrics`)).text;
  let n = 0;
  for (const line of text.split('\n')) {
    const m = /^digitserve_requests_total\{[^}]*code="(5\d\d)"[^}]*\}\s+(\S+)/.exec(line);
    if (m && m[1] !== '504') n += Number(m[2]);
  }
  return n;
}
