import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { KubeClient } from '../../../../operator/kube/client.js';
import { modelCalibratedAt } from '../../../support/model-fixture.js';

/**
 * Pieces of the canary analysis tests (#17): the operator runs against the real control plane,
 * whose pods are kwok's fakes; the analysis is fed by real runtime processes reachable at those
 * fake pods' IPs. A fake node of the test's own has a pod CIDR of its own (kwok gives its pods IPs
 * from the node's spec.podCIDR), a `local` route makes the machine answer on every address of that
 * /24 (as the real-node plane routes its pod CIDR, hack/cluster/node-network.ts), and a TCP
 * forwarder listens on each pod IP's runtime ports (8080, 9090) in front of a real runtime process.
 * The operator finds those IPs through the EndpointSlices the control plane maintains, as it would
 * in any cluster: nothing in it knows about the test. (127/8 would need no route, but the
 * apiserver refuses loopback addresses in EndpointSlices.) The range is 198.18.0.0/15, set aside
 * for benchmarking networks (RFC 2544): no real network uses it.
 */

/** The pod CIDR of a loopback node: 198.18.<octet>.0/24. */
export const loopbackCidr = (octet: number) => `198.18.${octet}.0/24`;

/** Makes the machine answer on every address of the CIDR (`ip route add local ... dev lo`); needs root, as the real-node plane does. */
export function addLocalRoute(cidr: string): void {
  try {
    execFileSync('ip', ['route', 'add', 'local', cidr, 'dev', 'lo'], { stdio: 'pipe' });
  } catch (err) {
    throw new Error(`cannot route ${cidr} to this machine (ip route add local ${cidr} dev lo; needs root and iproute2): ${(err as { stderr?: Buffer }).stderr?.toString().trim() ?? String(err)}`, { cause: err });
  }
}

export function deleteLocalRoute(cidr: string): void {
  try {
    execFileSync('ip', ['route', 'del', 'local', cidr, 'dev', 'lo'], { stdio: 'pipe' });
  } catch {
    // already gone
  }
}

/** A kwok-managed fake node whose pods get IPs in loopbackCidr(octet), routed to this machine. */
export async function createLoopbackNode(client: KubeClient, name: string, octet: number, label: Record<string, string>): Promise<void> {
  const resources = { cpu: '32', memory: '256Gi', pods: '110', 'ephemeral-storage': '1Ti' };
  await client.request('POST', '/api/v1/nodes', {
    body: {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name,
        // kwok manages nodes with this annotation (hack/cluster/kwok.ts)
        annotations: { 'kwok.x-k8s.io/node': 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
        labels: { type: 'kwok', 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', ...label },
      },
      spec: { podCIDR: loopbackCidr(octet), podCIDRs: [loopbackCidr(octet)] },
      status: { allocatable: resources, capacity: resources, phase: 'Running' },
    },
    what: `create Node ${name}`,
  });
}

export async function deleteNode(client: KubeClient, name: string): Promise<void> {
  await client.request('DELETE', `/api/v1/nodes/${name}`, { what: `delete Node ${name}` }).catch(() => {});
}

/** TCP forwarders from `ip:port` to `127.0.0.1:target`: a fake pod's ports in front of a real process. */
export class Forwarders {
  private readonly servers: net.Server[] = [];
  private readonly sockets = new Set<net.Socket>();

  /**
   * `bodyDelayMs`: a slow path to the pod — each HTTP request's head passes at once, the bytes
   * after it (the body) only `bodyDelayMs` later, in order; the server's own latency counts the
   * wait for the body.
   */
  async forward(ip: string, port: number, target: number, opts: { bodyDelayMs?: number } = {}): Promise<void> {
    const server = net.createServer((client) => {
      const upstream = net.connect(target, '127.0.0.1');
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      const delay = opts.bodyDelayMs;
      if (!delay) {
        client.pipe(upstream).pipe(client);
        return;
      }
      let chain = Promise.resolve();
      client.on('data', (chunk: Buffer) => {
        chain = chain.then(async () => {
          const head = chunk.indexOf('\r\n\r\n');
          if (head >= 0) {
            upstream.write(chunk.subarray(0, head + 4));
            await new Promise((r) => setTimeout(r, delay));
          }
          if (!upstream.destroyed) upstream.write(head >= 0 ? chunk.subarray(head + 4) : chunk);
        });
      });
      client.on('end', () => void chain.then(() => upstream.end()));
      upstream.pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e) => reject(new Error(`cannot listen on ${ip}:${port} for the fake pod (is something on *:${port}?): ${e.message}`)));
      server.listen(port, ip, () => resolve());
    });
    this.servers.push(server);
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await Promise.all(this.servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
    this.servers.length = 0;
  }
}

