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

/** Reads one file of a model version (`model.json`, a weight shard, `metadata.json`). */
export async function readModelFile(loc: ModelLocation, name: string, timeoutMs = 30_000): Promise<Uint8Array> {
  if (name.includes('..') || path.isAbsolute(name)) throw new Error(`refusing model file path ${name}`);
  if (loc.kind === 'file') return new Uint8Array(await readFile(path.join(loc.dir, name)));
  const url = new URL(name, loc.base);
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`GET ${url.href}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}
