import { serviceCidr, type Pki } from './certs.js';

/** Command lines of the control-plane components, all on 127.0.0.1 (flags after envtest's, plus what tests need). */

export interface Ports {
  etcdClient: number;
  etcdPeer: number;
  apiserver: number;
  controllerManager: number;
  scheduler: number;
  kwok: number;
}

export function etcdArgs(dataDir: string, p: Ports): string[] {
  const client = `http://127.0.0.1:${p.etcdClient}`;
  const peer = `http://127.0.0.1:${p.etcdPeer}`;
  return [
    '--name=digitserve',
    `--data-dir=${dataDir}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=digitserve=${peer}`,
    '--unsafe-no-fsync=true', // throw-away data: durability only costs time
    '--log-level=warn',
  ];
}

/** Where the apiserver listens, and how it reaches kubelets (only with a real node). */
export interface ApiserverNetwork {
  /** Bound and advertised; 127.0.0.1 unless a real node needs a non-loopback one (node-network.ts). */
  address: string;
  /** Client certificate for kubelets (`kubectl logs`, exec, port-forward). */
  kubeletClient?: { cert: string; key: string };
}

export function apiserverArgs(pki: Pki, p: Ports, certDir: string, net: ApiserverNetwork = { address: '127.0.0.1' }): string[] {
  const kubelet = net.kubeletClient
    ? [`--kubelet-client-certificate=${net.kubeletClient.cert}`, `--kubelet-client-key=${net.kubeletClient.key}`, '--kubelet-preferred-address-types=InternalIP']
    : [];
  return [
    `--etcd-servers=http://127.0.0.1:${p.etcdClient}`,
    `--bind-address=${net.address}`,
    // the machine may have no default route to derive one from; the `kubernetes` Service's endpoint
    `--advertise-address=${net.address}`,
    `--secure-port=${p.apiserver}`,
    `--cert-dir=${certDir}`,
    `--tls-cert-file=${pki.serverCert}`,
    `--tls-private-key-file=${pki.serverKey}`,
    `--client-ca-file=${pki.caCert}`,
    '--authorization-mode=Node,RBAC',
    '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
    `--service-account-key-file=${pki.saPub}`,
    `--service-account-signing-key-file=${pki.saKey}`,
    `--service-cluster-ip-range=${serviceCidr}`,
    '--allow-privileged=true',
    '--profiling=false',
    ...kubelet,
    // the aggregation layer, configured as in any cluster, for extension API servers such as the
    // journey's prometheus-adapter (custom.metrics.k8s.io): the apiserver proxies as
    // front-proxy-client, the extension trusts the user it names in these headers
    `--requestheader-client-ca-file=${pki.caCert}`,
    '--requestheader-allowed-names=front-proxy-client',
    '--requestheader-username-headers=X-Remote-User',
    '--requestheader-group-headers=X-Remote-Group',
    '--requestheader-extra-headers-prefix=X-Remote-Extra-',
    `--proxy-client-cert-file=${pki.proxyClientCert}`,
    `--proxy-client-key-file=${pki.proxyClientKey}`,
    // dial an APIService's endpoint, not its ClusterIP: the apiserver runs in the machine's
    // network namespace, where no kube-proxy routes ClusterIPs
    '--enable-aggregator-routing=true',
  ];
}

/** Flags controller-manager and scheduler share: talk to the apiserver as admin, serve health on loopback. */
function componentArgs(kubeconfig: string, port: number, certDir: string): string[] {
  return [
    `--kubeconfig=${kubeconfig}`,
    `--authentication-kubeconfig=${kubeconfig}`,
    `--authorization-kubeconfig=${kubeconfig}`,
    '--leader-elect=false', // keeps working through an apiserver outage (fault tests)
    '--bind-address=127.0.0.1',
    `--secure-port=${port}`,
    `--cert-dir=${certDir}`,
  ];
}

export function controllerManagerArgs(kubeconfig: string, pki: Pki, p: Ports, certDir: string): string[] {
  return [
    ...componentArgs(kubeconfig, p.controllerManager, certDir),
    '--controllers=*', // Deployments/ReplicaSets, garbage collector, HPA, service accounts and tokens, ...
    `--service-account-private-key-file=${pki.saKey}`,
    `--root-ca-file=${pki.caCert}`,
    `--cluster-signing-cert-file=${pki.caCert}`,
    `--cluster-signing-key-file=${pki.caKey}`,
    '--horizontal-pod-autoscaler-sync-period=5s', // default 15s; tests wait on it
    // default 50s: after an apiserver outage (fault tests) kwok's heartbeats and this process's
    // informers both lag for up to a minute, and the nodes would be marked NotReady with their pods,
    // which kwok never turns Ready again (a real kubelet would); the fake nodes never really die
    '--node-monitor-grace-period=5m',
    '--profiling=false',
  ];
}

export function schedulerArgs(kubeconfig: string, p: Ports, certDir: string): string[] {
  return [...componentArgs(kubeconfig, p.scheduler, certDir), '--profiling=false'];
}
