import { exec } from './exec.js';

/** `kubectl apply` with the cached kubectl, server-side (the Gateway API CRDs exceed the client-side annotation limit). */
export async function kubectlApply(kubectl: string, kubeconfig: string, opts: { files?: string[]; manifest?: string }): Promise<void> {
  const args = ['--kubeconfig', kubeconfig, 'apply', '--server-side', '--force-conflicts', '--field-manager=digitserve-cluster'];
  for (const f of opts.files ?? []) args.push('-f', f);
  if (opts.manifest !== undefined) args.push('-f', '-');
  await exec(kubectl, args, { input: opts.manifest });
}

export async function kubectlWait(kubectl: string, kubeconfig: string, args: string[], timeoutSeconds: number): Promise<void> {
  await exec(kubectl, ['--kubeconfig', kubeconfig, 'wait', ...args, `--timeout=${timeoutSeconds}s`]);
}
