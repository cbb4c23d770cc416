import fs from 'node:fs';
import path from 'node:path';
import type { Binaries } from './build.js';
import { exec } from './exec.js';
import { get, waitUntil, type Credentials } from './health.js';
import { importImages, readImagesManifest } from './node-import.js';
import { cniConflist, containerdConfig, kubeletConfig, kubeProxyConfig, type NodePaths } from './node-config.js';
import { pauseImage } from './node-images.js';
import { inNetns } from './node-network.js';
import { nodeNamespaces, realNodeLabel, ctr, type RealNodeState } from './node-state.js';
import { log, since } from './log.js';
import { isOurs, startProcess, stopProcess, tail, type Started } from './processes.js';

/**
 * The real node of `cluster:up --real-node`: containerd (runc, bridge CNI), kubelet and kube-proxy
 * in the node's network namespace and in a private mount namespace whose /run, /var/lib and
 * /var/log are tmpfs of its own. So what they write outside their directories (/run/containerd, the
 * pods' /run/netns entries, /var/lib/kubelet/device-plugins, /var/lib/cni, /var/log/containers) and every mount they make
 * (container root filesystems, secret volumes) live and die with the node; everything else is
 * under `<plane>/node` and `<plane>/logs`, and its pods' cgroups under a cgroup root of its own.
 */

/** Mount points of cgroup v1 hierarchies (or the v2 root) on this machine. */
function cgroupMounts(): string[] {
  return fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')
    .map((l) => l.split(' '))
    .filter((f) => { const sep = f.indexOf('-'); return sep > 0 && /^cgroup2?$/.test(f[sep + 1]); })
    .map((f) => f[4]);
}

function createCgroups(root: string): void {
  for (const mount of cgroupMounts()) {
    const dir = path.join(mount, root);
    fs.mkdirSync(dir, { recursive: true });
    for (const file of ['cpuset.cpus', 'cpuset.mems']) { // a v1 cpuset child starts empty
      const own = path.join(dir, file);
      if (fs.existsSync(own) && fs.readFileSync(own, 'utf8').trim() === '') fs.writeFileSync(own, fs.readFileSync(path.join(mount, file)));
    }
  }
}

/** rmdir bottom-up; a cgroup is removable once its processes are gone (retried: the kernel lags a little). */
async function removeCgroups(root: string): Promise<void> {
  const rm = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) rm(path.join(dir, e.name));
    fs.rmdirSync(dir);
  };
  for (const mount of cgroupMounts()) {
    const dir = path.join(mount, root);
    for (let attempt = 0; fs.existsSync(dir); attempt++) {
      try {
        rm(dir);
      } catch (err) {
        if (attempt >= 50) { log(`could not remove cgroup ${dir}: ${(err as Error).message}`); break; }
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }
}

function write(file: string, text: string): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  return file;
}

export interface StartNodeInput {
  rn: RealNodeState;
  bins: Binaries;
  /** The plane's kubeconfig (admin; kube-proxy uses it) and the node's own (system:node:<name>). */
  adminKubeconfig: string;
  nodeKubeconfig: string;
  caCert: string;
  server: string;
  creds: Credentials;
  logsDir: string;
  /** Persists the state after each step, so `down` can undo a half-started node. */
  save: () => void;
}

const START_TIMEOUT_MS = 300_000;

/**
 * Tmpfs of the node's own in its mount namespace: /run (containerd state and shim sockets, the
 * pods' netns files, runc state), /var/lib (kubelet's device-plugins dir, CNI IPAM and cache),
 * /var/log (kubelet's /var/log/containers links).
 */
const privateDirs = ['/run', '/var/lib', '/var/log'];

