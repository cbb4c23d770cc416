import fs from 'node:fs';
import path from 'node:path';
import { ensureBinaries, missingBinaries, withLock, type Binaries } from './build.js';
import { createPki, issueClientCert, type Pki } from './certs.js';
import { apiserverArgs, controllerManagerArgs, etcdArgs, schedulerArgs, type ApiserverNetwork, type Ports } from './components.js';
import { exec } from './exec.js';
import { gatewayApiCrdFiles, gatewayApiVersion } from './gateway-api.js';
import { get, isHealthy, waitUntil, type Credentials } from './health.js';
import { kubectlApply, kubectlWait } from './kubectl.js';
import { writeKubeconfig } from './kubeconfig.js';
import { fakeNodeNames, fakeNodes, kwokArgs, writeKwokConfig } from './kwok.js';
import { log, since } from './log.js';
import { kubernetesVersion } from './modules.js';
import { cacheRoot, clusterDir, kubeconfigPath, repoRoot, stateFile } from './paths.js';
import { freePorts } from './ports.js';
import { startRealNode, stopRealNode } from './node.js';
import { createNetwork, deleteNetwork } from './node-network.js';
import { newRealNodeState } from './node-state.js';
import { checkDisk, checkGo, checkOpenssl, checkRealNodePrerequisites } from './prereqs.js';
import { isOurs, startProcess, stopProcess, tail, type Started } from './processes.js';
import { readState, writeState, type ClusterState } from './state.js';

/**
 * `up` and `down` of the local control plane: etcd, kube-apiserver, controller-manager, scheduler,
 * kwok; with `realNode`, also one real node (node.ts) beside the fake ones.
 */

const logsDir = path.join(clusterDir, 'logs');
const START_TIMEOUT_MS = 180_000;

export interface UpResult {
  kubeconfig: string;
  /** False when a healthy plane from an earlier `up` was reused. */
  started: boolean;
  state: ClusterState;
}

function credentials(): Credentials {
  const pki = path.join(clusterDir, 'pki');
  return { caCert: path.join(pki, 'ca.crt'), adminCert: path.join(pki, 'admin.crt'), adminKey: path.join(pki, 'admin.key') };
}

export interface UpOptions {
  /** Add the real node (kubelet, kube-proxy, containerd) in a network namespace of its own. */
  realNode?: boolean;
}

/** A plane from an earlier `up` whose processes (its real node's too) are all alive and whose apiserver is ready. */
export async function runningPlane(): Promise<ClusterState | undefined> {
  const state = readState();
  if (!state || state.processes.length === 0 || !state.processes.every(isOurs)) return undefined;
  if (state.realNode && (state.realNode.processes.length < 4 || !state.realNode.processes.every(isOurs))) return undefined;
  return (await isHealthy(`${state.server}/readyz`, credentials())) ? state : undefined;
}

async function checkPrerequisites(opts: UpOptions): Promise<void> {
  await checkGo();
  await checkOpenssl();
  if (opts.realNode) await checkRealNodePrerequisites();
  if (missingBinaries(process.env, { node: opts.realNode }).length > 0) {
    const gocache = (await exec('go', ['env', 'GOCACHE'])).stdout.trim();
    checkDisk(cacheRoot(), 8, 'building the control plane (Go build cache + binaries)');
    checkDisk(gocache, 8, 'the Go build cache');
  }
  checkDisk(repoRoot, 1, 'the running control plane (etcd data, logs)');
}

