import { readFileSync } from 'node:fs';
import path from 'node:path';
import { load } from 'js-yaml';
import { METRIC } from '../../../runtime/metrics/names.js';
import { repoRoot } from '../../support/runtime-process.js';
import { checkExpressions, substituteGrafanaVariables } from './promtool.js';

interface Panel {
  title: string;
  type: string;
  targets?: { expr: string }[];
}
const dashboard = JSON.parse(readFileSync(path.join(repoRoot, 'charts/digitserve/files/dashboard.json'), 'utf8')) as {
  panels: Panel[];
  templating: { list: { name: string; query: unknown }[] };
};
const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));

describe('dashboard.json', () => {
  it('has every PromQL expression accepted by promtool once Grafana variables are substituted', () => {
    expect(exprs.length).toBeGreaterThanOrEqual(12);
    const r = checkExpressions(exprs.map(substituteGrafanaVariables));
    expect(r.output).toContain('SUCCESS');
    expect(r.status).toBe(0);
  });

  it('rejects a broken expression the same way (the check can fail)', () => {
    const r = checkExpressions([substituteGrafanaVariables('sum by (track (rate(digitserve_requests_total{model=~"$model"}[$__rate_interval]))')]);
    expect(r.status).not.toBe(0);
  });

  it('is templated by namespace and model, and every query filters on both', () => {
    const names = dashboard.templating.list.map((v) => v.name);
    expect(names).toEqual(expect.arrayContaining(['namespace', 'model']));
    for (const e of exprs) expect(e).toMatch(/model=~"\$model", namespace=~"\$namespace"/);
  });

  it('shows availability, latency percentiles, throughput, queue depth, batch size, confidence, unreliable share and digit mix per track', () => {
    const all = exprs.join('\n');
    for (const m of [METRIC.requests, METRIC.requestDuration, METRIC.queueDepth, METRIC.batchSize, METRIC.confidence, METRIC.unreliable, METRIC.predictions]) expect(all).toContain(m);
    for (const q of ['0.5', '0.95', '0.99']) expect(all).toContain(`histogram_quantile(${q}, sum by (track, le) (rate(${METRIC.requestDuration}_bucket`);
    const perTrack = exprs.filter((e) => /by \([^)]*track/.test(e) || /\{\{track\}\}/.test(e));
    expect(perTrack.length).toBeGreaterThanOrEqual(10);
  });
});

describe('adapter-rules.yaml', () => {
  const config = load(readFileSync(path.join(repoRoot, 'charts/digitserve/files/adapter-rules.yaml'), 'utf8')) as {
    rules: { seriesQuery: string; name: { as: string }; resources: { overrides: Record<string, { resource: string }> }; metricsQuery: string }[];
  };

  it('exposes the HPA gauges under the names operator/children/hpa.ts asks for, per pod', () => {
    expect(config.rules.map((r) => r.name.as).sort()).toEqual([METRIC.queueDepth, METRIC.latencyP95].sort());
    for (const r of config.rules) {
      expect(r.seriesQuery.startsWith(r.name.as)).toBe(true);
      expect(r.resources.overrides.pod.resource).toBe('pod');
      expect(r.resources.overrides.namespace.resource).toBe('namespace');
    }
  });

  it('has metricsQuery templates that are valid PromQL once the adapter fills them in', () => {
    const filled = config.rules.map((r) => r.metricsQuery.replace('<<.GroupBy>>', 'namespace, pod').replace('<<.Series>>', r.name.as).replace('<<.LabelMatchers>>', 'namespace="mail", pod=~"a|b"'));
    const r = checkExpressions(filled);
    expect(r.status).toBe(0);
  });
});
