import fs from 'node:fs';
import path from 'node:path';
import { exec } from './exec.js';
import { clusterDir } from './paths.js';

/** Checks what `up` needs before it starts anything, with messages that say what to do. */

const MIN_GO = [1, 24] as const;
const GIB = 1024 ** 3;

export class PrerequisiteError extends Error {
  override name = 'PrerequisiteError';
}

export async function checkGo(): Promise<string> {
  let version: string;
  try {
    version = (await exec('go', ['env', 'GOVERSION'])).stdout.trim();
  } catch {
    throw new PrerequisiteError(`Go ${MIN_GO.join('.')} or newer is needed to build the control plane, and no \`go\` is on PATH. Install Go from https://go.dev/dl/ (or your package manager), or point KUBECONFIG_EXTERNAL at an existing cluster.`);
  }
  const m = /^go(\d+)\.(\d+)/.exec(version);
  const ok = m && (Number(m[1]) > MIN_GO[0] || (Number(m[1]) === MIN_GO[0] && Number(m[2]) >= MIN_GO[1]));
  if (!ok) throw new PrerequisiteError(`Go ${MIN_GO.join('.')} or newer is needed (found ${version || 'an unknown version'}); newer toolchains the modules ask for are then fetched by Go itself through the module proxy.`);
  return version;
}

export async function checkOpenssl(): Promise<void> {
  try {
    await exec('openssl', ['version']);
  } catch {
    throw new PrerequisiteError('the `openssl` command is needed to make the control plane\'s certificates; install OpenSSL (e.g. `apt-get install openssl`).');
  }
}

/** Free space on the file system holding `dir` (or its nearest existing parent). */
export function freeBytes(dir: string): number {
  let probe = path.resolve(dir);
  while (!fs.existsSync(probe)) probe = path.dirname(probe);
  const s = fs.statfsSync(probe);
  return s.bavail * s.bsize;
}

export function checkDisk(dir: string, neededGiB: number, what: string): void {
  const free = freeBytes(dir);
  if (free < neededGiB * GIB) {
    throw new PrerequisiteError(`${what} needs about ${neededGiB} GiB free near ${dir}, but only ${(free / GIB).toFixed(1)} GiB is free. Free some space (or set DIGITSERVE_CACHE / GOCACHE / GOMODCACHE to a larger disk).`);
  }
}

/** A command on PATH (or an absolute path) that can be executed; a library (`*.a`) that exists. */
function hasCommand(cmd: string): boolean {
  if (cmd.endsWith('.a')) return fs.existsSync(cmd);
  const dirs = cmd.includes('/') ? [''] : (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/sbin']);
  return dirs.some((d) => {
    try {
      fs.accessSync(d ? path.join(d, cmd) : cmd, fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** What the real node (`cluster:up --real-node`) needs beyond the control plane; all of it is in hack/install-prereqs.sh. */
export async function checkRealNodePrerequisites(): Promise<void> {
  if (process.getuid?.() !== 0) {
    throw new PrerequisiteError('the real node (--real-node) runs containerd and a kubelet and creates network namespaces: run it as root.');
  }
  const packages: [string, string][] = [
    ['/usr/bin/containerd', 'containerd'], ['ctr', 'containerd'], ['containerd-shim-runc-v2', 'containerd'],
    ['/usr/sbin/runc', 'runc'],
    ['/usr/lib/cni/bridge', 'containernetworking-plugins'], ['/usr/lib/cni/host-local', 'containernetworking-plugins'],
    ['/usr/lib/cni/portmap', 'containernetworking-plugins'], ['/usr/lib/cni/loopback', 'containernetworking-plugins'],
    ['iptables', 'iptables'], ['iptables-restore', 'iptables'], ['conntrack', 'conntrack'],
    ['ip', 'iproute2'], ['nsenter', 'util-linux'], ['unshare', 'util-linux'], ['mount', 'mount'], ['sysctl', 'procps'],
    ['gcc', 'gcc'], ['strip', 'binutils'], ['/usr/lib/x86_64-linux-gnu/libc.a', 'libc6-dev'], ['tar', 'tar'],
  ];
  const missing = packages.filter(([cmd]) => !hasCommand(cmd));
  if (missing.length > 0) {
    const pkgs = [...new Set(missing.map(([, pkg]) => pkg))];
    throw new PrerequisiteError(`the real node needs ${missing.map(([cmd]) => cmd).join(', ')}: install them with \`apt-get install ${pkgs.join(' ')}\` (hack/install-prereqs.sh does).`);
  }
  if (!fs.existsSync('/sys/fs/cgroup') || fs.readdirSync('/sys/fs/cgroup').length === 0) {
    throw new PrerequisiteError('the real node needs cgroups mounted under /sys/fs/cgroup (v1 or v2).');
  }
  try {
    await exec('unshare', ['--net', '--mount', 'true']);
  } catch (err) {
    throw new PrerequisiteError(`the real node needs network and mount namespaces (unshare --net --mount failed: ${(err as Error).message.split('\n').pop()}); a container without CAP_SYS_ADMIN cannot host it.`);
  }
  checkDisk(clusterDir, 2, 'the real node (containerd images, pod volumes)');
}
