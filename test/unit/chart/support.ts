import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadAll } from 'js-yaml';
import { binDir } from '../../../hack/cluster/build.js';
import { readState } from '../../../hack/cluster/state.js';

/** Helpers the chart's unit and integration tests share: find helm/kubectl, render the chart. */

export const CHART = 'charts/digitserve';
export const VALUES_DIR = 'test/fixtures/chart-values';

export interface Manifest {
  apiVersion: string;
  kind: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- labels and annotations as rendered
  metadata: { name: string; namespace?: string; [key: string]: any };
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- rendered YAML, inspected field by field
  [key: string]: any;
}

function executable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The binary the local control plane uses (.cluster/state.json, else the build cache), so the
 * chart is tested with the helm/kubectl built for the Kubernetes version under test; $HELM or
 * $KUBECTL override; PATH last.
 */
export function binary(name: 'helm' | 'kubectl'): string {
  const override = process.env[name.toUpperCase()];
  if (override) return override;
  const fromState = readState()?.binaries[name];
  if (fromState && executable(fromState)) return fromState;
  const cached = path.join(binDir(), name);
  if (executable(cached)) return cached;
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && executable(path.join(dir, name))) return path.join(dir, name);
  }
  throw new Error(`no ${name}: run \`npm run cluster:up\` once (it builds helm and kubectl), or set $${name.toUpperCase()}`);
}

export interface RunResult {
  status: number;
  stdout: string;
  stderr: string;
}

export function run(bin: string, args: string[], input?: string): RunResult {
  const r = spawnSync(bin, args, { encoding: 'utf8', input, maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw r.error;
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export function helm(args: string[]): RunResult {
  return run(binary('helm'), args);
}

/** Runs helm and fails with its stderr when it exits non-zero. */
export function helmOk(args: string[]): string {
  const r = helm(args);
  if (r.status !== 0) throw new Error(`helm ${args.join(' ')} exited ${r.status}:\n${r.stderr}`);
  return r.stdout;
}

export interface RenderOptions {
  /** Chart directory (default charts/digitserve). */
  chart?: string;
  release?: string;
  namespace?: string;
  /** Files under test/fixtures/chart-values/ (names without the folder). */
  values?: string[];
  set?: Record<string, string>;
  showOnly?: string[];
}

export function templateArgs(o: RenderOptions = {}): string[] {
  const args = ['template', o.release ?? 'ds', o.chart ?? CHART, '--namespace', o.namespace ?? 'digitserve-system'];
  for (const v of o.values ?? []) args.push('--values', path.join(VALUES_DIR, v));
  for (const [k, v] of Object.entries(o.set ?? {})) args.push('--set', `${k}=${v}`);
  for (const s of o.showOnly ?? []) args.push('--show-only', s);
  return args;
}

/** `helm template` parsed into objects (empty documents dropped). */
export function render(o: RenderOptions = {}): Manifest[] {
  return parseManifests(helmOk(templateArgs(o)));
}

export function parseManifests(text: string): Manifest[] {
  return (loadAll(text) as (Manifest | null)[]).filter((d): d is Manifest => !!d);
}

export function only(manifests: Manifest[], kind: string, name?: string): Manifest {
  const found = manifests.filter((m) => m.kind === kind && (name === undefined || m.metadata.name === name));
  if (found.length !== 1) throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}, rendered ${found.length}`);
  return found[0];
}

// Small stand-ins for the chart's content files (files/), so the templates that include them are
// tested whether or not the real files have been written yet.
export const RULES = 'groups:\n  - name: digitserve-slo\n    rules:\n      - record: digitserve:availability:ratio_rate5m\n        expr: |\n          1 - sum(rate(digitserve_requests_total{code=~"5..|429"}[5m])) / sum(rate(digitserve_requests_total[5m]))\n      - alert: DigitserveUnreliableShareHigh\n        expr: rate(digitserve_unreliable_total[30m]) > 0.2\n        for: 15m\n        labels: {severity: warning}\n        annotations: {summary: "Many unreliable predictions"}\n';
export const DASHBOARD = JSON.stringify({ title: 'digitserve', uid: 'digitserve', panels: [{ type: 'timeseries', title: 'p95 "latency"', targets: [{ expr: 'histogram_quantile(0.95, sum by (le) (rate(digitserve_request_duration_seconds_bucket[5m])))' }] }] }, null, 2);
export const ADAPTER_CONFIG = 'rules:\n  - seriesQuery: \'digitserve_queue_depth{namespace!="",pod!=""}\'\n    resources: {overrides: {namespace: {resource: namespace}, pod: {resource: pod}}}\n    name: {matches: ^digitserve_queue_depth$, as: digitserve_queue_depth}\n    metricsQuery: avg(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)\n  - seriesQuery: \'digitserve_request_latency_p95_seconds{namespace!="",pod!=""}\'\n    resources: {template: <<.Resource>>}\n    metricsQuery: max(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)\n';

/** A temporary copy of the chart with the stand-in content files; returns the temp dir (chart in <dir>/digitserve). */
export function chartCopyWithContent(adapter = ADAPTER_CONFIG): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'digitserve-chart-'));
  const chartDir = path.join(dir, 'digitserve');
  fs.cpSync(CHART, chartDir, { recursive: true });
  fs.mkdirSync(path.join(chartDir, 'files'), { recursive: true });
  fs.writeFileSync(path.join(chartDir, 'files', 'prometheus-rules.yaml'), RULES);
  fs.writeFileSync(path.join(chartDir, 'files', 'dashboard.json'), DASHBOARD);
  fs.writeFileSync(path.join(chartDir, 'files', 'adapter-rules.yaml'), adapter);
  return dir;
}
