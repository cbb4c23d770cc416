import { randomBytes } from 'node:crypto';
import { binary, run, type RunResult } from '../../unit/chart/support.js';

/** kubectl and helm against the local control plane ($KUBECONFIG, exported by test/support/cluster-setup.ts). */

function kubeconfig(): string {
  const kc = process.env.KUBECONFIG;
  if (!kc) throw new Error('KUBECONFIG is not set: run through the integration project (its globalSetup exports it)');
  return kc;
}

export function kubectl(args: string[], input?: string): RunResult {
  return run(binary('kubectl'), ['--kubeconfig', kubeconfig(), ...args], input);
}

export function kubectlOk(args: string[], input?: string): string {
  const r = kubectl(args, input);
  if (r.status !== 0) throw new Error(`kubectl ${args.join(' ')} exited ${r.status}:\n${r.stderr}`);
  return r.stdout;
}

export function helmCluster(args: string[]): RunResult {
  return run(binary('helm'), ['--kubeconfig', kubeconfig(), ...args]);
}

export function helmClusterOk(args: string[]): string {
  const r = helmCluster(args);
  if (r.status !== 0) throw new Error(`helm ${args.join(' ')} exited ${r.status}:\n${r.stderr}`);
  return r.stdout;
}

export function suffix(): string {
  return randomBytes(3).toString('hex');
}

/** A fresh namespace that enforces (and warns about) the `restricted` Pod Security Standard. */
export function createNamespace(prefix: string): string {
  const name = `${prefix}-${suffix()}`;
  kubectlOk(['create', 'namespace', name]);
  kubectlOk(['label', 'namespace', name, 'digitserve.dev/test=chart', 'pod-security.kubernetes.io/enforce=restricted', 'pod-security.kubernetes.io/warn=restricted']);
  return name;
}

export function deleteNamespace(name: string): void {
  kubectl(['delete', 'namespace', name, '--wait=false', '--ignore-not-found']);
}

export function exists(kind: string, name: string, namespace?: string): boolean {
  const args = ['get', kind, name, '--ignore-not-found', '-o', 'name'];
  if (namespace) args.push('-n', namespace);
  return kubectlOk(args).trim() !== '';
}

export function getJson<T>(kind: string, name: string, namespace?: string): T {
  const args = ['get', kind, name, '-o', 'json'];
  if (namespace) args.push('-n', namespace);
  return JSON.parse(kubectlOk(args)) as T;
}

export const CRD_NAME = 'digitmodels.digitserve.dev';
