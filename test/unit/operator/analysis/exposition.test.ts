import { parseExposition } from '../../../../operator/analysis/exposition.js';

describe('the Prometheus text exposition parser', () => {
  it('reads samples with and without labels, skipping HELP, TYPE, comments and blank lines', () => {
    const text = [
      '# HELP digitserve_requests_total Prediction requests answered, by HTTP status code.',
      '# TYPE digitserve_requests_total counter',
      'digitserve_requests_total{code="200",model="mnist-cnn",version="1",track="stable"} 12',
      '',
      '# a free comment',
      'process_start_time_seconds 1765065600',
      'digitserve_request_duration_seconds_bucket{le="+Inf"} 3 1765065600000',
      'x{a="1" , b="2",} 1.5e3',
    ].join('\n');
    const parsed = parseExposition(text);
    expect(parsed).toEqual({
      ok: true,
      samples: [
        { name: 'digitserve_requests_total', labels: { code: '200', model: 'mnist-cnn', version: '1', track: 'stable' }, value: 12 },
        { name: 'process_start_time_seconds', labels: {}, value: 1765065600 },
        { name: 'digitserve_request_duration_seconds_bucket', labels: { le: '+Inf' }, value: 3 },
        { name: 'x', labels: { a: '1', b: '2' }, value: 1500 },
      ],
    });
  });

  it('unescapes label values and reads +Inf, -Inf and NaN values', () => {
    const parsed = parseExposition('m{path="C:\\\\dir",msg="say \\"hi\\"\\nbye",s="{a,b}"} +Inf\nn -Inf\no NaN\n');
    if (!parsed.ok) throw new Error(parsed.error.message);
    expect(parsed.samples[0]).toEqual({ name: 'm', labels: { path: 'C:\\dir', msg: 'say "hi"\nbye', s: '{a,b}' }, value: Infinity });
    expect(parsed.samples[1].value).toBe(-Infinity);
    expect(parsed.samples[2].value).toBeNaN();
  });

  it('reads the special values in any case, as Prometheus does (prom-client writes an event-loop gauge with no samples yet as "Nan")', () => {
    const parsed = parseExposition('a Nan\nb nan\nc +inf\nd -INF\n');
    if (!parsed.ok) throw new Error(parsed.error.message);
    expect(parsed.samples.map((x) => x.value)).toEqual([NaN, NaN, Infinity, -Infinity]);
  });

  it.each([
    ['a value that is no number', 'm 12abc'],
    ['no value', 'm{a="1"}'],
    ['an unterminated label value', 'm{a="1} 3'],
    ['a label without a quoted value', 'm{a=1} 3'],
    ['a line that is no sample', '{a="1"} 3'],
  ])('refuses %s with a coded error naming the line', (_what, line) => {
    const parsed = parseExposition(`ok 1\n${line}\n`);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.error.code).toBe('malformed_exposition');
      expect(parsed.error.message).toMatch(/^line 2: /);
    }
  });
});
