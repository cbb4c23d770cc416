import { readFileSync } from 'node:fs';
import path from 'node:path';
import { load } from 'js-yaml';
import { METRIC } from '../../../runtime/metrics/names.js';
import { repoRoot } from '../../support/runtime-process.js';
import { promtool } from './promtool.js';

const RULES = path.join(repoRoot, 'charts/digitserve/files/prometheus-rules.yaml');
const TESTS = path.join(repoRoot, 'test/fixtures/promtool/prometheus-rules.test.yaml');

interface Rule {
  record?: string;
  alert?: string;
  expr: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
const groups = (load(readFileSync(RULES, 'utf8')) as { groups: { name: string; rules: Rule[] }[] }).groups;
const rules = groups.flatMap((g) => g.rules);
const alerts = rules.filter((r) => r.alert);

describe('prometheus-rules.yaml (SLOs and model alerts)', () => {
  it('passes promtool check rules', () => {
    const r = promtool(['check', 'rules', RULES], repoRoot);
    expect(r.output).toContain('SUCCESS');
    expect(r.status).toBe(0);
  });

  it('passes promtool test rules: every alert fires on its synthetic series and stays quiet on healthy, blip and low-traffic series', () => {
    const r = promtool(['test', 'rules', TESTS], path.dirname(TESTS));
    expect(r.output).toContain('SUCCESS');
    expect(r.status).toBe(0);
  }, 120_000);

  it('gives every alert a severity, a summary, a description and a runbook note', () => {
    expect(alerts.length).toBeGreaterThanOrEqual(10);
    for (const a of alerts) {
      expect([a.alert, a.labels?.severity]).toEqual([a.alert, expect.stringMatching(/^(page|ticket)$/)]);
      for (const key of ['summary', 'description', 'runbook']) expect([a.alert, key, a.annotations?.[key]?.length ?? 0]).toEqual([a.alert, key, expect.any(Number)]);
      expect(a.annotations?.runbook).toMatch(/^docs\/observability\.md#/);
      expect(a.annotations?.summary).not.toBe('');
    }
  });

  it('tests every alert in the promtool fixture, firing at least once', () => {
    const fixture = load(readFileSync(TESTS, 'utf8')) as { tests: { alert_rule_test: { alertname: string; exp_alerts: unknown[] }[] }[] };
    const fired = new Set(fixture.tests.flatMap((t) => t.alert_rule_test.filter((a) => a.exp_alerts.length > 0).map((a) => a.alertname)));
    expect([...fired].sort()).toEqual(alerts.map((a) => a.alert!).sort());
  });

  it('uses only metric names the runtime exports (SPEC §3) and counts 5xx and 429 as failures', () => {
    const known = new Set<string>(Object.values(METRIC).flatMap((m) => [m, `${m}_bucket`, `${m}_count`, `${m}_sum`]));
    for (const r of rules) {
      for (const name of r.expr.match(/\bdigitserve_[a-z0-9_]+/g) ?? []) expect([r.record ?? r.alert, name, known.has(name)]).toEqual([r.record ?? r.alert, name, true]);
    }
    const availability = rules.find((r) => r.record === 'digitserve:slo_availability_errors:ratio_rate5m')!;
    expect(availability.expr).toContain('code=~"5..|429"');
  });

  it('records every SLO ratio over the 5m, 30m, 1h, 2h, 6h, 1d and 3d windows', () => {
    for (const slo of ['availability', 'latency', 'batch_latency']) {
      for (const w of ['5m', '30m', '1h', '2h', '6h', '1d', '3d']) expect(rules.map((r) => r.record)).toContain(`digitserve:slo_${slo}_errors:ratio_rate${w}`);
    }
  });
});
