import { KubeConfig } from '@kubernetes/client-node';
import { sleep, until } from './fake-apiserver.js';
import { SERVICES, serviceInformerPerTest, svc } from './service-informer.js';

const t = serviceInformerPerTest();

describe('ResilientInformer under faults', () => {
  it('rides out a server that goes away: failures with growing delays, then the watch resumes from its resourceVersion without a relist', async () => {
    t.fake.add(SERVICES, svc('a'));
    const added: string[] = [];
    const { failures } = t.start({ onAdd: (n) => added.push(n) });
    await until('the first watch', () => t.fake.openWatches(SERVICES) === 1);

    await t.fake.kill();
    await until('five failed attempts', () => failures().length >= 5);
    const delays = failures().map((l) => Number(l.delayMs));
    for (let i = 1; i < delays.length; i++) expect(delays[i]).toBeGreaterThan(delays[i - 1]);
    expect(String(failures()[0].err)).toMatch(/Premature close|ECONNRESET|socket hang up/); // the cut watch itself was noticed

    await t.fake.listen(); // back on the same port
    await until('the watch to be back', () => t.fake.openWatches(SERVICES) === 1, 10_000);
    expect(t.fake.lists).toEqual([SERVICES]); // resumed, not relisted
    expect(t.fake.watches.at(-1)).toBe(`${SERVICES}?resourceVersion=101`);
    t.fake.add(SERVICES, svc('b'));
    await until('the event after the outage', () => added.includes('b'));
    expect(t.informer!.list().map((o) => o.metadata.name).sort()).toEqual(['a', 'b']);
  });

  it('retried at once by retryNow() while waiting out a long backoff step, it backs off afresh from the first step if that attempt fails too', async () => {
    const { failures } = t.start();
    await until('the first watch', () => t.fake.openWatches(SERVICES) === 1);
    await t.fake.kill();
    await until('a backoff step of over a second', () => Number(failures().at(-1)?.delayMs) > 1_000, 10_000);
    const before = failures().length;
    expect(t.informer!.retryNow()).toBe(true);
    await until('the attempt retried at once to fail', () => failures().length === before + 1);
    expect(Number(failures().at(-1)!.delayMs)).toBeLessThanOrEqual(22); // the first step (20 ms + jitter), not the next one
    await t.informer!.stop();
    expect(t.informer!.retryNow()).toBe(false); // nothing to retry once stopped
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
    kc.loadFromString(t.fake.kubeConfig().exportConfig());
    t.fake.watchMode = 'close';
    const { failures } = t.start({ kc });
    await until('three reported failures', () => failures().length >= 3);
    expect(failures()[0].err).toMatch(/credential plugin failed/);
    expect(kc.uses).toBeGreaterThanOrEqual(4); // kept retrying: the first watch, then one per attempt
    expect(t.fake.watches).toHaveLength(1);
  });

  it('leaves no watch open when it is stopped while its watch request is still unanswered (ListWatch.stop cannot reach it yet)', async () => {
    t.fake.watchMode = 'hang';
    t.start();
    await until('the watch request at the server', () => t.fake.openWatches(SERVICES) === 1);
    await t.informer!.stop();
    await until('the watch connection closed', () => t.fake.openWatches(SERVICES) === 0);
    await sleep(100);
    expect(t.fake.watches).toHaveLength(1); // and nothing watched again
  });

  it('starts no watch when it is stopped while its list is in flight', async () => {
    t.fake.listDelayMs = 200;
    t.start();
    await until('the list to be asked for', () => t.fake.lists.length === 1);
    await t.informer!.stop();
    await sleep(400);
    expect(t.fake.watches).toEqual([]);
    expect(t.fake.openWatches()).toBe(0);
  });
});
