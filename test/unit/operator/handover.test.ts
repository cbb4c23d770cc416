import type { KubeObject } from '../../../operator/api/types.js';
import { desiredChildren } from '../../../operator/children/index.js';
import { promotionHandover } from '../../../operator/handover.js';
import { defaults, deployment, digitModel, find } from './fixtures.js';

/** #15 item 2: a promotion keeps the canary until the stable Deployment runs the promoted version completely. */

const owned = (d: KubeObject): KubeObject => ({
  ...d,
  metadata: { ...d.metadata, ownerReferences: [{ apiVersion: 'digitserve.dev/v1alpha1', kind: 'DigitModel', name: 'postcodes', uid: 'uid-1', controller: true }] },
});
// after the promotion edit: spec.model runs the canary's version 4, spec.canary is gone
const promoted = digitModel({ replicas: 4, model: { name: 'mnist-cnn', version: '4', uri: 'pvc://models/mnist-cnn/4' } });
const canary4 = owned(deployment({ version: '4', replicas: 2 }));

describe('promotionHandover', () => {
  it('keeps the canary while the stable Deployment still rolls to the promoted version', () => {
    for (const stable of [
      deployment({ version: '3', replicas: 2 }), // not yet updated
      deployment({ version: '4', replicas: 4, generation: 3, observedGeneration: 2 }), // controller has not seen it
      deployment({ version: '4', replicas: 4, ready: 2, available: 2, updated: 2, current: 4 }), // half-way
      deployment({ version: '4', replicas: 4, available: 3 }), // one new pod not available yet
    ]) {
      expect(promotionHandover(promoted, { stable, canary: canary4 })).toMatchObject({ version: '4', canary: canary4 });
    }
    expect(promotionHandover(promoted, { canary: canary4 })).toBeDefined(); // stable missing from the cache
  });

  it('ends once stable runs the promoted version at full strength', () => {
    expect(promotionHandover(promoted, { stable: deployment({ version: '4', replicas: 4 }), canary: canary4 })).toBeUndefined();
  });

  it('is no handover when the canary was removed without promoting it, is not ours, or is going', () => {
    const removed = digitModel({ replicas: 4 }); // spec.model still runs version 3
    expect(promotionHandover(removed, { stable: deployment({ version: '3', replicas: 4 }), canary: canary4 })).toBeUndefined();
    expect(promotionHandover(promoted, { stable: deployment({ version: '3', replicas: 2 }), canary: deployment({ version: '4', replicas: 2 }) })).toBeUndefined();
    const deleting = { ...canary4, metadata: { ...canary4.metadata, deletionTimestamp: '2026-01-01T00:00:00Z' } };
    expect(promotionHandover(promoted, { canary: deleting })).toBeUndefined();
    const withCanary = digitModel({ canary: { version: '4', uri: 'pvc://models/mnist-cnn/4', weight: 10 } });
    expect(promotionHandover(withCanary, { canary: canary4 })).toBeUndefined();
  });

  it("keeps the canary's live HTTPRoute weight, and the route keeps that backend", () => {
    const route = { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'postcodes' }, spec: { rules: [{ backendRefs: [{ name: 'postcodes-stable', weight: 70 }, { name: 'postcodes-canary', weight: 30 }] }] } };
    const h = promotionHandover(promoted, { canary: canary4, route });
    expect(h?.routeCanaryWeight).toBe(30);
    const dm = { ...promoted, spec: { ...promoted.spec, traffic: { parentRefs: [{ name: 'gw' }] } } };
    type Route = { spec: { rules: { backendRefs: { name: string; weight: number }[] }[] } };
    const during = find<Route>(desiredChildren(dm, defaults, { canaryReady: false, handoverRouteWeight: 30 }), 'HTTPRoute', 'postcodes');
    expect(during.spec.rules[0].backendRefs.map((b) => `${b.name}=${b.weight}`)).toEqual(['postcodes-stable=70', 'postcodes-canary=30']);
    const after = find<Route>(desiredChildren(dm, defaults, { canaryReady: false }), 'HTTPRoute', 'postcodes');
    expect(after.spec.rules[0].backendRefs.map((b) => `${b.name}=${b.weight}`)).toEqual(['postcodes-stable=100']);
    expect(promotionHandover(promoted, { canary: canary4 })?.routeCanaryWeight).toBeUndefined();
  });
});
