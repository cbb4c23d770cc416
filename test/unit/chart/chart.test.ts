import fs from 'node:fs';
import path from 'node:path';
import { dump, load } from 'js-yaml';
import { parseConfig } from '../../../operator/config.js';
import { ADAPTER_CONFIG, CHART, DASHBOARD, RULES, VALUES_DIR, chartCopyWithContent, helm, only, render, templateArgs, type Manifest } from './support.js';

const VALID = ['default.yaml', 'all-optional.yaml', 'production.yaml'];
const pkg = JSON.parse(fs.readFileSync('package.json', 'utf8')) as { version: string };
const chart = load(fs.readFileSync(`${CHART}/Chart.yaml`, 'utf8')) as { apiVersion: string; version: string; appVersion: string };

/** The operator's view of the Deployment's environment: downward-API fields filled as the kubelet would. */
function operatorEnv(deployment: Manifest, pod = { name: 'ds-digitserve-7d9c-abcde', namespace: 'digitserve-system' }): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of deployment.spec.template.spec.containers[0].env as { name: string; value?: string; valueFrom?: { fieldRef: { fieldPath: string } } }[]) {
    if (e.valueFrom) env[e.name] = e.valueFrom.fieldRef.fieldPath === 'metadata.name' ? pod.name : pod.namespace;
    else env[e.name] = e.value ?? '';
  }
  return env;
}

describe('Chart.yaml', () => {
  test('is a v2 chart whose appVersion and version follow package.json', () => {
    expect(chart.apiVersion).toBe('v2');
    expect(chart.appVersion).toBe(pkg.version);
    expect(chart.version).toBe(pkg.version);
  });
});

