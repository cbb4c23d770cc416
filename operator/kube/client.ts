import http from 'node:http';
import https from 'node:https';
import { PatchStrategy, type KubeConfig } from '@kubernetes/client-node';
import { FIELD_MANAGER } from '../api/constants.js';
import type { KubeObject } from '../api/types.js';
import { errorFromResponse, KubeError, toKubeError } from './errors.js';
import { resourceFor, resourcePath } from './resources.js';

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  /** Accept header (default application/json), e.g. for server-side Table rendering. */
  accept?: string;
  /** Label for errors and metrics, e.g. "apply Deployment ns/x". */
  what?: string;
  /** Aborts the request (it then fails as Unavailable). */
  signal?: AbortSignal;
}

/** What a single-object call may carry. */
export interface CallOptions {
  signal?: AbortSignal;
}

export interface ListResult<T> {
  metadata: { resourceVersion?: string; continue?: string };
  items: T[];
}

/** Called after every request: the metrics layer counts API calls (and writes) from here. */
export type RequestObserver = (method: string, status: number | 'error') => void;

/**
 * A small JSON client over the KubeConfig's TLS and credentials. Objects stay plain JSON end to
 * end: no typed (de)serialisation that would drop fields it does not know (CRD `x-kubernetes-*`
 * keys, newer API fields), and every failure leaves as a KubeError.
 */
export class KubeClient {
  private readonly server: URL;
  private readonly proxied: boolean;
  /**
   * One keep-alive agent for the TLS material it was made with. The KubeConfig builds a fresh
   * agent on every applyToHTTPSOptions(): used as such, every request would open a new TLS
   * connection. A new pooled agent is made only when the material changes (rotated credentials).
   */
  private pool: { pooled?: { key: string; agent: http.Agent } } = {};
  /** Set on a withSignal() view: aborts every request made through it. */
  private scope?: AbortSignal;

  constructor(
    private readonly kc: KubeConfig,
    private readonly observe: RequestObserver = () => {},
    private readonly timeoutMs = 30_000,
  ) {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new KubeError('Unavailable', 'kubeconfig has no current cluster');
    this.server = new URL(cluster.server);
    this.proxied = Boolean(cluster.proxyUrl);
  }

  /** The pooled keep-alive agent for the TLS options applyToHTTPSOptions() put into `options`. */
  private agentFor(options: https.RequestOptions): http.Agent | undefined {
    const made = options.agent instanceof http.Agent ? options.agent : undefined;
    if (this.proxied || !made) return made; // proxy agents stay the KubeConfig's own
    const tls = { ca: options.ca, cert: options.cert, key: options.key, pfx: options.pfx, passphrase: options.passphrase, rejectUnauthorized: options.rejectUnauthorized, servername: options.servername };
    const key = JSON.stringify(tls, (_k, v: unknown) => (Buffer.isBuffer(v) ? v.toString('base64') : v));
    made.destroy(); // never used: no sockets
    const current = this.pool.pooled;
    if (current?.key === key) return current.agent;
    const Agent = this.server.protocol === 'https:' ? https.Agent : http.Agent;
    const agent = new Agent({ ...(this.server.protocol === 'https:' ? tls : {}), keepAlive: true, maxSockets: 32 });
    // requests still on the old agent have timeoutMs to finish
    if (current) setTimeout(() => current.agent.destroy(), this.timeoutMs + 1000).unref();
    this.pool.pooled = { key, agent };
    return agent;
  }

