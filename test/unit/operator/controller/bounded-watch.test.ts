import { watchTimeoutSeconds } from '../../../../operator/controller/bounded-watch.js';
import { until } from './fake-apiserver.js';
import { SERVICES, serviceInformerPerTest, svc } from './service-informer.js';

const t = serviceInformerPerTest();

describe('watch timeouts (client-go reflector semantics)', () => {
  it('picks a whole number of seconds in [min, 2×min)', () => {
    expect(watchTimeoutSeconds(300, () => 0)).toBe(300);
    expect(watchTimeoutSeconds(300, () => 0.5)).toBe(450);
    expect(watchTimeoutSeconds(300, () => 0.999999)).toBe(599);
    expect(watchTimeoutSeconds(1, () => 0.999999)).toBe(1);
  });

  it('asks for timeoutSeconds and bookmarks; a watch the server ends at its timeout is re-watched from the bookmark’s resourceVersion, without a relist or a failure', async () => {
    t.fake.add(SERVICES, svc('a'));
    const added: string[] = [];
    const { failures } = t.start({ minWatchTimeoutSeconds: 1, onAdd: (n) => added.push(n) });
    await until('the first watch', () => t.fake.watchQueries.length === 1);
    expect(t.fake.watchQueries[0].get('timeoutSeconds')).toBe('1');
    expect(t.fake.watchQueries[0].get('allowWatchBookmarks')).toBe('true');
    t.fake.bump(5); // writes elsewhere: only a bookmark tells the informer
    await until('three watches, each ended by the server', () => t.fake.watches.length >= 3, 10_000);
    expect(t.fake.watches[0]).toBe(`${SERVICES}?resourceVersion=101`);
    expect(t.fake.watches[1]).toBe(`${SERVICES}?resourceVersion=106`);
    expect(t.fake.lists).toEqual([SERVICES]);
    expect(failures()).toEqual([]);
    t.fake.add(SERVICES, svc('b'));
    await until('an event on the latest watch', () => added.includes('b'));
  });

  it('with 0 asks for no timeout (the apiserver decides), and still for bookmarks', async () => {
    t.start({ minWatchTimeoutSeconds: 0 });
    await until('the first watch', () => t.fake.openWatches(SERVICES) === 1);
    expect(t.fake.watchQueries[0].has('timeoutSeconds')).toBe(false);
    expect(t.fake.watchQueries[0].get('allowWatchBookmarks')).toBe('true');
  });

  it.each([
    ['silent', 'a watch whose end never arrives (its connection died silently)'],
    ['hang', 'a watch request that is never answered'],
  ] as const)('cuts %s: %s, after twice its timeout with nothing received, and re-watches from its resourceVersion', async (mode, _what) => {
    t.fake.add(SERVICES, svc('a'));
    t.fake.watchMode = mode;
    const { failures } = t.start({ minWatchTimeoutSeconds: 1 });
    await until('the first watch', () => t.fake.openWatches(SERVICES) === 1);
    await until('the idle watch to be cut and reported', () => failures().length === 1, 10_000);
    expect(String(failures()[0].err)).toMatch(/nothing received for 2 s \(asked to end after 1 s\); connection cut/);
    await until('the cut connection to be gone and a new watch asked for', () => t.fake.watches.length === 2 && t.fake.openWatches(SERVICES) === 1, 10_000);
    expect(t.fake.watches).toEqual([`${SERVICES}?resourceVersion=101`, `${SERVICES}?resourceVersion=101`]);
    expect(t.fake.lists).toEqual([SERVICES]);
  });
});
