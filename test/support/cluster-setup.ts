import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Jest globalSetup of the integration and e2e suites: brings the local control plane up once
 * (building it on first use) and exports its kubeconfig to the tests as KUBECONFIG.
 * - KUBECONFIG_EXTERNAL=<file>: run against that cluster instead; nothing is started or stopped.
 * - A plane already up (`npm run cluster:up`) is reused and left running afterwards.
 * - DIGITSERVE_KEEP_CLUSTER=1: leave the plane this run started running (for debugging).
 * Jest loads global setup through Node's own ESM loader, without the `.js` -> `.ts` mapping the
 * tests get, so the plane is driven through its CLI rather than imported.
 */

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const tsx = path.join(root, 'node_modules', '.bin', 'tsx');
const cli = path.join(root, 'hack', 'cluster', 'cli.ts');

/** Set while this jest process owns the plane: only then do teardown and signals stop it. */
const OWNED = 'DIGITSERVE_CLUSTER_OWNED';

/** Runs `cluster:<cmd>` synchronously (usable from signal and exit handlers); returns its stdout. */
function clusterCli(cmd: 'up' | 'down', ...args: string[]): string {
  const env = { ...process.env, NODE_OPTIONS: '' }; // not jest's --experimental-vm-modules
  const r = spawnSync(tsx, [cli, cmd, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`npm run cluster:${cmd} failed (${r.signal ?? `exit ${r.status}`}); see the lines above and .cluster/logs/`);
  return r.stdout;
}

function ownsPlane(): boolean {
  return process.env[OWNED] === '1';
}

/** Stops the plane if this process started it; idempotent. */
function releasePlane(): void {
  if (!ownsPlane()) return;
  delete process.env[OWNED];
  if (process.env.DIGITSERVE_KEEP_CLUSTER === '1') {
    process.stderr.write('[cluster] DIGITSERVE_KEEP_CLUSTER=1: leaving the control plane running (npm run cluster:down stops it)\n');
    return;
  }
  clusterCli('down');
}

function onSignal(signal: NodeJS.Signals): void {
  process.stderr.write(`\n[cluster] ${signal}: stopping the control plane\n`);
  try {
    releasePlane();
  } finally {
    process.exit(signal === 'SIGINT' ? 130 : 143);
  }
}

/** Where teardown finds releasePlane: jest runs both in one process but cannot import between them (see above). */
export const releaseKey = Symbol.for('digitserve.cluster.release');

export default async function setup(): Promise<void> {
  (globalThis as Record<symbol, unknown>)[releaseKey] = releasePlane;
  const external = process.env.KUBECONFIG_EXTERNAL;
  if (external) {
    if (!fs.existsSync(external)) throw new Error(`KUBECONFIG_EXTERNAL=${external} does not exist`);
    process.env.KUBECONFIG = path.resolve(external);
    process.stderr.write(`[cluster] KUBECONFIG_EXTERNAL: testing against ${process.env.KUBECONFIG}; starting nothing\n`);
    return;
  }
  // Ctrl-C, a kill, or an exit that skips globalTeardown must not leave etcd and the apiserver behind.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(signal, onSignal);
  process.once('exit', () => releasePlane());
  let out: string;
  try {
    out = clusterCli('up', '--json');
  } catch (err) {
    clusterCli('down'); // an interrupted `up` may have started some processes
    throw err;
  }
  const { kubeconfig, started } = JSON.parse(out.trim().split('\n').pop() ?? '{}') as { kubeconfig: string; started: boolean };
  if (started) process.env[OWNED] = '1';
  process.env.KUBECONFIG = kubeconfig;
}
