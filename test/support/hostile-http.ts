import http from 'node:http';
import net from 'node:net';

/**
 * A deliberately low-level HTTP client for hostile requests: bodies sent whole, chunked,
 * trickled, or shorter than the Content-Length they declare; an early answer (413 before the
 * body is in) is taken as the answer, and what the server did to the connection is recorded.
 */

export interface RawRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: Buffer;
  /** Send the body in pieces of `bytes` every `everyMs` (a slow upload). */
  trickle?: { bytes: number; everyMs: number };
  /** No Content-Length: chunked transfer encoding, in 64 KiB pieces. */
  chunked?: boolean;
  /** A Content-Length other than the body's (a client that lies or stalls); the body is sent, the request not ended. */
  declaredLength?: number;
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** Set when no response arrived: how the request failed (ECONNRESET, timeout, ...). */
  error?: string;
  ms: number;
}

const PIECE = 64 * 1024;

/** Sends one request on its own connection; never rejects (a failure is `status: 0` plus `error`). */
export function sendRaw(baseUrl: string, r: RawRequest, timeoutMs = 30_000): Promise<RawResponse> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    let settled = false;
    let responded = false;
    const done = (v: Omit<RawResponse, 'ms'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve({ ...v, ms: performance.now() - t0 });
    };
    const url = new URL(r.path, baseUrl);
    const headers: Record<string, string> = { ...(r.headers ?? {}) };
    const body = r.body;
    if (body && !r.chunked && !Object.keys(headers).some((k) => k.toLowerCase() === 'content-length')) {
      headers['Content-Length'] = String(r.declaredLength ?? body.length);
    }
    const req = http.request(url, { method: r.method, headers, agent: false });
    const timer = setTimeout(() => done({ status: 0, headers: {}, body: Buffer.alloc(0), error: `no answer within ${timeoutMs} ms` }), timeoutMs);
    req.on('response', (res) => {
      responded = true;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => done({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', (e) => done({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), error: `response ${(e as NodeJS.ErrnoException).code ?? e.message}` }));
    });
    req.on('error', (e: NodeJS.ErrnoException) => {
      // A server that answers early (413 before the body is in) and closes makes our writes fail
      // (EPIPE) while its answer may still be on its way up: give it a moment before calling this
      // a failure. An error after the response started is reported by the response handlers.
      if (!responded) setTimeout(() => !responded && done({ status: 0, headers: {}, body: Buffer.alloc(0), error: e.code ?? e.message }), 250);
    });
    void (async () => {
      if (!body) {
        req.end();
        return;
      }
      const piece = r.trickle?.bytes ?? PIECE;
      for (let at = 0; at < body.length && !responded && !settled && !req.destroyed; at += piece) {
        const ok = req.write(body.subarray(at, at + piece));
        if (r.trickle) await sleep(r.trickle.everyMs);
        else if (!ok) await drained(req);
      }
      if (r.declaredLength === undefined && !req.destroyed) req.end();
    })();
  });
}

/** Writes raw bytes on a socket and returns what came back (for requests Node's client refuses to build). */
export function sendBytes(port: number, bytes: Buffer, timeoutMs = 10_000): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const sock = net.connect(port, '127.0.0.1', () => sock.write(bytes));
    const finish = (closed: boolean) => {
      clearTimeout(timer);
      sock.destroy();
      resolve({ text: Buffer.concat(chunks).toString('latin1'), closed });
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    sock.on('data', (c: Buffer) => chunks.push(c));
    sock.on('end', () => finish(true));
    sock.on('error', () => finish(true));
  });
}

function drained(req: http.ClientRequest): Promise<void> {
  return new Promise((resolve) => {
    const go = () => {
      req.off('drain', go).off('close', go);
      resolve();
    };
    req.on('drain', go).on('close', go);
  });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The JSON body of a response, or undefined. */
export function jsonOf(res: RawResponse): unknown {
  try {
    return JSON.parse(res.body.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * Why an error response breaks the contract, or undefined when it keeps it: a JSON body
 * `{"error": {"code": "<snake_case>", "message": "..."}}` (OIP routes: `{"error": "..."}`).
 */
export function errorShapeProblem(res: RawResponse, oip: boolean): string | undefined {
  const ct = String(res.headers['content-type'] ?? '');
  if (!/application\/json/i.test(ct)) return `content-type ${JSON.stringify(ct)} is not JSON`;
  const body = jsonOf(res) as { error?: unknown } | undefined;
  if (!body || typeof body !== 'object') return `body is not a JSON object: ${res.body.toString('utf8').slice(0, 120)}`;
  if (oip) {
    return typeof body.error === 'string' && body.error.length > 0 ? undefined : `OIP error body ${JSON.stringify(body).slice(0, 200)} lacks "error": "<message>"`;
  }
  const e = body.error as { code?: unknown; message?: unknown } | undefined;
  if (!e || typeof e !== 'object') return `error body ${JSON.stringify(body).slice(0, 200)} lacks an "error" object`;
  if (typeof e.code !== 'string' || !/^[a-z][a-z0-9_]*$/.test(e.code)) return `error code ${JSON.stringify(e.code)} is not snake_case`;
  if (typeof e.message !== 'string' || e.message.length === 0) return 'error has no message';
  return undefined;
}
