import fs from 'node:fs';
import path from 'node:path';
import { load } from 'js-yaml';
import { exec } from './exec.js';
import { isHealthy, waitUntil } from './health.js';
import { kubectlApply } from './kubectl.js';
import { log, since } from './log.js';
import { clusterDir, repoRoot } from './paths.js';
import { freePorts } from './ports.js';
import { ensurePrometheusAdapter } from './prometheus-adapter.js';
import { startProcess, tail, type Started } from './processes.js';
import { readState, writeState, type ClusterState } from './state.js';

/**
 * The runtime's own signals for the HPA, on the plane with a real node (`cluster:up --real-node`):
 * Prometheus (Debian's `prometheus`) scraping every runtime pod's `metrics` port (found by
 * pod-targets-cli.ts), and
 * prometheus-adapter (hack/cluster/prometheus-adapter.ts) serving `custom.metrics.k8s.io` from it
 * with the chart's rules, registered as an APIService. Both run as processes of this machine
 * (recorded in .cluster/state.json, so `cluster:down` stops them with the rest): pod IPs are
 * routed from the machine's network namespace to the node's, and the apiserver reaches the adapter
 * on the machine-side address it listens on itself (the aggregator routes to the endpoint, see
 * components.ts). `tsx hack/cluster/cli.ts monitoring` runs this.
 */

const START_TIMEOUT_MS = 180_000;
export const CUSTOM_METRICS_APISERVICE = 'v1beta1.custom.metrics.k8s.io';
const ADAPTER_NAMESPACE = 'kube-system';
const ADAPTER_SERVICE = 'digitserve-prometheus-adapter';

export interface Monitoring {
  prometheusUrl: string;
  adapterUrl: string;
}

/**
 * Prometheus' configuration: the runtime pods pod-targets-cli.ts finds (Debian's build has no
 * kubernetes_sd_configs), scraped every 5 s, labelled `namespace` and `pod` for the adapter rules.
 */
export function prometheusConfig(targetsFile: string): string {
  return `${JSON.stringify({
    global: { scrape_interval: '5s', scrape_timeout: '4s', evaluation_interval: '5s' },
    scrape_configs: [{ job_name: 'digitserve-runtime', file_sd_configs: [{ files: [targetsFile], refresh_interval: '5s' }] }],
  }, null, 2)}\n`;
}

/** The chart's prometheus-adapter rules (templates/prometheus-adapter-rules.yaml), rendered by helm. */
export async function chartAdapterRules(helm: string): Promise<string> {
  const { stdout } = await exec(helm, ['template', 'digitserve', path.join(repoRoot, 'charts', 'digitserve'),
    '--set', 'monitoring.prometheusAdapterRules.enabled=true', '--show-only', 'templates/prometheus-adapter-rules.yaml']);
  const cm = load(stdout) as { data?: Record<string, string> };
  const rules = cm.data?.['config.yaml'];
  if (!rules) throw new Error('the chart rendered no prometheus-adapter rules ConfigMap with config.yaml');
  return rules;
}

/** The selector-less Service, its Endpoints (the adapter on the machine) and the APIService. */
export function apiServiceManifest(hostIp: string, port: number): string {
  const objects = [
    { apiVersion: 'v1', kind: 'Service', metadata: { name: ADAPTER_SERVICE, namespace: ADAPTER_NAMESPACE },
      spec: { ports: [{ name: 'https', port: 443, targetPort: port, protocol: 'TCP' }] } },
    { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: ADAPTER_SERVICE, namespace: ADAPTER_NAMESPACE },
      subsets: [{ addresses: [{ ip: hostIp }], ports: [{ name: 'https', port, protocol: 'TCP' }] }] },
    { apiVersion: 'apiregistration.k8s.io/v1', kind: 'APIService', metadata: { name: CUSTOM_METRICS_APISERVICE },
      spec: {
        group: 'custom.metrics.k8s.io', version: 'v1beta1', groupPriorityMinimum: 100, versionPriority: 100,
        service: { name: ADAPTER_SERVICE, namespace: ADAPTER_NAMESPACE, port: 443 },
        insecureSkipTLSVerify: true, // the adapter's self-signed serving certificate, on a throw-away plane
      } },
  ];
  return objects.map((o) => JSON.stringify(o)).join('\n');
}

function hostIpOf(state: ClusterState): string {
  const ip = state.realNode?.network.hostIp;
  if (!ip) throw new Error('monitoring needs the plane with a real node: `npm run cluster:up -- --real-node`');
  return ip;
}

