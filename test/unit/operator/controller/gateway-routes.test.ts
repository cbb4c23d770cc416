import { pino } from 'pino';
import { GatewayRoutes } from '../../../../operator/controller/gateway-routes.js';
import type { InformerSet } from '../../../../operator/controller/informer.js';
import { until } from './fake-apiserver.js';

/** #15 item 5: the HTTPRoute cache follows the Gateway API as discovery sees it, both ways. */

class FakeSet {
  started = false;
  stopped = false;
  synced = false;
  start() {
    this.started = true;
  }
  async stop() {
    this.stopped = true;
  }
  hasSynced() {
    return this.synced;
  }
  retryNow() {
    return 0;
  }
  get() {
    return { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'r' } };
  }
  list() {
    return [this.get()];
  }
}

function setup(served: boolean | undefined, recheckMs = 0) {
  const sets: FakeSet[] = [];
  const state = { served, asked: 0, changes: 0 };
  const routes = new GatewayRoutes({
    makeInformer: () => {
      const s = new FakeSet();
      sets.push(s);
      return s as unknown as InformerSet;
    },
    discover: async () => {
      state.asked++;
      return state.served;
    },
    log: pino({ level: 'silent' }),
    recheckMs,
    onChange: () => state.changes++,
  });
  return { routes, sets, state };
}

describe('GatewayRoutes', () => {
  let routes: GatewayRoutes | undefined;
  afterEach(async () => routes?.stop());

  it('starts watching when the Gateway API appears after start-up, and counts as watching only once synced', async () => {
    const s = setup(false);
    routes = s.routes;
    s.routes.init(false);
    expect(s.routes.served()).toBe(false);
    expect(s.routes.get('ns', 'r')).toBeUndefined();
    s.state.served = true;
    await s.routes.recheck();
    expect(s.routes.served()).toBe(true);
    expect(s.sets).toHaveLength(1);
    expect(s.sets[0].started).toBe(true);
    expect(s.routes.watching()).toBe(false); // an unsynced cache knows no route: none is judged missing
    expect(s.routes.list('ns')).toEqual([]);
    s.sets[0].synced = true;
    await until('the change to be announced', () => s.state.changes === 1);
    expect(s.routes.watching()).toBe(true);
    expect(s.routes.list('ns')).toHaveLength(1);
  });

  it('stops watching when the Gateway API goes, and says so', async () => {
    const s = setup(true);
    routes = s.routes;
    s.routes.init(true);
    s.sets[0].synced = true;
    await until('synced', () => s.state.changes === 1);
    s.state.served = false;
    await s.routes.recheck();
    expect(s.sets[0].stopped).toBe(true);
    expect(s.routes.served()).toBe(false);
    expect(s.routes.watching()).toBe(false);
    expect(s.state.changes).toBe(2);
  });

  it('keeps its view when discovery does not answer', async () => {
    const s = setup(undefined);
    routes = s.routes;
    s.routes.init(true);
    await s.routes.recheck();
    expect(s.routes.served()).toBe(true);
    expect(s.sets[0].stopped).toBe(false);
  });

  it('asks discovery again on its schedule', async () => {
    const s = setup(false, 20);
    routes = s.routes;
    s.routes.init(false);
    s.state.served = true;
    await until('a scheduled recheck to find the API', () => s.routes.served());
    expect(s.state.asked).toBeGreaterThanOrEqual(1);
  });

  it('shares one discovery request between concurrent rechecks', async () => {
    const s = setup(false);
    routes = s.routes;
    s.routes.init(false);
    await Promise.all([s.routes.recheck(), s.routes.recheck(), s.routes.recheck()]);
    expect(s.state.asked).toBe(1);
  });

  it('waits at start-up only for a set started at start-up', async () => {
    const late = setup(true);
    late.routes.init(false);
    expect(late.routes.startupSynced()).toBe(true);
    await late.routes.recheck();
    expect(late.routes.startupSynced()).toBe(true); // appeared later: /readyz does not flap for it
    await late.routes.stop();
    const early = setup(true);
    routes = early.routes;
    early.routes.init(true);
    expect(early.routes.startupSynced()).toBe(false);
    early.sets[0].synced = true;
    expect(early.routes.startupSynced()).toBe(true);
  });
});
