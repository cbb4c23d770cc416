import { jest } from '@jest/globals';
import { pino } from 'pino';
import { ResilientInformer } from '../../../operator/controller/informer.js';
import type { KubeClient } from '../../../operator/kube/client.js';
import { createNamespace, deleteNamespace, kubeConfig, testClient, waitFor } from './support/harness.js';

// The real apiserver and the informers' watch bounds: each watch asks to be ended after its
// timeoutSeconds (here 3–5 s instead of 5–10 min) and for bookmarks; the apiserver ends it cleanly
// and the informer resumes from its resourceVersion without relisting — a resourceVersion kept
// fresh by bookmarks even when nothing happens to what it watches.
jest.setTimeout(120_000);

let client: KubeClient;
let ns: string;
let elsewhere: string;
let informer: ResilientInformer | undefined;
const lines: { msg: string; [k: string]: unknown }[] = [];
const service = (name: string, namespace: string) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace }, spec: { ports: [{ port: 80 }] } }) as never;

beforeAll(async () => {
  client = testClient();
  ns = await createNamespace(client, 'dm-watch-timeouts');
  elsewhere = await createNamespace(client, 'dm-watch-elsewhere');
});

afterAll(async () => {
  await informer?.stop();
  await deleteNamespace(client, ns);
  await deleteNamespace(client, elsewhere);
  client?.close();
});

describe('informer watches against the apiserver', () => {
  it('are ended by the server at the timeout they ask for and resumed, from a bookmark’s resourceVersion after writes elsewhere, without a relist or a failure', async () => {
    const log = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s) as { msg: string }) });
    const added: string[] = [];
    informer = new ResilientInformer({ kc: kubeConfig(), client, kind: 'Service', namespace: ns, log, minWatchTimeoutSeconds: 3 }, { onAdd: (o) => added.push(o.metadata.name) });
    informer.start();
    const ended = () => lines.filter((l) => l.msg === 'watch ended');
    await waitFor('two watches ended by the apiserver', () => ended().length >= 2, 60_000, 100);

    // a write the informer's watch does not see moves the resource's resourceVersion on; only a
    // bookmark can bring the informer's own resourceVersion there
    const other = await client.create<{ metadata: { resourceVersion: string } }>(service('elsewhere', elsewhere));
    const otherRv = Number(other.metadata.resourceVersion); // opaque in general; etcd revisions on this plane
    await waitFor('a watch resumed from the bookmark’s resourceVersion', () => ended().some((l) => Number(l.resourceVersion) >= otherRv), 60_000, 100);

    for (const l of ended()) {
      expect(l.err).toBeUndefined();
      expect(l.timeoutSeconds).toBeGreaterThanOrEqual(3);
      expect(l.timeoutSeconds).toBeLessThan(6);
    }
    expect(added).toEqual([]);
    expect(lines.filter((l) => l.msg === 'informer listed')).toHaveLength(1);
    expect(lines.filter((l) => l.msg === 'informer failed; restarting')).toEqual([]);

    await client.create(service('late', ns));
    await waitFor('a Service created after the re-watches to reach the cache', () => added.includes('late') && informer!.get(ns, 'late'), 30_000, 100);
  });
});
