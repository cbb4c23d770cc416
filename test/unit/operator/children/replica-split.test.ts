import fc from 'fast-check';
import { replicaRatioWeight, splitReplicas } from '../../../../operator/children/replica-split.js';

describe('splitReplicas (SPEC §2)', () => {
  it.each([
    // total, weight, stable, canary
    [4, 10, 3, 1], // the SPEC example: 1 of 4 pods at weight 10
    [5, 20, 4, 1],
    [5, 50, 2, 3], // 2.5 rounds half up to 3
    [10, 25, 7, 3], // 2.5 → 3
    [10, 15, 8, 2], // 1.5 → 2
    [10, 14, 9, 1], // 1.4 → 1
    [2, 1, 1, 1], // clamped up to 1
    [2, 99, 1, 1], // clamped down to total − 1
    [3, 100, 1, 2], // weight 100 still keeps one stable pod
    [20, 10, 18, 2],
  ])('total %i at weight %i → %i stable + %i canary', (total, weight, stable, canary) => {
    expect(splitReplicas(total, weight)).toEqual({ stable, canary });
  });

  it('puts every pod on stable without a canary, at weight 0, or with fewer than two pods', () => {
    expect(splitReplicas(4, undefined)).toEqual({ stable: 4, canary: 0 });
    expect(splitReplicas(4, 0)).toEqual({ stable: 4, canary: 0 });
    expect(splitReplicas(1, 50)).toEqual({ stable: 1, canary: 0 });
    expect(splitReplicas(0, 50)).toEqual({ stable: 0, canary: 0 });
  });

  it('always keeps both tracks populated and the total intact once a canary gets pods', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 1000 }), fc.integer({ min: 1, max: 100 }), (total, weight) => {
        const s = splitReplicas(total, weight);
        expect(s.stable + s.canary).toBe(total);
        expect(s.canary).toBeGreaterThanOrEqual(1);
        expect(s.stable).toBeGreaterThanOrEqual(1);
        // within half a pod of the requested share unless the clamp had to step in
        const exact = (total * weight) / 100;
        if (exact >= 1 && exact <= total - 1) expect(Math.abs(s.canary - exact)).toBeLessThanOrEqual(0.5);
      }),
    );
  });
});

describe('replicaRatioWeight', () => {
  it('reports the canary share of ready pods (1 of 4 → 25)', () => {
    expect(replicaRatioWeight(3, 1)).toBe(25);
    expect(replicaRatioWeight(4, 1)).toBe(20);
    expect(replicaRatioWeight(0, 0)).toBe(0);
    expect(replicaRatioWeight(2, 1)).toBe(33);
  });
});
