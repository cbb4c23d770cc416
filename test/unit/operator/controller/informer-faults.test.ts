import { KubeConfig } from '@kubernetes/client-node';
import { ResilientInformer } from '../../../../operator/controller/informer.js';
import { KubeClient } from '../../../../operator/kube/client.js';
import { capturingLogger, FakeApiserver, sleep, until } from './fake-apiserver.js';

const SERVICES = '/api/v1/namespaces/ns/services';
const svc = (name: string) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'ns' } });

let fake: FakeApiserver;
let client: KubeClient | undefined;
let informer: ResilientInformer | undefined;

beforeEach(async () => {
  fake = new FakeApiserver();
  await fake.listen();
});

afterEach(async () => {
  await informer?.stop();
  client?.close();
  await fake.kill().catch(() => {});
  informer = undefined;
  client = undefined;
});

function startInformer(kc: KubeConfig, onAdd?: (name: string) => void) {
  const { log, lines } = capturingLogger();
  client = new KubeClient(kc);
  informer = new ResilientInformer(
    { kc, client, kind: 'Service', namespace: 'ns', log, backoffBaseMs: 20, backoffMaxMs: 2_000 },
    { onAdd: (o) => onAdd?.(o.metadata.name) },
  );
  informer.start();
  const failures = () => lines.filter((l) => l.msg === 'informer failed; restarting');
  return { lines, failures };
}

describe('ResilientInformer under faults', () => {
  it('rides out a server that goes away: failures with growing delays, then the watch resumes from its resourceVersion without a relist', async () => {
    fake.add(SERVICES, svc('a'));
    const added: string[] = [];
    const { failures } = startInformer(fake.kubeConfig(), (n) => added.push(n));
    await until('the first watch', () => fake.openWatches(SERVICES) === 1);

    await fake.kill();
    await until('five failed attempts', () => failures().length >= 5);
    const delays = failures().map((l) => Number(l.delayMs));
    for (let i = 1; i < delays.length; i++) expect(delays[i]).toBeGreaterThan(delays[i - 1]);
    expect(String(failures()[0].err)).toMatch(/Premature close|ECONNRESET|socket hang up/); // the cut watch itself was noticed

    await fake.listen(); // back on the same port
    await until('the watch to be back', () => fake.openWatches(SERVICES) === 1, 10_000);
    expect(fake.lists).toEqual([SERVICES]); // resumed, not relisted
    expect(fake.watches.at(-1)).toBe(`${SERVICES}?resourceVersion=101`);
    fake.add(SERVICES, svc('b'));
    await until('the event after the outage', () => added.includes('b'));
    expect(informer!.list().map((o) => o.metadata.name).sort()).toEqual(['a', 'b']);
  });

  it('retried at once by retryNow() while waiting out a long backoff step, it backs off afresh from the first step if that attempt fails too', async () => {
    const { failures } = startInformer(fake.kubeConfig());
    await until('the first watch', () => fake.openWatches(SERVICES) === 1);
    await fake.kill();
    await until('a backoff step of over a second', () => Number(failures().at(-1)?.delayMs) > 1_000, 10_000);
    const before = failures().length;
    expect(informer!.retryNow()).toBe(true);
    await until('the attempt retried at once to fail', () => failures().length === before + 1);
    expect(Number(failures().at(-1)!.delayMs)).toBeLessThanOrEqual(22); // the first step (20 ms + jitter), not the next one
    await informer!.stop();
    expect(informer!.retryNow()).toBe(false); // nothing to retry once stopped
  });

  it('reports and retries a re-watch that cannot even be set up from inside the done callback (client-node leaves it an unhandled rejection)', async () => {
    // credentials that fail from the second use on: the re-watch after a clean close needs them
    class FailingCredentials extends KubeConfig {
      uses = 0;
      override async applyToFetchOptions(opts: Parameters<KubeConfig['applyToFetchOptions']>[0]) {
        if (++this.uses >= 2) throw new Error('credential plugin failed');
        return super.applyToFetchOptions(opts);
      }
    }
    const kc = new FailingCredentials();
    kc.loadFromString(fake.kubeConfig().exportConfig());
    fake.watchMode = 'close';
    const { failures } = startInformer(kc);
    await until('three reported failures', () => failures().length >= 3);
    expect(failures()[0].err).toMatch(/credential plugin failed/);
    expect(kc.uses).toBeGreaterThanOrEqual(4); // kept retrying: the first watch, then one per attempt
    expect(fake.watches).toHaveLength(1);
  });

  it('leaves no watch open when it is stopped while its watch request is still unanswered (ListWatch.stop cannot reach it yet)', async () => {
    fake.watchMode = 'hang';
    startInformer(fake.kubeConfig());
    await until('the watch request at the server', () => fake.openWatches(SERVICES) === 1);
    await informer!.stop();
    await until('the watch connection closed', () => fake.openWatches(SERVICES) === 0);
    await sleep(100);
    expect(fake.watches).toHaveLength(1); // and nothing watched again
  });

  it('starts no watch when it is stopped while its list is in flight', async () => {
    fake.listDelayMs = 200;
    startInformer(fake.kubeConfig());
    await until('the list to be asked for', () => fake.lists.length === 1);
    await informer!.stop();
    await sleep(400);
    expect(fake.watches).toEqual([]);
    expect(fake.openWatches()).toBe(0);
  });
});
