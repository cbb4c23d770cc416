import { jest } from '@jest/globals';
import type { KubeClient } from '../../../operator/kube/client.js';
import { createDm, createNamespace, deleteNamespace, dmSpec, findChild, installCrd, kubeConfig, mergePatch, testClient, waitFor, waitReady, type DeploymentView } from '../operator/support/harness.js';
import { compactEtcd, OperatorProcess, sleep, startApiserver, stopApiserver, writesOutsideLeadership, type StoppedApiserver } from './support.js';

// The control plane failing under the operator: the kube-apiserver gone for 20 s, then a watch
// whose resourceVersion etcd has compacted away (410 Gone). The operator backs off (no tight
// reconnect loop), does not die, loses and regains its Lease, and converges afterwards.
jest.setTimeout(300_000);

let client: KubeClient;
let ns: string;
let op: OperatorProcess;
let stopped: StoppedApiserver | undefined;

beforeAll(async () => {
  client = testClient();
  await installCrd(client);
  ns = await createNamespace(client, 'dm-outage');
  // no periodic resync: anything the operator does after a fault, a watch told it to; watches
  // ended by the server every 5–10 s (timeoutSeconds), so they resume often from their resourceVersion
  op = await OperatorProcess.start('op-outage', [ns], ns, ['--resync-seconds', '0', '--min-watch-timeout-seconds', '5']);
  await createDm(client, ns, 'steady', dmSpec({ replicas: 1 }));
  await waitReady(client, ns, 'steady', 120_000);
});

afterAll(async () => {
  if (stopped) await startApiserver(stopped).catch(() => {});
  await op?.stop().catch(() => {});
  await deleteNamespace(client, ns);
  client?.close();
});

describe('kube-apiserver outage', () => {
  it('stopped for 20 s: informers retry with growing backoff, the process lives, loses then regains its Lease, and converges', async () => {
    const mark = op.lines.length;
    // the outage starts with the SIGTERM: from then on the apiserver refuses new connections
    // (stopApiserver returns once the process is gone, up to 5 s later)
    const down = Date.now();
    stopped = await stopApiserver();
    await sleep(20_000);
    expect(op.alive).toBe(true);
    const back = Date.now();
    await startApiserver(stopped);
    stopped = undefined;
    // only while there was no apiserver: an informer started after re-election proves nothing here
    const outage = op.lines.slice(mark).filter((l) => l.time >= down && l.time < back);
    const restarts = outage.filter((l) => l.msg === 'informer failed; restarting');
    // noticed, but no spin: exponential backoff from 0.5 s allows a handful per informer in 20 s
    const seen: Record<string, number> = {};
    for (const l of outage) seen[l.msg] = (seen[l.msg] ?? 0) + 1;
    if (restarts.length === 0) throw new Error(`no informer restart logged during the outage; the operator logged ${JSON.stringify(seen)}`);
    const perInformer = new Map<string, number[]>();
    for (const l of restarts) perInformer.set(String(l.kind), [...(perInformer.get(String(l.kind)) ?? []), Number(l.delayMs)]);
    // every informer lost its watch and kept trying: none died, none was silently dropped
    expect([...perInformer.keys()].sort()).toEqual(['Deployment', 'DigitModel', 'HTTPRoute', 'HorizontalPodAutoscaler', 'Pod', 'PodDisruptionBudget', 'Service']);
    for (const [kind, delays] of perInformer) {
      expect({ kind, attempts: delays.length, fewEnough: delays.length <= 10 }).toMatchObject({ fewEnough: true });
      if (delays.length >= 3) expect(Math.max(...delays)).toBeGreaterThan(delays[0]);
    }
    expect(outage.some((l) => l.msg === 'stopped leading; candidate again' || l.msg === 'lost the lease')).toBe(true);

    await waitFor('op-outage to lead again', () => op.isLeader(), 60_000);
    await mergePatch(client, 'DigitModel', ns, 'steady', { spec: { replicas: 2 } });
    await client.delete('Service', ns, 'steady');
    const dm = await waitReady(client, ns, 'steady', 120_000);
    expect(dm.status?.replicas).toBe(2);
    await waitFor('the deleted Service to be recreated', () => findChild(client, 'Service', ns, 'steady'), 60_000);
    expect(writesOutsideLeadership(op)).toEqual([]);
    expect(op.alive).toBe(true);
  });
});

