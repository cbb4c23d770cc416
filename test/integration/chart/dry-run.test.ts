import fs from 'node:fs';
import path from 'node:path';
import { chartCopyWithContent, helmOk, parseManifests, templateArgs } from '../../unit/chart/support.js';
import { createNamespace, deleteNamespace, exists, kubectl, kubectlOk } from './support.js';

/**
 * Server-side dry-run of everything the chart renders, every optional part on, against the real
 * apiserver: schemas, CEL, RBAC objects and the monitoring.coreos.com kinds. The apiserver has no
 * prometheus-operator; the minimal copies of its CRDs in fixtures/ are installed where missing and
 * removed afterwards (only those this file installed).
 */

const MONITORING_CRDS = ['servicemonitors', 'podmonitors', 'prometheusrules'].map((p) => `${p}.monitoring.coreos.com`);
const installed: string[] = [];
let ns: string;

beforeAll(() => {
  ns = createNamespace('chart-dry');
  const fixture = parseManifests(fs.readFileSync('test/integration/chart/fixtures/prometheus-operator-crds.yaml', 'utf8'));
  for (const crd of fixture) {
    if (exists('crd', crd.metadata.name)) continue;
    kubectlOk(['create', '-f', '-'], JSON.stringify(crd));
    installed.push(crd.metadata.name);
  }
  kubectlOk(['wait', '--for=condition=Established', '--timeout=60s', ...MONITORING_CRDS.map((n) => `crd/${n}`)]);
});

afterAll(() => {
  for (const name of installed) kubectl(['delete', 'crd', name, '--ignore-not-found']);
  if (ns) deleteNamespace(ns);
});

function rendered(values: string[], chart?: string): string {
  // the dashboard goes to the release namespace here: the fixture's `monitoring` namespace does not exist
  return helmOk(templateArgs({ chart, release: 'dry', namespace: ns, values, set: { 'monitoring.grafanaDashboard.namespace': '' } }));
}

/** Server-side apply, dry run: the apiserver validates and admits each object but stores nothing. */
function dryRun(manifest: string) {
  return kubectl(['apply', '--server-side', '--force-conflicts', '--field-manager=chart-dry-run', '--dry-run=server', '--validate=strict', '-f', '-'], manifest);
}

// the namespace enforces the restricted Pod Security Standard and warns on violations: no warning may appear
test.each([['default.yaml'], ['all-optional.yaml'], ['production.yaml']])('the apiserver accepts every object rendered with %s, without warnings', (values) => {
  const manifest = rendered([values]);
  const objects = parseManifests(manifest);
  const r = dryRun(manifest);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  // one "(server dry run)" line per object: nothing was skipped
  const lines = r.stdout.trim().split('\n');
  expect(lines).toHaveLength(objects.length);
  for (const line of lines) expect(line).toMatch(/ serverside-applied \(server dry run\)$/);
});

test('with content files in place, the PrometheusRule and both ConfigMaps are accepted too', () => {
  const dir = chartCopyWithContent();
  try {
    const manifest = rendered(['all-optional.yaml'], path.join(dir, 'digitserve'));
    const kinds = parseManifests(manifest).map((m) => `${m.kind}/${m.metadata.name}`);
    expect(kinds).toEqual(expect.arrayContaining(['PrometheusRule/dry-digitserve', 'ConfigMap/dry-digitserve-dashboard', 'ConfigMap/dry-digitserve-adapter-rules']));
    const r = dryRun(manifest);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(kinds.length);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('all optional parts together include the ServiceMonitor, both PodMonitors and the content the chart files provide', () => {
  const kinds = parseManifests(rendered(['all-optional.yaml'])).map((m) => m.kind);
  expect(kinds.filter((k) => k === 'ServiceMonitor')).toHaveLength(1);
  expect(kinds.filter((k) => k === 'PodMonitor')).toHaveLength(2);
  expect(kinds.includes('PrometheusRule')).toBe(fs.existsSync('charts/digitserve/files/prometheus-rules.yaml'));
});

test('the dry-run would report a pod template that breaks the restricted Pod Security Standard', () => {
  const deployment = parseManifests(rendered(['default.yaml'])).find((m) => m.kind === 'Deployment');
  if (!deployment) throw new Error('no Deployment rendered');
  deployment.spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation = true;
  const r = dryRun(JSON.stringify(deployment));
  expect(r.stderr).toMatch(/would violate PodSecurity "restricted:latest": allowPrivilegeEscalation != false/);
});

test('the dry-run is strict: a misspelt ServiceMonitor field and an invalid Deployment are refused', () => {
  const objects = parseManifests(rendered(['all-optional.yaml']));
  const sm = objects.find((m) => m.kind === 'ServiceMonitor');
  if (!sm) throw new Error('no ServiceMonitor rendered');
  sm.spec.endpoints[0].prot = sm.spec.endpoints[0].port;
  const smRun = dryRun(JSON.stringify(sm));
  expect(smRun.status).not.toBe(0);
  expect(smRun.stderr).toMatch(/\.spec\.endpoints\[0\]\.prot: field not declared in schema/);

  const deployment = objects.find((m) => m.kind === 'Deployment');
  if (!deployment) throw new Error('no Deployment rendered');
  deployment.spec.template.spec.containers[0].livenessProbe.httpGet.port = 'not-a-port-name-that-is-far-too-long';
  const dRun = dryRun(JSON.stringify(deployment));
  expect(dRun.status).not.toBe(0);
  expect(dRun.stderr).toContain('livenessProbe.httpGet.port');
});
