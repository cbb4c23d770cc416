import https from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';
import { helmClusterOk, kubectl, kubectlOk } from '../../integration/chart/support.js';

/** kubectl, helm and the API server's service proxy against the journey's plane ($KUBECONFIG). */

export { helmClusterOk as helm, kubectl, kubectlOk };

export function getJson<T>(args: string[]): T {
  return JSON.parse(kubectlOk(['get', ...args, '-o', 'json'])) as T;
}

export function apply(manifest: unknown): void {
  kubectlOk(['apply', '-f', '-'], JSON.stringify(manifest));
}

export function patchDm(ns: string, name: string, patch: unknown): void {
  kubectlOk(['-n', ns, 'patch', 'digitmodel', name, '--type', 'merge', '-p', JSON.stringify(patch)]);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` (every `everyMs`) until it returns a truthy value; fails with the last value seen. */
export async function until<T>(what: string, probe: () => T | Promise<T>, timeoutMs: number, everyMs = 500): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v as NonNullable<T>;
      last = v;
    } catch (err) {
      last = err instanceof Error ? err.message : err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}; last: ${JSON.stringify(last)}`);
    await sleep(everyMs);
  }
}

export interface ProxyResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** A request to a Service through the API server's service proxy (no port-forward). */
export async function viaServiceProxy(ns: string, service: string, path: string, init: { method?: string; body?: Buffer | string; contentType?: string } = {}): Promise<ProxyResponse> {
  const kc = new KubeConfig();
  kc.loadFromDefault();
  const server = kc.getCurrentCluster()?.server;
  if (!server) throw new Error('no cluster in the kubeconfig');
  const url = new URL(`${server}/api/v1/namespaces/${ns}/services/${service}:http/proxy${path}`);
  const opts: https.RequestOptions = { method: init.method ?? (init.body ? 'POST' : 'GET'), headers: {} };
  await kc.applyToHTTPSOptions(opts);
  if (init.contentType) (opts.headers as Record<string, string>)['Content-Type'] = init.contentType;
  return new Promise((resolve, reject) => {
    const req = https.request(url, opts, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.setTimeout(60_000, () => req.destroy(new Error('service proxy request timed out')));
    req.on('error', reject);
    req.end(init.body);
  });
}