export async function startRealNode(i: StartNodeInput): Promise<void> {
  const { rn } = i;
  const t0 = Date.now();
  fs.rmSync(rn.dir, { recursive: true, force: true });
  const paths: NodePaths = {
    containerdRoot: path.join(rn.dir, 'containerd'),
    cniConfDir: path.join(rn.dir, 'cni'),
    kubeletRoot: path.join(rn.dir, 'kubelet'),
    podLogsDir: path.join(i.logsDir, 'pods'),
  };
  for (const d of Object.values(paths)) fs.mkdirSync(d, { recursive: true });
  createCgroups(rn.cgroupRoot);

  const started = (p: Started) => {
    rn.processes.push({ name: p.name, pid: p.pid, bin: p.bin, log: p.log });
    i.save();
    return p;
  };
  const logOf = (n: string) => path.join(i.logsDir, `${n}.log`);
  const exited = (p: Started) => () => { const e = p.exited(); return e && `exited (${e}); last lines of ${p.log}:\n${tail(p.log)}`; };

  // the namespace holder: private mounts, /run and /var/lib of the node's own, in the node's netns
  const sleep = fs.realpathSync((await exec('sh', ['-c', 'command -v sleep'])).stdout.trim());
  const setup = `${privateDirs.map((d) => `mount -t tmpfs -o mode=0755 digitserve-node ${d}`).join(' && ')} && exec "$0" "$@"`;
  const holder = started(startProcess('node-namespaces', sleep, ['infinity'], logOf('node-namespaces'), rn.dir,
    [...rn.enter, 'unshare', '--mount', '--propagation', 'private', '--', 'sh', '-c', setup]));
  await waitUntil('node namespaces', async () => isOurs(holder), 30_000, exited(holder));
  rn.holderPid = holder.pid;
  rn.mountNamespace = fs.readlinkSync(`/proc/${holder.pid}/ns/mnt`);
  i.save();
  const via = nodeNamespaces(rn);

  // containerd
  const pause = await pauseImage();
  rn.sandboxImage = pause.ref;
  const containerdToml = write(path.join(rn.dir, 'containerd.toml'), containerdConfig(paths, pause.ref));
  write(path.join(paths.cniConfDir, '10-digitserve.conflist'), `${JSON.stringify(cniConflist(rn.network, rn.network.netns), null, 2)}\n`);
  let t = Date.now();
  const containerd = started(startProcess('containerd', '/usr/bin/containerd', ['--config', containerdToml], logOf('containerd'), rn.dir, via));
  await waitUntil('containerd', async () => ctr(rn, ['version']).then(() => true, () => false), 60_000, exited(containerd));
  log(`containerd ready in ${since(t)} (pid ${containerd.pid})`);
  await importImages(rn, [pause, ...readImagesManifest()]);

  // kubelet
  t = Date.now();
  const kubeletCfg = write(path.join(rn.dir, 'kubelet.json'), JSON.stringify(kubeletConfig({ paths, caCert: i.caCert, cgroupRoot: rn.cgroupRoot, volumePluginDir: path.join(rn.dir, 'volume-plugins') }), null, 2));
  const kubelet = started(startProcess('kubelet', i.bins.kubelet, [
    `--config=${kubeletCfg}`,
    `--kubeconfig=${i.nodeKubeconfig}`,
    `--root-dir=${paths.kubeletRoot}`,
    `--cert-dir=${path.join(paths.kubeletRoot, 'pki')}`,
    `--hostname-override=${rn.name}`,
    `--node-ip=${rn.network.nodeIp}`,
    `--node-labels=${realNodeLabel}=true`,
    '--v=1',
  ], logOf('kubelet'), rn.dir, via));

  // kube-proxy
  const proxyCfg = write(path.join(rn.dir, 'kube-proxy.json'), JSON.stringify(kubeProxyConfig(i.adminKubeconfig, rn.name, rn.network), null, 2));
  const proxy = started(startProcess('kube-proxy', i.bins['kube-proxy'], [`--config=${proxyCfg}`, '--v=1'], logOf('kube-proxy'), rn.dir, via));

  await waitUntil(`node ${rn.name} Ready`, async () => {
    const res = await get(`${i.server}/api/v1/nodes/${rn.name}`, i.creds).catch(() => undefined);
    if (res?.status !== 200) return false;
    const node = JSON.parse(res.body) as { status?: { conditions?: { type: string; status: string }[] } };
    return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
  }, START_TIMEOUT_MS, () => exited(kubelet)() ?? exited(containerd)() ?? exited(proxy)());
  log(`kubelet: node ${rn.name} Ready in ${since(t)} (pid ${kubelet.pid})`);
  // kube-proxy has programmed the `kubernetes` Service: ClusterIPs answer in the node's netns
  await waitUntil('kube-proxy rules', async () => {
    const rules = await inNetns(rn.network, 'iptables', ['-w', '-t', 'nat', '-S', 'KUBE-SERVICES']).catch(() => undefined);
    return rules?.stdout.includes('default/kubernetes:https') ?? false;
  }, START_TIMEOUT_MS, exited(proxy));
  log(`real node ${rn.name} up in ${since(t0)}: node IP ${rn.network.nodeIp}, pods ${rn.network.podCidr}, enter with: ${rn.enter.join(' ')} <command>`);
}

/** Pids (other than ours) in the node's mount namespace or its cgroup tree: shims, containers, leftovers. */
function nodePids(rn: RealNodeState): number[] {
  const found: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      const inNs = rn.mountNamespace !== undefined && fs.readlinkSync(`/proc/${pid}/ns/mnt`) === rn.mountNamespace;
      const inCgroup = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n')
        .some((l) => { const p = l.split(':')[2] ?? ''; return p === rn.cgroupRoot || p.startsWith(`${rn.cgroupRoot}/`); });
      if (inNs || inCgroup) found.push(pid);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

async function killNodePids(rn: RealNodeState): Promise<void> {
  for (let round = 0; round < 100; round++) {
    const pids = nodePids(rn);
    if (pids.length === 0) return;
    for (const pid of pids) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  log(`processes of the real node still alive: ${nodePids(rn).join(', ')}`);
}

/**
 * Stops exactly what the node started: kube-proxy, kubelet, containerd (by recorded pid), then
 * the shims and containers (by mount namespace and cgroup), then the namespace holder (its
 * mounts go with it); removes the cgroups and `dir`. The network stays (the apiserver listens on
 * its address until it stops): deleteNetwork() after the plane.
 */
export async function stopRealNode(rn: RealNodeState): Promise<void> {
  const holder = rn.processes.find((p) => p.name === 'node-namespaces');
  for (const proc of [...rn.processes].reverse()) {
    if (proc === holder || !isOurs(proc)) continue;
    await stopProcess(proc);
    log(`stopped ${proc.name} (pid ${proc.pid})`);
  }
  await killNodePids(rn);
  if (holder && isOurs(holder)) await stopProcess(holder, 2000);
  await removeCgroups(rn.cgroupRoot);
  fs.rmSync(rn.dir, { recursive: true, force: true });
  log(`real node ${rn.name} stopped; cgroup ${rn.cgroupRoot} removed`);
}
