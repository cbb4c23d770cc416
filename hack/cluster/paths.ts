import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where everything of the local control plane lives: sources in the repo, binaries outside it. */

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The Go modules (go.mod, go.sum, thin mains) the binaries are built from. */
export const modulesDir = path.join(repoRoot, 'hack', 'controlplane');

/**
 * The state directory of a plane: ${DIGITSERVE_CLUSTER_DIR:-<repo>/.cluster}. A second directory is a
 * second, independent plane (its own PKI, ports, etcd, processes), e.g. for the fault tests.
 */
export function resolveClusterDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.DIGITSERVE_CLUSTER_DIR ? path.resolve(repoRoot, env.DIGITSERVE_CLUSTER_DIR) : path.join(repoRoot, '.cluster');
}

/** Runtime state of a running plane: kubeconfig, certificates, logs, etcd data, pids. Ignored by git. */
export const clusterDir = resolveClusterDir();
export const kubeconfigPath = path.join(clusterDir, 'kubeconfig');
export const stateFile = path.join(clusterDir, 'state.json');

/**
 * Built binaries are cached outside the clone, so a fresh clone on the same machine (as CI makes)
 * reuses them: ${DIGITSERVE_CACHE:-${XDG_CACHE_HOME:-~/.cache}/digitserve}.
 */
export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.DIGITSERVE_CACHE) return path.resolve(env.DIGITSERVE_CACHE);
  const xdg = env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(xdg, 'digitserve');
}
