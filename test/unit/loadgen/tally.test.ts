import { emptyTally, isSuccess, record } from '../../../hack/loadgen/tally.js';

describe('the load generator tally', () => {
  test('only a 2xx answer counts as served: 429, 5xx and connection errors are failures, by reason', () => {
    const t = emptyTally();
    t.sent = 5;
    record(t, { status: 200, version: '1', track: 'stable', at: 10 });
    record(t, { status: 429, at: 11 });
    record(t, { status: 503, at: 12 });
    record(t, { status: 0, error: 'ECONNRESET', at: 13 });
    record(t, { status: 0, error: 'client-timeout', at: 14 });
    expect(t).toMatchObject({ answered: 5, ok: 1, failed: 4, failures: { 429: 1, 503: 1, ECONNRESET: 1, 'client-timeout': 1 } });
    expect(t.firstFailures.map((f) => f.at)).toEqual([11, 12, 13, 14]);
    expect(isSuccess({ status: 204, at: 0 })).toBe(true);
    expect(isSuccess({ status: 200, error: 'aborted', at: 0 })).toBe(false);
  });

  test('answers are counted by version and track, with when each version first and last answered', () => {
    const t = emptyTally();
    record(t, { status: 200, version: '1', track: 'stable', at: 5 });
    record(t, { status: 200, version: '1', track: 'stable', at: 40 });
    record(t, { status: 200, version: '2', track: 'canary', at: 30 });
    record(t, { status: 200, at: 50 });
    expect(t.versions).toEqual({ 1: 2, 2: 1, '(none)': 1 });
    expect(t.tracks).toEqual({ stable: 2, canary: 1, '(none)': 1 });
    expect(t.versionSeen['1']).toEqual({ first: 5, last: 40 });
    expect(t.versionSeen['2']).toEqual({ first: 30, last: 30 });
  });

  test('only the first 20 failures are kept as samples, all are counted', () => {
    const t = emptyTally();
    for (let i = 0; i < 50; i++) record(t, { status: 502, at: i });
    expect(t.failed).toBe(50);
    expect(t.firstFailures).toHaveLength(20);
  });
});