describe('helm lint', () => {
  test.each(VALID)('passes --strict with %s', (file) => {
    const r = helm(['lint', CHART, '--strict', '--values', `${VALUES_DIR}/${file}`]);
    expect(r.stderr + r.stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
    expect(r.status).toBe(0);
  });
});

describe('values.schema.json refuses bad values', () => {
  test.each([
    ['invalid-unknown-key.yaml', /operator.*additional properties 'replica' not allowed/],
    ['invalid-types.yaml', /\/operator\/replicas.*got string, want integer/s],
    ['invalid-types.yaml', /\/operator\/image\/pullPolicy/],
    ['invalid-namespace.yaml', /\/operator\/watchNamespaces\/0/],
  ])('%s is refused at template time (%p)', (file, message) => {
    const r = helm(templateArgs({ values: [file] }));
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("values don't meet the specifications of the schema");
    expect(r.stderr).toMatch(message);
  });

  test('lease durations the operator would refuse fail the render with the rule spelled out', () => {
    const r = helm(templateArgs({ values: ['invalid-lease-durations.yaml'] }));
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('leaseDurationSeconds > renewDeadlineSeconds > retryPeriodSeconds');
  });

  test('several replicas without leader election fail the render', () => {
    const r = helm(templateArgs({ set: { 'operator.leaderElection.enabled': 'false' } }));
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('needs operator.leaderElection.enabled');
  });

  test('a single replica without leader election renders, with no Lease Role', () => {
    const m = render({ set: { 'operator.leaderElection.enabled': 'false', 'operator.replicas': '1' } });
    expect(m.filter((x) => x.kind === 'Role')).toEqual([]);
    expect(operatorEnv(only(m, 'Deployment')).LEADER_ELECTION).toBe('false');
  });
});

describe('default values', () => {
  const m = render();
  const deployment = only(m, 'Deployment');
  const pod = deployment.spec.template.spec;
  const container = pod.containers[0];

  test('render exactly the CRD, the operator, its PDB, ServiceAccount, RBAC and metrics Service', () => {
    expect(m.map((x) => `${x.kind}/${x.metadata.name}`).sort()).toEqual([
      'ClusterRole/ds-digitserve',
      'ClusterRoleBinding/ds-digitserve',
      'CustomResourceDefinition/digitmodels.digitserve.dev',
      'Deployment/ds-digitserve',
      'PodDisruptionBudget/ds-digitserve',
      'Role/ds-digitserve-leader-election',
      'RoleBinding/ds-digitserve-leader-election',
      'Service/ds-digitserve-metrics',
      'ServiceAccount/ds-digitserve',
    ]);
  });

  test('every resource carries the standard app.kubernetes.io labels; namespaced ones sit in the release namespace', () => {
    for (const x of m) {
      expect(x.metadata.labels).toMatchObject({
        'app.kubernetes.io/instance': 'ds',
        'app.kubernetes.io/managed-by': 'Helm',
        'app.kubernetes.io/version': pkg.version,
        'helm.sh/chart': `digitserve-${pkg.version}`,
      });
      if (!['CustomResourceDefinition', 'ClusterRole', 'ClusterRoleBinding'].includes(x.kind)) expect(x.metadata.namespace).toBe('digitserve-system');
    }
  });

  test('the operator runs 2 replicas with leader election on, the image tag defaulting to appVersion', () => {
    expect(deployment.spec.replicas).toBe(2);
    expect(container.image).toBe(`ghcr.io/digitserve/operator:${pkg.version}`);
    expect(container.imagePullPolicy).toBe('IfNotPresent');
    expect(pod.serviceAccountName).toBe('ds-digitserve');
    expect(deployment.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
  });

  test('the Deployment environment parses into the operator config it means (operator/config.ts)', () => {
    const cfg = parseConfig([], operatorEnv(deployment));
    expect(cfg).toMatchObject({
      leaderElection: true,
      leaseName: 'ds-digitserve',
      leaseNamespace: 'digitserve-system',
      identity: 'ds-digitserve-7d9c-abcde',
      watchNamespaces: [],
      runtimeImage: `ghcr.io/digitserve/runtime:${pkg.version}`,
      converterImage: `ghcr.io/digitserve/converter:${pkg.version}`,
      metricsPort: 8383,
      healthPort: 8384,
      progressDeadlineSeconds: 600,
      preStopSleepSeconds: 5,
      logLevel: 'info',
    });
  });

  test('POD_NAME comes from the downward API (the Lease holder identity)', () => {
    const podName = container.env.find((e: { name: string }) => e.name === 'POD_NAME');
    expect(podName).toEqual({ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } });
  });

  test('liveness and readiness probe /healthz and /readyz on the health port the operator listens on', () => {
    const cfg = parseConfig([], operatorEnv(deployment));
    const ports = Object.fromEntries(container.ports.map((p: { name: string; containerPort: number }) => [p.name, p.containerPort]));
    expect(ports).toEqual({ 'http-metrics': cfg.metricsPort, health: cfg.healthPort });
    expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'health' });
    expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'health' });
  });

  test('the security context is the restricted profile', () => {
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(container.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(pod.volumes).toEqual([{ name: 'tmp', emptyDir: { sizeLimit: '64Mi' } }]);
  });

  test('requests and a memory limit are set', () => {
    expect(container.resources.requests).toEqual({ cpu: '50m', memory: '128Mi' });
    expect(container.resources.limits).toEqual({ memory: '256Mi' });
  });

  test('the PDB and the metrics Service select exactly the operator pods', () => {
    const selector = deployment.spec.selector.matchLabels;
    expect(pod.containers).toHaveLength(1);
    expect(deployment.spec.template.metadata.labels).toMatchObject(selector);
    const pdb = only(m, 'PodDisruptionBudget');
    expect(pdb.spec).toEqual({ maxUnavailable: 1, unhealthyPodEvictionPolicy: 'AlwaysAllow', selector: { matchLabels: selector } });
    const svc = only(m, 'Service');
    expect(svc.spec.selector).toEqual(selector);
    expect(svc.spec.ports).toEqual([{ name: 'http-metrics', port: 8080, targetPort: 'http-metrics', protocol: 'TCP' }]);
  });
});

