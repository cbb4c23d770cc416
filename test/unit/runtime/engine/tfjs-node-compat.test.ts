import util from 'node:util';
import { restoreUtilForTfjsNode } from '../../../../runtime/engine/tfjs-node-compat.js';

describe('restoreUtilForTfjsNode', () => {
  it('adds the util functions Node 23 removed, with their old meaning', () => {
    const u: { isNullOrUndefined?: (x: unknown) => boolean; isArray?: (x: unknown) => boolean } = {};
    restoreUtilForTfjsNode(u);
    expect([null, undefined, 0, '', false, {}].map((x) => u.isNullOrUndefined!(x))).toEqual([true, true, false, false, false, false]);
    expect([[], [1], {}, 'a', null].map((x) => u.isArray!(x))).toEqual([true, true, false, false, false]);
  });

  it('keeps existing functions, and leaves node:util with both after the call on every Node', () => {
    const own = (): boolean => true;
    const u = { isNullOrUndefined: own, isArray: own };
    restoreUtilForTfjsNode(u);
    expect(u.isNullOrUndefined).toBe(own);
    expect(u.isArray).toBe(own);
    restoreUtilForTfjsNode();
    const real = util as unknown as { isNullOrUndefined: (x: unknown) => boolean; isArray: (x: unknown) => boolean };
    expect(real.isNullOrUndefined(null)).toBe(true);
    expect(real.isArray([])).toBe(true);
  });
});