function startDiscovery(state: ClusterState, targetsFile: string): void {
  const proc = startProcess('pod-targets', process.execPath, ['--import', 'tsx', path.join(repoRoot, 'hack', 'cluster', 'pod-targets-cli.ts'),
    '--kubeconfig', state.kubeconfig, '--out', targetsFile], path.join(clusterDir, 'logs', 'pod-targets.log'), repoRoot);
  state.processes.push({ name: proc.name, pid: proc.pid, bin: proc.bin, log: proc.log });
  writeState(state);
}

async function startRecorded(state: ClusterState, name: string, bin: string, args: string[], dir: string, healthUrl: string): Promise<Started> {
  const t = Date.now();
  const proc = startProcess(name, bin, args, path.join(clusterDir, 'logs', `${name}.log`), dir);
  state.processes.push({ name: proc.name, pid: proc.pid, bin: proc.bin, log: proc.log });
  writeState(state);
  await waitUntil(`${name} (pid ${proc.pid})`, () => isHealthy(healthUrl), START_TIMEOUT_MS, () => {
    const exit = proc.exited();
    return exit && `exited (${exit}); last lines of ${proc.log}:\n${tail(proc.log)}`;
  });
  log(`${name} healthy in ${since(t)} (pid ${proc.pid})`);
  return proc;
}

/**
 * Starts Prometheus and the adapter (once per plane: a second call returns what runs) and waits
 * until the custom metrics APIService is Available. `rules` is the adapter's --config text.
 */
export async function startMonitoring(rules?: string): Promise<Monitoring> {
  const state = readState();
  if (!state) throw new Error('no plane: run `npm run cluster:up -- --real-node` first');
  if (state.monitoring) return state.monitoring;
  const hostIp = hostIpOf(state);
  const t0 = Date.now();
  const adapter = await ensurePrometheusAdapter();
  const dir = path.join(clusterDir, 'monitoring');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(path.join(dir, 'adapter-certs'), { recursive: true });
  const [promPort, adapterPort] = await freePorts(2);
  const targetsFile = path.join(dir, 'runtime-pods.json');
  fs.writeFileSync(targetsFile, '[]\n');
  const configFile = path.join(dir, 'prometheus.yml');
  fs.writeFileSync(configFile, prometheusConfig(targetsFile));
  const rulesFile = path.join(dir, 'adapter-rules.yaml');
  fs.writeFileSync(rulesFile, rules ?? await chartAdapterRules(state.binaries.helm));
  const prometheusUrl = `http://127.0.0.1:${promPort}`;
  startDiscovery(state, targetsFile);
  await startRecorded(state, 'prometheus', '/usr/bin/prometheus', [
    `--config.file=${configFile}`, `--storage.tsdb.path=${path.join(dir, 'prometheus-data')}`,
    `--web.listen-address=127.0.0.1:${promPort}`, '--storage.tsdb.retention.time=2h', '--log.level=warn',
  ], dir, `${prometheusUrl}/-/ready`);
  const adapterUrl = `https://${hostIp}:${adapterPort}`;
  await startRecorded(state, 'prometheus-adapter', adapter, [
    `--secure-port=${adapterPort}`, `--bind-address=${hostIp}`, `--cert-dir=${path.join(dir, 'adapter-certs')}`,
    `--lister-kubeconfig=${state.kubeconfig}`, `--authentication-kubeconfig=${state.kubeconfig}`, `--authorization-kubeconfig=${state.kubeconfig}`,
    `--prometheus-url=${prometheusUrl}/`, `--config=${rulesFile}`,
    '--metrics-relist-interval=10s', // default 10 min: new pods' series would stay unknown that long
    '--v=1',
  ], dir, `${adapterUrl}/healthz`);
  await kubectlApply(state.binaries.kubectl, state.kubeconfig, { manifest: apiServiceManifest(hostIp, adapterPort) });
  await waitUntil(`APIService ${CUSTOM_METRICS_APISERVICE} Available`, async () => {
    const r = await exec(state.binaries.kubectl, ['--kubeconfig', state.kubeconfig, 'get', 'apiservice', CUSTOM_METRICS_APISERVICE,
      '-o', 'jsonpath={.status.conditions[?(@.type=="Available")].status}']).catch(() => undefined);
    return r?.stdout.trim() === 'True';
  }, START_TIMEOUT_MS);
  state.monitoring = { prometheusUrl, adapterUrl };
  writeState(state);
  log(`monitoring up in ${since(t0)}: Prometheus ${prometheusUrl}, custom metrics API from ${adapterUrl}`);
  return state.monitoring;
}