  async request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const what = opts.what ?? `${method} ${path}`;
    const url = new URL(this.server.pathname.replace(/\/$/, '') + path, this.server);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const signals = [opts.signal, this.scope].filter((s): s is AbortSignal => s !== undefined);
    const signal = signals.length > 1 ? AbortSignal.any(signals) : signals[0];
    const options: https.RequestOptions = { method, headers: { Accept: opts.accept ?? 'application/json' }, timeout: this.timeoutMs, signal };
    await this.kc.applyToHTTPSOptions(options);
    options.agent = this.agentFor(options);
    const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    if (payload !== undefined) {
      options.headers = { ...options.headers, 'Content-Type': opts.contentType ?? 'application/json', 'Content-Length': Buffer.byteLength(payload) };
    }
    const send = url.protocol === 'https:' ? https.request : http.request;
    let status: number;
    let text: string;
    try {
      [status, text] = await new Promise<[number, string]>((resolve, reject) => {
        const req = send(url, options, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve([res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8')]));
          res.on('error', reject);
        });
        req.on('timeout', () => req.destroy(new Error(`timed out after ${this.timeoutMs} ms`)));
        req.on('error', reject);
        req.end(payload);
      });
    } catch (err) {
      this.observe(method, 'error');
      if (signal?.aborted) throw new KubeError('Aborted', `${what}: aborted (${String((signal.reason as Error | undefined)?.message ?? signal.reason)})`, undefined, { cause: err });
      throw toKubeError(err, what);
    }
    this.observe(method, status);
    if (status < 200 || status > 299) throw errorFromResponse(status, text, what);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /**
   * The same client (connections, credentials, metrics), but every request made through it is
   * aborted once `signal` is: what one leadership term writes ends with the term.
   */
  withSignal(signal: AbortSignal): KubeClient {
    const scoped = Object.create(this) as KubeClient;
    scoped.scope = this.scope ? AbortSignal.any([this.scope, signal]) : signal;
    return scoped;
  }

  get<T = KubeObject>(kind: string, namespace: string | undefined, name: string, opts: CallOptions = {}): Promise<T> {
    return this.request<T>('GET', resourcePath(kind, namespace, name), { what: `get ${kind} ${namespace ?? ''}/${name}`, signal: opts.signal });
  }

  /** GET or undefined when it does not exist. */
  async find<T = KubeObject>(kind: string, namespace: string | undefined, name: string, opts: CallOptions = {}): Promise<T | undefined> {
    try {
      return await this.get<T>(kind, namespace, name, opts);
    } catch (err) {
      if (err instanceof KubeError && err.code === 'NotFound') return undefined;
      throw err;
    }
  }

  /** Lists all pages; list items get their apiVersion and kind back. */
  async list<T = KubeObject>(kind: string, namespace?: string, labelSelector?: string): Promise<ListResult<T>> {
    const items: T[] = [];
    let cont: string | undefined;
    let resourceVersion: string | undefined;
    const { apiVersion } = resourceFor(kind);
    do {
      const page = await this.request<ListResult<T>>('GET', resourcePath(kind, namespace), {
        query: { labelSelector, limit: 500, continue: cont },
        what: `list ${kind}`,
      });
      for (const item of page.items ?? []) items.push({ apiVersion, kind, ...item });
      cont = page.metadata?.continue || undefined;
      resourceVersion = page.metadata?.resourceVersion;
    } while (cont);
    return { metadata: { resourceVersion }, items };
  }

  /** Server-side apply under the operator's field manager, taking over conflicting fields. */
  apply<T = KubeObject>(obj: KubeObject, subresource?: string): Promise<T> {
    const { namespace, name } = obj.metadata;
    return this.request<T>('PATCH', resourcePath(obj.kind, namespace, name, subresource), {
      query: { fieldManager: FIELD_MANAGER, force: true },
      body: obj,
      contentType: PatchStrategy.ServerSideApply,
      what: `apply ${obj.kind}${subresource ? `/${subresource}` : ''} ${namespace ?? ''}/${name}`,
    });
  }

  create<T = KubeObject>(obj: KubeObject, opts: CallOptions = {}): Promise<T> {
    return this.request<T>('POST', resourcePath(obj.kind, obj.metadata.namespace), { body: obj, what: `create ${obj.kind}`, signal: opts.signal });
  }

  replace<T = KubeObject>(obj: KubeObject, opts: CallOptions = {}): Promise<T> {
    const { namespace, name } = obj.metadata;
    return this.request<T>('PUT', resourcePath(obj.kind, namespace, name), { body: obj, what: `update ${obj.kind} ${namespace ?? ''}/${name}`, signal: opts.signal });
  }

  /** Deletes if present; `uid` guards against deleting a newer object of the same name. */
  async delete(kind: string, namespace: string | undefined, name: string, uid?: string): Promise<void> {
    const body = {
      apiVersion: 'v1',
      kind: 'DeleteOptions',
      propagationPolicy: 'Background',
      ...(uid ? { preconditions: { uid } } : {}),
    };
    try {
      await this.request('DELETE', resourcePath(kind, namespace, name), { body, what: `delete ${kind} ${namespace ?? ''}/${name}` });
    } catch (err) {
      if (err instanceof KubeError && err.code === 'NotFound') return;
      throw err;
    }
  }

  close(): void {
    this.pool.pooled?.agent.destroy();
    this.pool.pooled = undefined;
  }
}
