import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { RUNTIME_SELECTOR, scrapeTargets } from './pod-targets.js';

/**
 * The pod discovery process of the plane's monitoring (see pod-targets.ts): rewrites the file_sd
 * target file whenever the runtime pods change, until SIGTERM.
 *
 *   node --import tsx hack/cluster/pod-targets-cli.ts --kubeconfig KC --out targets.json
 */

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { kubeconfig: { type: 'string' }, out: { type: 'string' } }, strict: true });
  if (!values.kubeconfig || !values.out) throw new Error('--kubeconfig and --out are required');
  const kc = new KubeConfig();
  kc.loadFromFile(values.kubeconfig);
  const core = kc.makeApiClient(CoreV1Api);
  let stopping = false;
  for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => (stopping = true));
  let last = '';
  while (!stopping) {
    try {
      const pods = await core.listPodForAllNamespaces({ labelSelector: RUNTIME_SELECTOR });
      const text = `${JSON.stringify(scrapeTargets(pods.items), null, 1)}\n`;
      if (text !== last) {
        fs.writeFileSync(`${values.out}.tmp`, text);
        fs.renameSync(`${values.out}.tmp`, values.out); // Prometheus never reads half a file
        last = text;
      }
    } catch (err) {
      process.stderr.write(`pod-targets: ${err instanceof Error ? err.message : String(err)}\n`);
    }
    await new Promise((r) => setTimeout(r, 2000));
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`pod-targets: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