/**
 * A model version that disagrees with the bundled one on two digits: the default model (served
 * at T samples) with the columns of classes `a` and `b` swapped in the last Dense layer's kernel
 * and bias, so every image the original calls `a` it calls `b` and the reverse, with the same
 * confidence. Crafted, not trained: the disagreement is known exactly.
 */
export function modelWithSwappedClasses(samples: number, version: string, a: number, b: number): string {
  const dir = modelCalibratedAt(samples, version);
  const out = path.join(path.dirname(dir), `${version}-swapped-${a}-${b}`, version);
  fs.mkdirSync(out, { recursive: true });
  for (const f of fs.readdirSync(dir)) fs.copyFileSync(path.join(dir, f), path.join(out, f));
  const manifest = JSON.parse(fs.readFileSync(path.join(out, 'model.json'), 'utf8')) as {
    weightsManifest: { paths: string[]; weights: { name: string; shape: number[]; dtype: string }[] }[];
  };
  const group = manifest.weightsManifest.find((g) => g.weights.some((w) => w.name.endsWith('/kernel')));
  if (!group || group.paths.length !== 1) throw new Error('expected one weights file');
  const file = path.join(out, group.paths[0]);
  const bytes = fs.readFileSync(file);
  const floats = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  let offset = 0;
  const at: Record<string, { offset: number; shape: number[] }> = {};
  for (const w of group.weights) {
    if (w.dtype !== 'float32') throw new Error(`unexpected dtype ${w.dtype}`);
    at[w.name] = { offset, shape: w.shape };
    offset += w.shape.reduce((n, d) => n * d, 1);
  }
  const dense = group.weights.filter((w) => w.name.endsWith('/kernel') && w.shape.length === 2).pop();
  if (!dense) throw new Error('no Dense kernel');
  const layer = dense.name.slice(0, -'/kernel'.length);
  const kernel = at[`${layer}/kernel`];
  const bias = at[`${layer}/bias`];
  const [rows, cols] = kernel.shape;
  if (cols !== 10) throw new Error(`the last Dense layer has ${cols} outputs, not 10`);
  const swap = (i: number, j: number) => {
    const t = floats[i];
    floats[i] = floats[j];
    floats[j] = t;
  };
  for (let r = 0; r < rows; r++) swap(kernel.offset + r * cols + a, kernel.offset + r * cols + b);
  swap(bias.offset + a, bias.offset + b);
  const weights = Buffer.from(floats.buffer, floats.byteOffset, floats.byteLength);
  fs.writeFileSync(file, weights);
  // a new version's own files: metadata.json records their digests (the runtime checks them)
  const metaFile = path.join(out, 'metadata.json');
  const meta = JSON.parse(fs.readFileSync(metaFile, 'utf8')) as { files?: Record<string, { sha256: string; bytes: number }> };
  if (meta.files?.[group.paths[0]]) meta.files[group.paths[0]] = { sha256: createHash('sha256').update(weights).digest('hex'), bytes: weights.length };
  fs.writeFileSync(metaFile, JSON.stringify(meta));
  return out;
}

/** `kubectl get` as the apiserver prints it: the CRD's printer columns, from the Table the server renders. */
export async function tableRows(client: KubeClient, namespace: string, name: string): Promise<{ header: string[]; row: string[] }> {
  const table = await client.request<{ columnDefinitions: { name: string; priority?: number }[]; rows: { cells: unknown[] }[] }>(
    'GET',
    `/apis/digitserve.dev/v1alpha1/namespaces/${namespace}/digitmodels/${name}`,
    { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io', what: 'get DigitModel as Table' },
  );
  const keep = table.columnDefinitions.map((c, i) => ({ c, i })).filter(({ c }) => !c.priority);
  return {
    header: keep.map(({ c }) => c.name.toUpperCase()),
    row: keep.map(({ i }) => {
      const v = table.rows[0]?.cells[i];
      return v === undefined || v === null || v === '' ? '<none>' : String(v);
    }),
  };
}