export async function up(opts: UpOptions = {}): Promise<UpResult> {
  const t0 = Date.now();
  const existing = await runningPlane();
  if (existing && opts.realNode && !existing.realNode) {
    throw new Error(`a control plane without a real node runs in ${clusterDir}; stop it first (npm run cluster:down), then run cluster:up -- --real-node`);
  }
  if (existing) {
    log(`already running (kube-apiserver ${existing.server}${existing.realNode ? `, real node ${existing.realNode.name}` : ''}); kubeconfig ${existing.kubeconfig}`);
    return { kubeconfig: existing.kubeconfig, started: false, state: existing };
  }
  if (readState()) {
    log('cleaning up what is left of an earlier plane');
    await down();
  }
  await checkPrerequisites(opts);
  const bins = await ensureBinaries(process.env, { node: opts.realNode });

  fs.rmSync(logsDir, { recursive: true, force: true });
  fs.mkdirSync(logsDir, { recursive: true });
  const [etcdClient, etcdPeer, apiserver, controllerManager, scheduler, kwok] = await freePorts(6);
  const ports: Ports = { etcdClient, etcdPeer, apiserver, controllerManager, scheduler, kwok };
  // the real node's network first: the apiserver listens on its machine-side address
  const network = opts.realNode ? await withLock(networkLock, () => createNetwork(clusterDir)) : undefined;
  const state: ClusterState = {
    kubeconfig: kubeconfigPath, server: '', binaries: bins, kubernetesVersion: kubernetesVersion(),
    ports, processes: [], startedAt: new Date().toISOString(),
    ...(network ? { realNode: newRealNodeState(clusterDir, network) } : {}),
  };
  writeState(state);
  try {
    const pki = await createPki(path.join(clusterDir, 'pki'), { serverIps: network ? [network.hostIp] : [] });
    const apiNet: ApiserverNetwork = network
      ? { address: network.hostIp, kubeletClient: await issueClientCert(pki, 'apiserver-kubelet-client', '/O=system:masters/CN=kube-apiserver-kubelet-client') }
      : { address: '127.0.0.1' };
    state.server = `https://${apiNet.address}:${ports.apiserver}`;
    writeKubeconfig(kubeconfigPath, state.server, pki);
    writeState(state);
    await startAll(bins, pki, ports, state, apiNet);
    await populate(bins, state);
    if (state.realNode) {
      const rn = state.realNode;
      const nodeCert = await issueClientCert(pki, 'node', `/O=system:nodes/CN=system:node:${rn.name}`);
      const nodeKubeconfig = path.join(clusterDir, 'pki', 'node.kubeconfig');
      writeKubeconfig(nodeKubeconfig, state.server, pki, { ...nodeCert, name: `system:node:${rn.name}` });
      await startRealNode({
        rn, bins, adminKubeconfig: kubeconfigPath, nodeKubeconfig, caCert: pki.caCert, server: state.server,
        creds: credentials(), logsDir, save: () => writeState(state),
      });
    }
  } catch (err) {
    log(`start failed; stopping what was started (logs stay in ${logsDir})`);
    await down();
    throw err;
  }
  const nodes = [...fakeNodeNames, ...(state.realNode ? [`${state.realNode.name} (real)`] : [])];
  log(`control plane up in ${since(t0)}: kube-apiserver ${state.server}, nodes ${nodes.join(', ')}`);
  log(`kubeconfig: ${kubeconfigPath}; kubectl: ${bins.kubectl}; helm: ${bins.helm}`);
  return { kubeconfig: kubeconfigPath, started: true, state };
}

async function startAll(bins: Binaries, pki: Pki, ports: Ports, state: ClusterState, apiNet: ApiserverNetwork): Promise<void> {
  const start = async (name: keyof Binaries, args: string[], healthUrl: string, creds?: Credentials) => {
    const t = Date.now();
    const proc: Started = startProcess(name, bins[name], args, path.join(logsDir, `${name}.log`), clusterDir);
    state.processes.push({ name: proc.name, pid: proc.pid, bin: proc.bin, log: proc.log });
    writeState(state);
    await waitUntil(`${name} (pid ${proc.pid})`, () => isHealthy(healthUrl, creds), START_TIMEOUT_MS, () => {
      const exit = proc.exited();
      return exit && `exited (${exit}); last lines of ${proc.log}:\n${tail(proc.log)}`;
    });
    log(`${name} healthy in ${since(t)} (pid ${proc.pid})`);
  };
  const certDir = (n: string) => path.join(clusterDir, 'serving-certs', n);
  await start('etcd', etcdArgs(path.join(clusterDir, 'etcd-data'), ports), `http://127.0.0.1:${ports.etcdClient}/health`);
  await start('kube-apiserver', apiserverArgs(pki, ports, certDir('kube-apiserver'), apiNet), `${state.server}/readyz`, credentials());
  // the rest only need the apiserver; bring them up together
  const kwokConfig = path.join(clusterDir, 'kwok.yaml');
  await writeKwokConfig(kwokConfig);
  await Promise.all([
    start('kube-controller-manager', controllerManagerArgs(kubeconfigPath, pki, ports, certDir('kube-controller-manager')), `https://127.0.0.1:${ports.controllerManager}/healthz`),
    start('kube-scheduler', schedulerArgs(kubeconfigPath, ports, certDir('kube-scheduler')), `https://127.0.0.1:${ports.scheduler}/healthz`),
    start('kwok', kwokArgs({ kubeconfig: kubeconfigPath, config: kwokConfig, port: ports.kwok }), `http://127.0.0.1:${ports.kwok}/healthz`),
  ]);
}

