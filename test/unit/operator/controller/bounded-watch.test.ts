import { watchTimeoutSeconds } from '../../../../operator/controller/bounded-watch.js';
import { ResilientInformer } from '../../../../operator/controller/informer.js';
import { KubeClient } from '../../../../operator/kube/client.js';
import { capturingLogger, FakeApiserver, until } from './fake-apiserver.js';

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

function startInformer(minWatchTimeoutSeconds: number, onAdd?: (name: string) => void) {
  const { log, lines } = capturingLogger();
  const kc = fake.kubeConfig();
  client = new KubeClient(kc);
  informer = new ResilientInformer(
    { kc, client, kind: 'Service', namespace: 'ns', log, backoffBaseMs: 20, backoffMaxMs: 2_000, minWatchTimeoutSeconds },
    { onAdd: (o) => onAdd?.(o.metadata.name) },
  );
  informer.start();
  const failures = () => lines.filter((l) => l.msg === 'informer failed; restarting');
  return { lines, failures };
}

describe('watch timeouts (client-go reflector semantics)', () => {
  it('picks a whole number of seconds in [min, 2×min)', () => {
    expect(watchTimeoutSeconds(300, () => 0)).toBe(300);
    expect(watchTimeoutSeconds(300, () => 0.5)).toBe(450);
    expect(watchTimeoutSeconds(300, () => 0.999999)).toBe(599);
    expect(watchTimeoutSeconds(1, () => 0.999999)).toBe(1);
  });

  it('asks for timeoutSeconds and bookmarks; a watch the server ends at its timeout is re-watched from the bookmark’s resourceVersion, without a relist or a failure', async () => {
    fake.add(SERVICES, svc('a'));
    const added: string[] = [];
    const { failures } = startInformer(1, (n) => added.push(n));
    await until('the first watch', () => fake.watchQueries.length === 1);
    expect(fake.watchQueries[0].get('timeoutSeconds')).toBe('1');
    expect(fake.watchQueries[0].get('allowWatchBookmarks')).toBe('true');
    fake.bump(5); // writes elsewhere: only a bookmark tells the informer
    await until('three watches, each ended by the server', () => fake.watches.length >= 3, 10_000);
    expect(fake.watches[0]).toBe(`${SERVICES}?resourceVersion=101`);
    expect(fake.watches[1]).toBe(`${SERVICES}?resourceVersion=106`);
    expect(fake.lists).toEqual([SERVICES]);
    expect(failures()).toEqual([]);
    fake.add(SERVICES, svc('b'));
    await until('an event on the latest watch', () => added.includes('b'));
  });

  it('with 0 asks for no timeout (the apiserver decides), and still for bookmarks', async () => {
    startInformer(0);
    await until('the first watch', () => fake.openWatches(SERVICES) === 1);
    expect(fake.watchQueries[0].has('timeoutSeconds')).toBe(false);
    expect(fake.watchQueries[0].get('allowWatchBookmarks')).toBe('true');
  });

  it.each([
    ['silent', 'a watch whose end never arrives (its connection died silently)'],
    ['hang', 'a watch request that is never answered'],
  ] as const)('cuts %s: %s, after twice its timeout with nothing received, and re-watches from its resourceVersion', async (mode, _what) => {
    fake.add(SERVICES, svc('a'));
    fake.watchMode = mode;
    const { failures } = startInformer(1);
    await until('the first watch', () => fake.openWatches(SERVICES) === 1);
    await until('the idle watch to be cut and reported', () => failures().length === 1, 10_000);
    expect(String(failures()[0].err)).toMatch(/nothing received for 2 s \(asked to end after 1 s\); connection cut/);
    await until('the cut connection to be gone and a new watch asked for', () => fake.watches.length === 2 && fake.openWatches(SERVICES) === 1, 10_000);
    expect(fake.watches).toEqual([`${SERVICES}?resourceVersion=101`, `${SERVICES}?resourceVersion=101`]);
    expect(fake.lists).toEqual([SERVICES]);
  });
});
