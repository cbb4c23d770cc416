import path from 'node:path';
import { exec } from './exec.js';
import { containerdSocket } from './node-config.js';
import type { NodeNetwork } from './node-network.js';
import type { ProcessRecord } from './processes.js';

/** What `.cluster/state.json` records of the real node (field `realNode`), and commands into its namespaces. */

export const realNodeLabel = 'digitserve.dev/real-node';

export interface RealNodeState {
  /** The Node's name, also its `kubernetes.io/hostname` label. */
  name: string;
  network: NodeNetwork;
  /** Prefix that runs a command in the node's network namespace: `nsenter --net=<netnsPath> --`. */
  enter: string[];
  /** The process holding the node's mount namespace (`nsenter --target=<pid> --mount` reaches containerd's view). */
  holderPid?: number;
  /** `mnt:[inode]` of that namespace: what `down` kills is in it or in `cgroupRoot`. */
  mountNamespace?: string;
  /** cgroup (in every v1 hierarchy) holding the node's pods. */
  cgroupRoot: string;
  /** State directory of the node (containerd root, kubelet root, configs). */
  dir: string;
  /** containerd's socket, inside the node's mount namespace. */
  containerdSocket: string;
  sandboxImage: string;
  /** In start order: mount-namespace holder, containerd, kubelet, kube-proxy. */
  processes: ProcessRecord[];
}

export function newRealNodeState(clusterDir: string, network: NodeNetwork): RealNodeState {
  return {
    name: 'real-node',
    network,
    enter: ['nsenter', `--net=${network.netnsPath}`, '--'],
    cgroupRoot: `/${network.netns}`,
    dir: path.join(clusterDir, 'node'),
    containerdSocket,
    sandboxImage: '',
    processes: [],
  };
}

/** `nsenter` into the node's mount and network namespaces (containerd's view of the world). */
export function nodeNamespaces(rn: RealNodeState): string[] {
  if (!rn.holderPid) throw new Error('the real node has no namespace holder');
  return ['nsenter', `--target=${rn.holderPid}`, '--mount', '--net', '--'];
}

/** `ctr` against the node's containerd, namespace k8s.io (the CRI's). */
export function ctr(rn: RealNodeState, args: string[]) {
  const [cmd, ...rest] = [...nodeNamespaces(rn), 'ctr', '--address', rn.containerdSocket, '--namespace', 'k8s.io', ...args];
  return exec(cmd, rest);
}
