import { exec, type ExecOptions, type ExecResult } from './exec.js';
import { importImages, type ImageEntry } from './node-import.js';
import { realNodeLabel, type RealNodeState } from './node-state.js';
import { readState } from './state.js';

/**
 * For tests and scripts: the real node of the running plane (`npm run cluster:up -- --real-node`),
 * as `.cluster/state.json` (field `realNode`) records it, and commands in its network namespace.
 *
 *   const node = realNodeInfo();                 // throws if the plane has no real node
 *   spec.pod.nodeSelector = { 'kubernetes.io/hostname': node.name };
 *   await runInNodeNetns(['curl', '-s', `http://${clusterIp}/`]);   // ClusterIPs answer there
 *
 * The plane is the one of DIGITSERVE_CLUSTER_DIR (default `.cluster`), as for hack/cluster itself.
 */

export interface RealNodeInfo {
  /** Node name and its `kubernetes.io/hostname` label. */
  name: string;
  /** Label every real node carries (value "true"); the kwok nodes do not. */
  label: typeof realNodeLabel;
  /** Network namespace name (`/run/netns/<netns>`) and path. */
  netns: string;
  netnsPath: string;
  /** Prefix that runs a command there: `nsenter --net=<netnsPath> --` (not `ip netns exec`, which remounts /sys). */
  enter: string[];
  /** The node's InternalIP, and the machine-side address the apiserver listens on. */
  nodeIp: string;
  apiserverIp: string;
  /** Pod IPs on the node come from here. */
  podCidr: string;
}

function state(): RealNodeState {
  const s = readState();
  if (!s?.realNode?.holderPid) throw new Error('no real node: start the plane with `npm run cluster:up -- --real-node`');
  return s.realNode;
}

export function realNodeInfo(): RealNodeInfo {
  const rn = state();
  return {
    name: rn.name, label: realNodeLabel, netns: rn.network.netns, netnsPath: rn.network.netnsPath, enter: rn.enter,
    nodeIp: rn.network.nodeIp, apiserverIp: rn.network.hostIp, podCidr: rn.network.podCidr,
  };
}

/** Runs `cmd` (argv) in the node's network namespace; rejects with its stderr on a non-zero exit. */
export function runInNodeNetns(cmd: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
  const [nsenter, ...args] = state().enter;
  return exec(nsenter, [...args, ...cmd], opts);
}

/** Imports image tars (docker-save or OCI archives) into the node's containerd, as `load-images` does. */
export function importIntoRealNode(images: readonly ImageEntry[]): Promise<void> {
  return importImages(state(), images);
}
