import type { NodeNetwork } from './node-network.js';

/**
 * Configuration files of the real node: containerd, CNI, kubelet, kube-proxy. Pure functions of
 * paths and addresses; each setting that departs from the defaults says why (most are facts found
 * on this machine class: cgroup v1, no CAP_SYS_RESOURCE, a disk shared with other work).
 */

/** Inside the node's mount namespace /run is a tmpfs of its own (hack/cluster/node.ts). */
export const containerdSocket = '/run/containerd/containerd.sock';
export const cniBinDir = '/usr/lib/cni'; // Debian's containernetworking-plugins
export const runcBinary = '/usr/sbin/runc';

export interface NodePaths {
  /** containerd's root (content store, snapshots): on disk, under the plane's directory. */
  containerdRoot: string;
  cniConfDir: string;
  kubeletRoot: string;
  podLogsDir: string;
}

export function containerdConfig(p: NodePaths, sandboxImage: string): string {
  return `version = 2
root = ${JSON.stringify(p.containerdRoot)}
state = "/run/containerd"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs", "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]

[grpc]
  address = ${JSON.stringify(containerdSocket)}

[plugins."io.containerd.grpc.v1.cri"]
  # built locally from the Kubernetes module's pause.c and imported; nothing is ever pulled
  sandbox_image = ${JSON.stringify(sandboxImage)}
  # root lacks CAP_SYS_RESOURCE here: without this every sandbox fails ("can't get final child's PID from pipe: EOF")
  restrict_oom_score_adj = true
  disable_apparmor = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        # crun refuses the hybrid cgroup v1 layout of this kernel; runc works
        BinaryName = ${JSON.stringify(runcBinary)}
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = ${JSON.stringify(cniBinDir)}
    conf_dir = ${JSON.stringify(p.cniConfDir)}
`;
}

/** bridge (gateway + masquerade) with host-local IPAM on the node's pod subnet, then portmap. */
export function cniConflist(net: NodeNetwork, name: string): object {
  const gateway = net.podCidr.replace(/\.0\/24$/, '.1');
  return {
    cniVersion: '1.0.0',
    name,
    plugins: [
      {
        type: 'bridge',
        bridge: 'cni0',
        isGateway: true,
        ipMasq: true,
        hairpinMode: true,
        ipam: { type: 'host-local', ranges: [[{ subnet: net.podCidr, gateway }]], routes: [{ dst: '0.0.0.0/0' }] },
      },
      { type: 'portmap', capabilities: { portMappings: true } },
    ],
  };
}

export interface KubeletConfigInput {
  paths: NodePaths;
  caCert: string;
  cgroupRoot: string;
  /** Flex volume plugins (none); the default is under /usr/libexec, which the kubelet would create. */
  volumePluginDir: string;
}

export function kubeletConfig(i: KubeletConfigInput): object {
  // a threshold of 0% never fires: a disk shared with builds and other planes never evicts test pods
  const never = '0%';
  return {
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    failCgroupV1: false, // the kernel here runs cgroup v1
    cgroupDriver: 'cgroupfs', // no systemd
    cgroupRoot: i.cgroupRoot, // the node's pods in a cgroup tree of their own (several nodes on one machine)
    containerRuntimeEndpoint: `unix://${containerdSocket}`,
    podLogsDir: i.paths.podLogsDir,
    volumePluginDir: i.volumePluginDir,
    failSwapOn: false,
    address: '0.0.0.0', // inside the node's netns
    readOnlyPort: 0,
    healthzBindAddress: '127.0.0.1',
    healthzPort: 10248,
    // the apiserver (kubectl logs/exec) presents a client certificate of the plane's CA
    authentication: { anonymous: { enabled: false }, webhook: { enabled: false }, x509: { clientCAFile: i.caCert } },
    authorization: { mode: 'AlwaysAllow' },
    evictionHard: {
      'memory.available': never, 'nodefs.available': never, 'nodefs.inodesFree': never,
      'imagefs.available': never, 'imagefs.inodesFree': never,
    },
    imageGCHighThresholdPercent: 100, // imported images cannot be pulled again: never collect them
    imageGCLowThresholdPercent: 99,
    serializeImagePulls: false,
    rotateCertificates: false,
    registerNode: true,
    maxPods: 110,
    containerLogMaxSize: '10Mi',
    containerLogMaxFiles: 2,
  };
}

export function kubeProxyConfig(kubeconfig: string, nodeName: string, net: NodeNetwork): object {
  return {
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    mode: 'iptables',
    hostnameOverride: nodeName,
    clientConnection: { kubeconfig },
    clusterCIDR: net.podCidr,
    bindAddress: '0.0.0.0',
    healthzBindAddress: '127.0.0.1:10256',
    metricsBindAddress: '127.0.0.1:10249',
    // pod -> ClusterIP -> pod on the same bridge answers through the node, not around it, even
    // where the kernel lacks br_netfilter (here it has it, and hairpin works without this too)
    iptables: { masqueradeAll: true },
    // leave the machine-wide conntrack table size alone
    conntrack: { maxPerCore: 0, min: 0 },
  };
}