/** Fake nodes and the Gateway API CRDs; returns once nodes are Ready and controllers act. */
async function populate(bins: Binaries, state: ClusterState): Promise<void> {
  const t = Date.now();
  const kc = state.kubeconfig;
  const manifest = fakeNodes(state.kubernetesVersion).map((n) => JSON.stringify(n)).join('\n');
  await kubectlApply(bins.kubectl, kc, { manifest });
  const files = await gatewayApiCrdFiles();
  await kubectlApply(bins.kubectl, kc, { files });
  const crds = files.filter((f) => /^kind: CustomResourceDefinition$/m.test(fs.readFileSync(f, 'utf8')));
  await kubectlWait(bins.kubectl, kc, ['--for=condition=Established', ...crds.flatMap((f) => ['-f', f])], 120);
  log(`Gateway API ${gatewayApiVersion()} standard-channel CRDs installed`);
  const creds = credentials();
  await waitUntil('fake nodes Ready', async () => {
    const res = await get(`${state.server}/api/v1/nodes?labelSelector=type%3Dkwok`, creds).catch(() => undefined);
    if (res?.status !== 200) return false;
    const nodes = (JSON.parse(res.body) as { items: { status?: { conditions?: { type: string; status: string }[] } }[] }).items;
    return nodes.length === fakeNodeNames.length && nodes.every((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
  }, START_TIMEOUT_MS);
  // the controller-manager's service-account controller at work: pods can be admitted in `default`
  await waitUntil('default ServiceAccount', async () => (await get(`${state.server}/api/v1/namespaces/default/serviceaccounts/default`, creds).catch(() => undefined))?.status === 200, START_TIMEOUT_MS);
  log(`nodes Ready in ${since(t)}`);
}

/** Machine-wide: two planes coming up at once must not pick the same node addresses. */
const networkLock = '/run/digitserve-real-node-network.lock';

/** Stops the processes recorded by `up` (by pid, newest first) and removes the plane's data. */
export async function down(): Promise<void> {
  const state = readState();
  // the node first, while the apiserver still runs (nothing waits on it, but its logs stay clean)
  if (state?.realNode) await stopRealNode(state.realNode).catch((err: unknown) => log(`stopping the real node: ${(err as Error).message}`));
  if (state) {
    for (const proc of [...state.processes].reverse()) {
      if (!isOurs(proc)) continue;
      await stopProcess(proc);
      log(`stopped ${proc.name} (pid ${proc.pid})`);
    }
  }
  if (state?.realNode) {
    // after the apiserver: it listens on the node network's address and talks to itself through it
    await deleteNetwork(state.realNode.network);
    log(`removed the real node's network namespace ${state.realNode.network.netns}`);
  }
  for (const entry of ['etcd-data', 'pki', 'serving-certs', 'kwok.yaml', path.basename(kubeconfigPath), path.basename(stateFile)]) {
    fs.rmSync(path.join(clusterDir, entry), { recursive: true, force: true });
  }
  if (state) log(`stopped; logs kept in ${logsDir}`);
}
