import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { pino, type Logger } from 'pino';
import type { KubeObject } from '../../../../operator/api/types.js';

/** A kubeconfig for a plain-HTTP test server on 127.0.0.1 (so skipTLSVerify), without credentials. */
export function plainHttpKubeConfig(port: number): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'fake', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: 'u' }],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'u' }],
    currentContext: 'fake',
  });
  return kc;
}

/**
 * A minimal apiserver for informer tests over plain HTTP: list and watch of any collection path
 * (objects added with `add`), 404 for anything else, and faults on demand — a slow list, watches
 * that end at once, watches that never end or are never answered, and the whole server going away
 * and coming back on the same port. Like the apiserver, it ends a watch after its `timeoutSeconds`,
 * with a bookmark just before when `allowWatchBookmarks` is set.
 */
export class FakeApiserver {
  readonly server: http.Server;
  readonly lists: string[] = [];
  readonly watches: string[] = [];
  /** The query of every watch request, in order. */
  readonly watchQueries: URLSearchParams[] = [];
  listDelayMs = 0;
  /**
   * 'stream': watches stay open (until their timeoutSeconds); 'close': every watch ends cleanly
   * right after its headers; 'silent': headers, then nothing ever, timeoutSeconds or not (a
   * connection that died silently); 'hang': the watch request is never answered.
   */
  watchMode: 'stream' | 'close' | 'silent' | 'hang' = 'stream';
  private rv = 100;
  private port = 0;
  private readonly objects = new Map<string, KubeObject[]>();
  private readonly open = new Map<string, Set<http.ServerResponse>>();
  private readonly sockets = new Set<Socket>();

  constructor() {
    this.server = http.createServer((req, res) => this.handle(req, res));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(this.port, '127.0.0.1', () => resolve()));
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** Gone as a killed process is: listener closed, every connection cut. */
  async kill(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    this.open.clear();
    await closed;
  }

  /** A kubeconfig for this server (plain HTTP, so skipTLSVerify). */
  kubeConfig(): KubeConfig {
    return plainHttpKubeConfig(this.port);
  }

  openWatches(path?: string): number {
    return [...this.open.entries()].filter(([p]) => !path || p === path).reduce((n, [, set]) => n + set.size, 0);
  }

  /** Moves the store's resourceVersion on without touching any watched path (writes elsewhere). */
  bump(by = 1): void {
    this.rv += by;
  }

  /** Stores an object in `path` and sends ADDED to that path's open watches. */
  add(path: string, obj: KubeObject): void {
    const stored = { ...obj, metadata: { ...obj.metadata, resourceVersion: String(++this.rv) } };
    this.objects.set(path, [...(this.objects.get(path) ?? []), stored]);
    for (const res of this.open.get(path) ?? []) res.write(`${JSON.stringify({ type: 'ADDED', object: stored })}\n`);
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://fake');
    if (!/^\/apis?\/.+\/namespaces\/[^/]+\/[a-z]+$/.test(url.pathname)) return void res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"kind":"Status","code":404}');
    if (url.searchParams.get('watch') === 'true') {
      this.watches.push(`${url.pathname}?resourceVersion=${url.searchParams.get('resourceVersion') ?? ''}`);
      this.watchQueries.push(url.searchParams);
      const set = this.open.get(url.pathname) ?? new Set();
      set.add(res);
      this.open.set(url.pathname, set);
      res.on('close', () => set.delete(res));
      if (this.watchMode === 'hang') return;
      res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
      if (this.watchMode === 'close') return void res.end();
      res.flushHeaders();
      const timeoutSeconds = Number(url.searchParams.get('timeoutSeconds') ?? 0);
      if (this.watchMode === 'stream' && timeoutSeconds > 0) {
        const t = setTimeout(() => {
          if (url.searchParams.get('allowWatchBookmarks') === 'true') {
            res.write(`${JSON.stringify({ type: 'BOOKMARK', object: { kind: 'Bookmark', metadata: { resourceVersion: String(this.rv) } } })}\n`);
          }
          res.end();
        }, timeoutSeconds * 1000);
        res.on('close', () => clearTimeout(t));
      }
      return;
    }
    this.lists.push(url.pathname);
    const body = JSON.stringify({ kind: 'List', metadata: { resourceVersion: String(this.rv) }, items: this.objects.get(url.pathname) ?? [] });
    setTimeout(() => res.writeHead(200, { 'Content-Type': 'application/json' }).end(body), this.listDelayMs);
  }
}

/** A pino logger whose lines land in `lines` (parsed), for asserting on what an informer logged. */
export function capturingLogger(): { log: Logger; lines: { msg: string; [k: string]: unknown }[] } {
  const lines: { msg: string; [k: string]: unknown }[] = [];
  const log = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s) as { msg: string }) });
  return { log, lines };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls until `probe` is true or `timeoutMs` passes (then fails with `what`). */
export async function until(what: string, probe: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}