describe('production values', () => {
  const m = render({ values: ['production.yaml'] });
  const deployment = only(m, 'Deployment');
  const pod = deployment.spec.template.spec;
  const container = pod.containers[0];

  test('image digest, pull policy and pull secrets reach the pod and the ServiceAccount', () => {
    expect(container.image).toBe('registry.example.com/digitserve/operator@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef');
    expect(container.imagePullPolicy).toBe('Always');
    expect(pod.imagePullSecrets).toEqual([{ name: 'ghcr-pull' }]);
    expect(only(m, 'ServiceAccount').imagePullSecrets).toEqual([{ name: 'ghcr-pull' }]);
  });

  test('scheduling values pass through as given', () => {
    expect(deployment.spec.replicas).toBe(3);
    expect(pod.nodeSelector).toEqual({ 'kubernetes.io/os': 'linux' });
    expect(pod.tolerations).toEqual([{ key: 'dedicated', operator: 'Equal', value: 'control-plane-addons', effect: 'NoSchedule' }]);
    expect(pod.affinity.nodeAffinity).toBeDefined();
    expect(pod.affinity.podAntiAffinity).toBeUndefined();
    expect(pod.priorityClassName).toBe('system-cluster-critical');
    expect(deployment.spec.template.metadata.annotations).toEqual({ 'example.com/owner': 'ml-platform' });
    expect(deployment.spec.template.metadata.labels['example.com/tier']).toBe('control');
  });

  test('an empty converter.image.repository runs the operator without a converter (keras/savedmodel: FormatNotSupported)', () => {
    const none = render({ values: ['production.yaml'], set: { 'converter.image.repository': '' } });
    expect(parseConfig([], operatorEnv(only(none, 'Deployment'))).converterImage).toBeUndefined();
  });

  test('the operator is told the watched namespaces and runtime image', () => {
    const cfg = parseConfig([], operatorEnv(deployment));
    expect(cfg.watchNamespaces).toEqual(['mail', 'parcels']);
    expect(cfg.runtimeImage).toBe('registry.example.com/digitserve/runtime:0.1.0-tfjs-node');
    expect(cfg.concurrency).toBe(8);
    expect(cfg.progressDeadlineSeconds).toBe(300);
    expect(cfg.logLevel).toBe('debug');
  });

  test('a named ServiceAccount is the one bound and used', () => {
    expect(only(m, 'ServiceAccount').metadata).toMatchObject({ name: 'digitserve-operator', annotations: { 'eks.amazonaws.com/role-arn': expect.any(String) } });
    expect(pod.serviceAccountName).toBe('digitserve-operator');
    expect(only(m, 'ClusterRoleBinding').subjects).toEqual([{ kind: 'ServiceAccount', name: 'digitserve-operator', namespace: 'digitserve-system' }]);
  });

  test('common labels land on every resource but the CRD (whose labels stay those of crds/ plus Helm\'s)', () => {
    for (const x of m) expect(x.metadata.labels?.team).toBe(x.kind === 'CustomResourceDefinition' ? undefined : 'ml-platform');
  });
});

