import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Where a model version's files live: a local directory or an http(s) base URL (ending in '/'). */
export type ModelLocation = { kind: 'file'; dir: string } | { kind: 'http'; base: URL };

/**
 * Resolves a model URI: a directory path, `file:///dir` or `file:///dir/model.json`,
 * `http(s)://host/dir/` or `http(s)://host/dir/model.json`.
 */
export function resolveModelLocation(uri: string): ModelLocation {
  if (/^https?:\/\//i.test(uri)) {
    const u = new URL(uri);
    if (u.pathname.endsWith('/model.json')) u.pathname = u.pathname.slice(0, -'model.json'.length);
    else if (!u.pathname.endsWith('/')) u.pathname += '/';
    u.search = '';
    u.hash = '';
    return { kind: 'http', base: u };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(uri) && !uri.startsWith('file://')) {
    throw new Error(`unsupported model URI scheme in ${uri}: use a path, file://, http:// or https://`);
  }
  const p = uri.startsWith('file://') ? fileURLToPath(uri) : path.resolve(uri);
  return { kind: 'file', dir: path.basename(p) === 'model.json' ? path.dirname(p) : p };
}

/** A printable form of a location, for logs and errors. */
export function describeLocation(loc: ModelLocation): string {
  return loc.kind === 'file' ? pathToFileURL(loc.dir).href : loc.base.href;
}

/** How model files are fetched over HTTP. */
export interface ReadOptions {
  /** Value of the Authorization header for http(s) locations (MODEL_AUTH_HEADER); never logged. */
  authHeader?: string;
  /** Tries per file (default 5). */
  attempts?: number;
  /** First backoff; doubled per retry, with jitter, at most 8 s (default 500 ms). */
  baseDelayMs?: number;
  /** Per attempt (default 30 s). */
  timeoutMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

/** An answer worth retrying: the server or a proxy is having a moment. Other 4xx are the request's fault. */
export function isTransientStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 425 || status === 429;
}

class PermanentError extends Error {}

/**
 * Reads one file of a model version (`model.json`, a weight shard, `metadata.json`). Over HTTP:
 * with the Authorization header when given, retried with exponential backoff on transient
 * failures (5xx, 408/425/429, connection resets, timeouts — also mid-body), never on other 4xx.
 */
export async function readModelFile(loc: ModelLocation, name: string, opts: ReadOptions = {}): Promise<Uint8Array> {
  if (name.includes('..') || path.isAbsolute(name)) throw new Error(`refusing model file path ${name}`);
  if (loc.kind === 'file') return new Uint8Array(await readFile(path.join(loc.dir, name)));
  const url = new URL(name, loc.base);
  const attempts = Math.max(1, opts.attempts ?? 5);
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  let last = '';
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      const res = await fetch(url, {
        headers: opts.authHeader ? { authorization: opts.authHeader } : {},
        signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000),
      });
      if (res.ok) return new Uint8Array(await res.arrayBuffer());
      await res.body?.cancel().catch(() => undefined);
      last = `HTTP ${res.status}`;
      if (!isTransientStatus(res.status)) throw new PermanentError(`GET ${url.href}: HTTP ${res.status}${res.status === 401 || res.status === 403 ? ' (check MODEL_AUTH_HEADER)' : ''}`);
    } catch (e) {
      if (e instanceof PermanentError) throw new Error(e.message, { cause: e });
      const err = e as Error & { cause?: { code?: string; message?: string } };
      last = err.cause?.code ?? err.cause?.message ?? err.message;
    }
    if (attempt < attempts) {
      const backoff = Math.min(8_000, (opts.baseDelayMs ?? 500) * 2 ** (attempt - 1));
      await sleep(backoff * (0.5 + Math.random() / 2));
    }
  }
  throw new Error(`GET ${url.href} failed ${attempts} times; last: ${last}`);
}
