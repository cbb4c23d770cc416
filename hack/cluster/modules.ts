import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { exec } from './exec.js';
import { modulesDir } from './paths.js';

/** The pinned Go modules under hack/controlplane and what they build. */

export type ModuleName = 'k8s' | 'etcd' | 'kwok' | 'helm';

export type BinaryName = 'kube-apiserver' | 'kube-controller-manager' | 'kube-scheduler' | 'kubectl' | 'etcd' | 'kwok' | 'helm'
  | 'kubelet' | 'kube-proxy';

export interface BinaryTarget {
  name: BinaryName;
  module: ModuleName;
  /** Go package path (a main package of a required upstream module, or `.` for our thin main). */
  pkg: string;
  /** Only the real node (`cluster:up --real-node`) needs it: built on demand, never by a plain `up`. */
  node?: true;
}

export const targets: readonly BinaryTarget[] = [
  { name: 'kube-apiserver', module: 'k8s', pkg: 'k8s.io/kubernetes/cmd/kube-apiserver' },
  { name: 'kube-controller-manager', module: 'k8s', pkg: 'k8s.io/kubernetes/cmd/kube-controller-manager' },
  { name: 'kube-scheduler', module: 'k8s', pkg: 'k8s.io/kubernetes/cmd/kube-scheduler' },
  { name: 'kubectl', module: 'k8s', pkg: 'k8s.io/kubernetes/cmd/kubectl' },
  { name: 'etcd', module: 'etcd', pkg: '.' },
  { name: 'kwok', module: 'kwok', pkg: 'sigs.k8s.io/kwok/cmd/kwok' },
  { name: 'helm', module: 'helm', pkg: 'helm.sh/helm/v3/cmd/helm' },
  { name: 'kubelet', module: 'k8s', pkg: 'k8s.io/kubernetes/cmd/kubelet', node: true },
  { name: 'kube-proxy', module: 'k8s', pkg: 'k8s.io/kubernetes/cmd/kube-proxy', node: true },
];

/** The targets a plane needs: the control plane always, the real node's binaries only when asked. */
export function wantedTargets(opts: { node?: boolean } = {}): BinaryTarget[] {
  return targets.filter((t) => !t.node || opts.node);
}

/** Module directories that take part in the cache key (gateway-api only pins CRD manifests). */
const keyedModules = ['k8s', 'etcd', 'kwok', 'helm'] as const;

export function moduleDir(name: ModuleName | 'gateway-api'): string {
  return path.join(modulesDir, name);
}

/** The version a module's go.mod requires of `modulePath`, e.g. v1.36.3 for k8s.io/kubernetes. */
export function requiredVersion(module: ModuleName | 'gateway-api', modulePath: string): string {
  const gomod = fs.readFileSync(path.join(moduleDir(module), 'go.mod'), 'utf8');
  const escaped = modulePath.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  const m = new RegExp(`^\\s*(?:require\\s+)?${escaped}\\s+(v\\S+)`, 'm').exec(gomod);
  if (!m) throw new Error(`${module}/go.mod does not require ${modulePath}`);
  return m[1];
}

export function kubernetesVersion(): string {
  return requiredVersion('k8s', 'k8s.io/kubernetes');
}

/**
 * A short hash over everything that decides the binaries: each module's go.mod, go.sum and Go
 * sources, plus the build recipe (flags), so a change to any of them selects a fresh directory.
 */
export function buildKey(recipe: string): string {
  const h = createHash('sha256').update(recipe);
  for (const mod of keyedModules) {
    const dir = moduleDir(mod);
    for (const file of fs.readdirSync(dir).sort()) {
      if (file === 'go.mod' || file === 'go.sum' || file.endsWith('.go')) {
        h.update(`\0${mod}/${file}\0`).update(fs.readFileSync(path.join(dir, file)));
      }
    }
  }
  return h.digest('hex').slice(0, 12);
}

/** The module cache directory of `modulePath` at the version `module`'s go.mod pins (downloading it if needed). */
export async function downloadedModuleDir(module: ModuleName | 'gateway-api', modulePath: string): Promise<string> {
  const { stdout } = await exec('go', ['mod', 'download', '-json', modulePath], { cwd: moduleDir(module) });
  const info = JSON.parse(stdout) as { Dir?: string; Error?: string };
  if (!info.Dir) throw new Error(`go mod download ${modulePath}: ${info.Error ?? 'no directory reported'}`);
  return info.Dir;
}
