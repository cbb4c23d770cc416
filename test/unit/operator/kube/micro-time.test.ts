import { microTime } from '../../../../operator/kube/micro-time.js';

describe('microTime', () => {
  it('writes six fractional digits, as Lease and Event times need', () => {
    expect(microTime(new Date('2026-03-04T05:06:07.089Z'))).toBe('2026-03-04T05:06:07.089000Z');
  });
});