describe('optional monitoring parts', () => {
  const kinds = ['ServiceMonitor', 'PodMonitor', 'PrometheusRule', 'ConfigMap'];

  test('none is rendered by default', () => {
    expect(render().filter((x) => kinds.includes(x.kind))).toEqual([]);
  });

  const m = render({ values: ['all-optional.yaml'] });
  const deployment = only(m, 'Deployment');

  test('the ServiceMonitor scrapes the metrics Service port of this release only', () => {
    const sm = only(m, 'ServiceMonitor');
    expect(sm.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(sm.metadata.labels.release).toBe('kube-prometheus-stack');
    expect(sm.spec.selector.matchLabels).toEqual(only(m, 'Service').spec.selector);
    expect(sm.spec.namespaceSelector).toEqual({ matchNames: ['digitserve-system'] });
    // honorLabels: the canary analysis gauges carry the DigitModel's namespace as their own label
    expect(sm.spec.endpoints).toEqual([{ port: 'http-metrics', path: '/metrics', honorLabels: true, interval: '30s', scrapeTimeout: '10s' }]);
  });

  test('the operator PodMonitor scrapes the operator pods by port name', () => {
    const pm = only(m, 'PodMonitor', 'ds-digitserve');
    expect(pm.spec.selector.matchLabels).toEqual(deployment.spec.selector.matchLabels);
    expect(pm.spec.podMetricsEndpoints[0].port).toBe(deployment.spec.template.spec.containers[0].ports[0].name);
    expect(pm.spec.podMetricsEndpoints[0].honorLabels).toBe(true);
  });

  test('the runtime PodMonitor scrapes every runtime pod on its metrics port, in all namespaces', () => {
    const pm = only(m, 'PodMonitor', 'ds-digitserve-runtime');
    expect(pm.spec.selector.matchLabels).toEqual({ 'app.kubernetes.io/name': 'digitserve-runtime', 'app.kubernetes.io/managed-by': 'digitserve-operator' });
    expect(pm.spec.namespaceSelector).toEqual({ any: true });
    expect(pm.spec.podMetricsEndpoints[0]).toMatchObject({ port: 'metrics', path: '/metrics', interval: '10s' });
  });

  test('with watched namespaces the runtime PodMonitor looks only there', () => {
    const pm = only(render({ values: ['all-optional.yaml', 'production.yaml'] }), 'PodMonitor', 'ds-digitserve-runtime');
    expect(pm.spec.namespaceSelector).toEqual({ matchNames: ['mail', 'parcels'] });
  });

  // The three content files are written alongside the chart; each part renders exactly when its file exists.
  test('the PrometheusRule carries files/prometheus-rules.yaml as its spec', () => {
    const file = readChartFile('files/prometheus-rules.yaml');
    const rules = m.filter((x) => x.kind === 'PrometheusRule');
    expect(rules).toHaveLength(file === undefined ? 0 : 1);
    if (file !== undefined) {
      expect(rules[0].metadata.labels.release).toBe('kube-prometheus-stack');
      expect(rules[0].spec).toEqual(load(file));
      expect(rules[0].spec.groups.length).toBeGreaterThan(0);
    }
  });

  test('the Grafana dashboard ConfigMap carries files/dashboard.json under the sidecar label', () => {
    const file = readChartFile('files/dashboard.json');
    const cms = m.filter((x) => x.kind === 'ConfigMap' && x.metadata.name === 'ds-digitserve-dashboard');
    expect(cms).toHaveLength(file === undefined ? 0 : 1);
    if (file !== undefined) {
      expect(cms[0].metadata.labels.grafana_dashboard).toBe('1');
      expect(cms[0].metadata.namespace).toBe('monitoring');
      expect(cms[0].metadata.annotations).toEqual({ grafana_folder: 'digitserve' });
      expect(JSON.parse(cms[0].data['digitserve.json'])).toEqual(JSON.parse(file));
    }
  });

  test('the prometheus-adapter ConfigMap carries files/adapter-rules.yaml', () => {
    const file = readChartFile('files/adapter-rules.yaml');
    const cms = m.filter((x) => x.kind === 'ConfigMap' && x.metadata.name === 'ds-digitserve-adapter-rules');
    expect(cms).toHaveLength(file === undefined ? 0 : 1);
    if (file !== undefined) {
      const config = load(cms[0].data['config.yaml']) as { rules?: unknown[] };
      const parsed = load(file);
      expect(config).toEqual(Array.isArray(parsed) ? { rules: parsed } : parsed);
      expect(JSON.stringify(config)).toContain('digitserve_queue_depth');
      expect(JSON.stringify(config)).toContain('digitserve_request_latency_p95_seconds');
    }
  });

  test('a ServiceMonitor without the metrics Service is refused', () => {
    const r = helm(templateArgs({ values: ['all-optional.yaml'], set: { 'metrics.service.enabled': 'false' } }));
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('monitoring.serviceMonitor needs metrics.service.enabled');
  });
});

function readChartFile(rel: string): string | undefined {
  const p = `${CHART}/${rel}`;
  return fs.existsSync(p) ? fs.readFileSync(p, 'utf8') : undefined;
}

describe('optional parts with content files in place', () => {
  // A copy of the chart with small content files, so the templates that include files/ are
  // exercised whether or not the real files have been written yet.
  let dir: string;

  function copyChart(adapter: string): string {
    dir = chartCopyWithContent(adapter);
    return path.join(dir, 'digitserve');
  }

  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  function renderCopy(chartDir: string): Manifest[] {
    return render({ chart: chartDir, values: ['all-optional.yaml'] });
  }

  test('the rules, dashboard and adapter config arrive unchanged', () => {
    const chartDir = copyChart(ADAPTER_CONFIG);
    expect(helm(['lint', chartDir, '--strict', '--values', `${VALUES_DIR}/all-optional.yaml`]).status).toBe(0);
    const m = renderCopy(chartDir);
    expect(only(m, 'PrometheusRule').spec).toEqual(load(RULES));
    expect(JSON.parse(only(m, 'ConfigMap', 'ds-digitserve-dashboard').data['digitserve.json'])).toEqual(JSON.parse(DASHBOARD));
    expect(load(only(m, 'ConfigMap', 'ds-digitserve-adapter-rules').data['config.yaml'])).toEqual(load(ADAPTER_CONFIG));
  });

  test('a bare list of adapter rules is wrapped into a config with rules:', () => {
    const list = (load(ADAPTER_CONFIG) as { rules: unknown[] }).rules;
    const chartDir = copyChart(dump(list));
    const config = load(only(renderCopy(chartDir), 'ConfigMap', 'ds-digitserve-adapter-rules').data['config.yaml']);
    expect(config).toEqual({ rules: list });
  });
});
