import { createHash } from 'node:crypto';
import { exec } from './exec.js';

/**
 * The real node's network: a network namespace of its own joined to the machine's by a veth pair.
 *
 *   machine netns                          node netns (/run/netns/digitserve-<id>)
 *   kube-apiserver on hostIp  <-- veth -->  eth0 nodeIp, default route via hostIp
 *   route podCidr via nodeIp                kubelet, kube-proxy, containerd, cni0 bridge -> pods
 *
 * The apiserver binds and advertises hostIp (non-loopback, so the `kubernetes` Service has an
 * endpoint pods can reach), which is also a local address of the machine: `.cluster/kubeconfig`
 * works from the machine's own netns. The route to the pod subnet lets the apiserver's service
 * proxy reach pods. Each plane gets its own /30 and /24 (several helpers' nodes can run at once).
 */

export interface NodeNetwork {
  /** Name under /run/netns (made by `ip netns add`); enter with `nsenter --net=<netnsPath>`. */
  netns: string;
  netnsPath: string;
  /** The veth end in the machine's netns; the other end is `eth0` inside. */
  hostVeth: string;
  /** On hostVeth: where the apiserver listens. */
  hostIp: string;
  /** On the node's eth0: the node's InternalIP (kubelet refuses a loopback one). */
  nodeIp: string;
  /** Pod addresses of the bridge CNI (host-local IPAM); routed from the machine via nodeIp. */
  podCidr: string;
}

const LINK_NET = '10.201'; // 10.201.<k>.0/30 per node
const POD_NET = '10.202'; // 10.202.<k>.0/24 per node

/** Names derived from the plane's state directory, so two planes never share a netns or a link. */
export function networkNames(clusterDir: string): { id: string; netns: string; hostVeth: string; peerVeth: string } {
  const id = createHash('sha256').update(clusterDir).digest('hex').slice(0, 8);
  return { id, netns: `digitserve-${id}`, hostVeth: `dsh${id}`, peerVeth: `dsn${id}` };
}

export function networkFor(clusterDir: string, k: number): NodeNetwork {
  const n = networkNames(clusterDir);
  return {
    netns: n.netns, netnsPath: `/run/netns/${n.netns}`, hostVeth: n.hostVeth,
    hostIp: `${LINK_NET}.${k}.1`, nodeIp: `${LINK_NET}.${k}.2`, podCidr: `${POD_NET}.${k}.0/24`,
  };
}

function toRange(cidr: string): [number, number] {
  const [addr, len = '32'] = cidr.split('/');
  const n = addr.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
  const size = 2 ** (32 - Number(len));
  const start = n - (n % size);
  return [start, start + size - 1];
}

function overlaps(a: string, b: string): boolean {
  const [a0, a1] = toRange(a);
  const [b0, b1] = toRange(b);
  return a0 <= b1 && b0 <= a1;
}

/** The first free slot from `preferred` on: neither its /30 nor its /24 overlaps anything in use. */
export function pickSlot(inUse: readonly string[], preferred: number): number {
  for (let i = 0; i < 256; i++) {
    const k = (preferred + i) % 256;
    const mine = [`${LINK_NET}.${k}.0/30`, `${POD_NET}.${k}.0/24`];
    if (!inUse.some((used) => mine.some((m) => overlaps(m, used)))) return k;
  }
  throw new Error(`no free address slot in ${LINK_NET}.0.0/16 and ${POD_NET}.0.0/16 for the real node`);
}

/** IPv4 addresses and routes of the machine's netns (CIDRs; `default` left out). */
async function addressesInUse(): Promise<string[]> {
  const addrs = (await exec('ip', ['-4', '-o', 'addr', 'show'])).stdout.match(/inet (\S+)/g) ?? [];
  const routes = (await exec('ip', ['-4', 'route', 'show', 'table', 'all'])).stdout.split('\n').map((l) => l.split(' ')[0]);
  return [...addrs.map((a) => a.slice(5)), ...routes.filter((r) => /^\d+\.\d+\.\d+\.\d+(\/\d+)?$/.test(r))];
}

const ip = (...args: string[]) => exec('ip', args);

/** In the node's netns without `ip netns exec` (which remounts /sys and hides the cgroup mounts). */
export function inNetns(net: NodeNetwork, cmd: string, args: string[]) {
  return exec('nsenter', [`--net=${net.netnsPath}`, '--', cmd, ...args]);
}

/** Creates netns, veth pair, addresses and routes; the caller holds a machine-wide lock. */
export async function createNetwork(clusterDir: string): Promise<NodeNetwork> {
  const names = networkNames(clusterDir);
  const net = networkFor(clusterDir, pickSlot(await addressesInUse(), parseInt(names.id.slice(0, 2), 16)));
  await deleteNetwork(net); // leftovers of a killed plane of the same directory
  try {
    await setUp(net, names.peerVeth);
  } catch (err) {
    await deleteNetwork(net);
    throw err;
  }
  return net;
}

async function setUp(net: NodeNetwork, peerVeth: string): Promise<void> {
  await ip('netns', 'add', net.netns);
  await ip('link', 'add', net.hostVeth, 'type', 'veth', 'peer', 'name', peerVeth);
  await ip('link', 'set', peerVeth, 'netns', net.netns);
  await ip('-n', net.netns, 'link', 'set', peerVeth, 'name', 'eth0');
  await ip('addr', 'add', `${net.hostIp}/30`, 'dev', net.hostVeth);
  await ip('link', 'set', net.hostVeth, 'up');
  await ip('-n', net.netns, 'addr', 'add', `${net.nodeIp}/30`, 'dev', 'eth0');
  await ip('-n', net.netns, 'link', 'set', 'lo', 'up');
  await ip('-n', net.netns, 'link', 'set', 'eth0', 'up');
  await ip('-n', net.netns, 'route', 'add', 'default', 'via', net.hostIp);
  await ip('route', 'add', net.podCidr, 'via', net.nodeIp, 'dev', net.hostVeth);
  // pods behind the cni0 bridge are routed; bridged traffic is seen by kube-proxy's iptables rules
  // where the kernel has br_netfilter (masqueradeAll covers pod -> ClusterIP -> pod without it)
  await inNetns(net, 'sysctl', ['-q', '-w', 'net.ipv4.ip_forward=1']);
  await inNetns(net, 'sysctl', ['-q', '-w', 'net.bridge.bridge-nf-call-iptables=1']).catch(() => undefined);
}

/** Removes the netns (its end of the veth and so the pair and the pod route go with it). Idempotent. */
export async function deleteNetwork(net: Pick<NodeNetwork, 'netns' | 'hostVeth'>): Promise<void> {
  await ip('netns', 'delete', net.netns).catch(() => undefined);
  await ip('link', 'delete', net.hostVeth).catch(() => undefined);
}