describe('a watch expired by etcd compaction (410 Gone)', () => {
  it('relists and keeps reacting: watches resumed from a compacted resourceVersion get 410, the operator still converges', async () => {
    // Serve watches straight from etcd (no watch cache, so no bookmarks move a quiet watch's
    // resourceVersion on). The operator's watches ask to be ended after 5–10 s (its
    // --min-watch-timeout-seconds 5; the apiserver's own --min-request-timeout, 30–60 min here, no
    // longer applies): ListWatch then resumes from its last resourceVersion.
    const s = await stopApiserver();
    stopped = s; // if the restart fails, afterAll brings it back with the plane's own flags
    const argv = s.argv.filter((a) => !a.startsWith('--watch-cache='));
    await startApiserver({ ...s, argv: [...argv, '--watch-cache=false'] });
    stopped = undefined;
    try {
      await waitFor('op-outage to lead again', () => op.isLeader(), 60_000);
      const oldRv = (await client.get<{ metadata: { resourceVersion: string } }>('DigitModel', ns, 'steady')).metadata.resourceVersion;
      // move the store's revision on (elsewhere), then compact everything before it away
      const other = await createNamespace(client, 'dm-outage-noise');
      for (let i = 0; i < 20; i++) await client.request('POST', `/api/v1/namespaces/${other}/configmaps`, { body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `noise-${i}` }, data: { i: String(i) } } });
      const compactedAt = await compactEtcd();
      const compactedTime = Date.now();
      expect(compactedAt).toBeGreaterThan(Number(oldRv));
      // what a watch from the operator's last resourceVersion now gets
      expect(await watchStatus(`/apis/digitserve.dev/v1alpha1/namespaces/${ns}/digitmodels?watch=1&resourceVersion=${oldRv}`)).toBe(410);
      const failuresBefore = op.linesWith('informer failed; restarting').length;
      // each informer's watch is ended by the server within 10 s, its resume from the stale
      // resourceVersion gets 410, and it lists afresh
      const relisted = () => [...new Set(op.linesWith('informer listed').filter((l) => l.time >= compactedTime).map((l) => String(l.kind)))].sort();
      await waitFor('every informer to relist after a 410', () => relisted().length === 7, 60_000);
      expect(relisted()).toEqual(['Deployment', 'DigitModel', 'HTTPRoute', 'HorizontalPodAutoscaler', 'Pod', 'PodDisruptionBudget', 'Service']);

      await mergePatch(client, 'DigitModel', ns, 'steady', { spec: { replicas: 3 } });
      await client.delete('Deployment', ns, 'steady-stable');
      await waitFor('the deleted Deployment to be recreated', () => findChild(client, 'Deployment', ns, 'steady-stable'), 60_000);
      const dm = await waitReady(client, ns, 'steady', 120_000);
      expect(dm.status?.replicas).toBe(3);
      expect((await findChild<DeploymentView>(client, 'Deployment', ns, 'steady-stable'))?.spec.replicas).toBe(3);
      // a 410 is a relist, not a failure
      expect(op.linesWith('informer failed; restarting').length).toBe(failuresBefore);
      expect(op.alive).toBe(true);
      await deleteNamespace(client, other);
    } finally {
      // back to the plane's own flags for the tests after this one
      stopped = { ...(await stopApiserver()), argv: s.argv };
      await startApiserver(stopped);
      stopped = undefined;
    }
  });
});

/** The status a watch request ends with: its HTTP status, or the code of an ERROR event it streams. */
async function watchStatus(path: string): Promise<number> {
  const kc = kubeConfig();
  const cluster = kc.getCurrentCluster()!;
  const opts: { headers?: Record<string, string> } & Record<string, unknown> = {};
  await kc.applyToHTTPSOptions(opts);
  const https = await import('node:https');
  return new Promise((resolve, reject) => {
    const req = https.request(`${cluster.server}${path}`, { ...opts, method: 'GET', timeout: 10_000 }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        resolve(res.statusCode ?? 0);
        return;
      }
      let buf = '';
      res.on('data', (d: Buffer) => {
        buf += d.toString();
        const line = buf.split('\n')[0];
        if (!buf.includes('\n')) return;
        const ev = JSON.parse(line) as { type: string; object: { code?: number } };
        req.destroy();
        resolve(ev.type === 'ERROR' ? (ev.object.code ?? 0) : 200);
      });
    });
    req.on('timeout', () => req.destroy(new Error('watch gave no event within 10 s')));
    req.on('error', reject);
    req.end();
  });
}
