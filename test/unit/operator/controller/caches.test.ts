import { ClusterCaches } from '../../../../operator/controller/caches.js';
import { DigitModelController } from '../../../../operator/controller/controller.js';
import { KubeClient } from '../../../../operator/kube/client.js';
import { OperatorMetrics } from '../../../../operator/metrics.js';
import { capturingLogger, FakeApiserver, until } from './fake-apiserver.js';

const DMS = '/apis/digitserve.dev/v1alpha1/namespaces/ns/digitmodels';
// DigitModels, the children without HTTPRoute (the fake serves no Gateway API discovery) and the runtime pods
const WATCHED = 6;

describe('ClusterCaches and leadership terms', () => {
  let fake: FakeApiserver;
  let client: KubeClient;
  let caches: ClusterCaches;

  beforeEach(async () => {
    fake = new FakeApiserver();
    await fake.listen();
    const kc = fake.kubeConfig();
    client = new KubeClient(kc);
    caches = new ClusterCaches({ kc, client, log: capturingLogger().log, namespaces: ['ns'], backoffBaseMs: 20 });
  });

  afterEach(async () => {
    await caches.stop();
    client.close();
    await fake.kill();
  });

  const term = () =>
    new DigitModelController({
      caches,
      client,
      log: capturingLogger().log,
      metrics: new OperatorMetrics(),
      defaults: { image: 'img', progressDeadlineSeconds: 60, preStopSleepSeconds: 1 },
      events: { record: () => {} },
      namespaces: ['ns'],
      concurrency: 1,
      resyncMs: 0,
    });

  it('outlive a term: a controller that stops (the Lease lost) leaves every watch open, and the next term starts on the warm caches without a relist', async () => {
    const first = term();
    await first.start();
    expect(caches.gatewayApi).toBe(false);
    expect(fake.lists).toHaveLength(WATCHED);
    // synced means listed; each watch request follows its list
    await until('every watch open', () => fake.openWatches() === WATCHED);

    await first.stop();
    // still watching while no term runs: what happens meanwhile reaches the cache
    expect(fake.openWatches()).toBe(WATCHED);
    fake.add(DMS, { apiVersion: 'digitserve.dev/v1alpha1', kind: 'DigitModel', metadata: { name: 'meanwhile', namespace: 'ns' } });
    await until('the DigitModel in the cache', () => caches.digitModel('ns', 'meanwhile') !== undefined);

    const second = term();
    await second.start();
    expect(second.synced()).toBe(true);
    expect(fake.lists).toHaveLength(WATCHED); // nothing listed again
    expect(fake.watches).toHaveLength(WATCHED); // nor re-watched
    await second.stop();
  });

  it('a new term makes informers waiting in backoff retry at once: the watches resume from their resourceVersions (no relist) instead of after their backoff step', async () => {
    await caches.stop();
    const { log, lines } = capturingLogger();
    // a 10-minute backoff step: within this test only the new term can bring the watches back
    caches = new ClusterCaches({ kc: fake.kubeConfig(), client, log, namespaces: ['ns'], backoffBaseMs: 600_000, backoffMaxMs: 600_000 });
    const first = term();
    await first.start();
    await until('every watch open', () => fake.openWatches() === WATCHED);
    await first.stop(); // the Lease lost in an outage
    await fake.kill();
    const failed = () => lines.filter((l) => l.msg === 'informer failed; restarting');
    await until('every informer to fail and wait', () => failed().length === WATCHED);
    expect(failed().map((l) => l.delayMs)).toEqual(Array(WATCHED).fill(600_000));
    await fake.listen(); // the apiserver is back; the informers are still waiting

    const second = term();
    await second.start();
    await until('every watch open again', () => fake.openWatches() === WATCHED, 10_000);
    expect(fake.lists).toHaveLength(WATCHED); // resumed, not relisted
    expect(lines.filter((l) => l.msg === 'informer retrying now')).toHaveLength(WATCHED);
    fake.add(DMS, { apiVersion: 'digitserve.dev/v1alpha1', kind: 'DigitModel', metadata: { name: 'after', namespace: 'ns' } });
    await until('an event after the outage in the cache', () => caches.digitModel('ns', 'after') !== undefined);
    await second.stop();
  });

  it('stop() ends every watch', async () => {
    await caches.start();
    await until('all watches open', () => fake.openWatches() === WATCHED);
    await caches.stop();
    await until('all watches closed', () => fake.openWatches() === 0);
  });
});
