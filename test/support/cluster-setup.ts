import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Jest globalSetup of the projects that test against the local control plane: brings a plane up
 * once (building it on first use) and gives the tests its kubeconfig as KUBECONFIG.
 * - KUBECONFIG_EXTERNAL=<file>: run against that cluster instead; nothing is started or stopped.
 * - A plane already up (`npm run cluster:up`) is reused and left running afterwards.
 * - DIGITSERVE_KEEP_CLUSTER=1: leave the plane this run started running (for debugging).
 * A project with `globals.digitservePlane = {dir}` (the operator fault tests) gets a private plane
 * in that directory instead: always a local one (KUBECONFIG_EXTERNAL does not apply), never one
 * another run is using, and its KUBECONFIG reaches its tests through test/support/plane-env.ts, so
 * the process-wide KUBECONFIG of other projects in the same jest run is left alone.
 * `globals.digitservePlane.realNode = true` (the journey project) starts that plane with
 * `cluster:up --real-node`: one real kubelet node beside the kwok ones.
 * Jest loads global setup through Node's own ESM loader, without the `.js` -> `.ts` mapping the
 * tests get, so the plane is driven through its CLI rather than imported.
 */

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const tsx = path.join(root, 'node_modules', '.bin', 'tsx');
const cli = path.join(root, 'hack', 'cluster', 'cli.ts');

interface ProjectConfig {
  globals?: { digitservePlane?: { dir?: string; realNode?: boolean } };
}

/** Planes this jest process started, by state directory ('' = the default or $DIGITSERVE_CLUSTER_DIR). */
const owned = new Set<string>();

/** Runs `cluster:<cmd>` synchronously (usable from signal and exit handlers); returns its stdout. */
function clusterCli(dir: string, cmd: 'up' | 'down', ...args: string[]): string {
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: '' }; // not jest's --experimental-vm-modules
  if (dir) env.DIGITSERVE_CLUSTER_DIR = dir;
  const r = spawnSync(tsx, [cli, cmd, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], env, encoding: 'utf8' });
  const logs = path.join(dir || process.env.DIGITSERVE_CLUSTER_DIR || '.cluster', 'logs');
  if (r.status !== 0) throw new Error(`npm run cluster:${cmd} failed (${r.signal ?? `exit ${r.status}`}); see the lines above and ${logs}/`);
  return r.stdout;
}

/** Stops the plane of `dir` if this process started it; idempotent. */
function releasePlane(dir: string): void {
  if (!owned.delete(dir)) return;
  if (dir) fs.rmSync(path.join(dir, 'owner'), { force: true });
  if (process.env.DIGITSERVE_KEEP_CLUSTER === '1') {
    process.stderr.write(`[cluster] DIGITSERVE_KEEP_CLUSTER=1: leaving the control plane${dir ? ` in ${dir}` : ''} running (cluster:down stops it)\n`);
    return;
  }
  clusterCli(dir, 'down');
}

function releaseAll(): void {
  for (const dir of [...owned]) releasePlane(dir);
}

function onSignal(signal: NodeJS.Signals): void {
  process.stderr.write(`\n[cluster] ${signal}: stopping the control plane\n`);
  try {
    releaseAll();
  } finally {
    process.exit(signal === 'SIGINT' ? 130 : 143);
  }
}

let handlersInstalled = false;
function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  // Ctrl-C, a kill, or an exit that skips globalTeardown must not leave etcd and the apiserver behind.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(signal, onSignal);
  process.once('exit', releaseAll);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Claims a private plane's directory for this process: another live jest process holding it is an
 * error (its tests stop that plane's apiserver); a plane left by a dead one is stopped first.
 */
function claimPrivatePlane(dir: string): void {
  const ownerFile = path.join(dir, 'owner');
  const holder = Number(fs.existsSync(ownerFile) ? fs.readFileSync(ownerFile, 'utf8') : NaN);
  if (Number.isInteger(holder) && holder !== process.pid && pidAlive(holder)) {
    throw new Error(`the control plane in ${dir} belongs to another test run (pid ${holder}); wait for it, or stop it`);
  }
  // whatever runs there was left by a killed run (or DIGITSERVE_KEEP_CLUSTER): start afresh
  clusterCli(dir, 'down');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(ownerFile, String(process.pid));
}

/** Where teardown finds the release function: jest runs both in one process but cannot import between them (see above). */
export const releaseKey = Symbol.for('digitserve.cluster.release');

export default async function setup(globalConfig: { maxWorkers?: number }, projectConfig: ProjectConfig = {}): Promise<void> {
  (globalThis as Record<symbol, unknown>)[releaseKey] = (project?: ProjectConfig) => {
    const rel = project?.globals?.digitservePlane?.dir;
    releasePlane(rel ? path.resolve(root, rel) : '');
  };
  const privateDir = projectConfig.globals?.digitservePlane?.dir;
  const dir = privateDir ? path.resolve(root, privateDir) : '';
  const realNode = projectConfig.globals?.digitservePlane?.realNode === true;
  // its test files take the plane down on purpose (faults) or share one node: one at a time, or they break each other
  if (dir && (globalConfig?.maxWorkers ?? 1) > 1) throw new Error(`the tests on the private plane ${privateDir} must run one file at a time: add --runInBand (-i)`);
  const external = process.env.KUBECONFIG_EXTERNAL;
  if (external && !dir) {
    if (!fs.existsSync(external)) throw new Error(`KUBECONFIG_EXTERNAL=${external} does not exist`);
    process.env.KUBECONFIG = path.resolve(external);
    process.stderr.write(`[cluster] KUBECONFIG_EXTERNAL: testing against ${process.env.KUBECONFIG}; starting nothing\n`);
    return;
  }
  if (external) process.stderr.write(`[cluster] KUBECONFIG_EXTERNAL does not apply to ${dir}: these tests break their plane on purpose\n`);
  installHandlers();
  if (dir) claimPrivatePlane(dir);
  let out: string;
  try {
    out = clusterCli(dir, 'up', '--json', ...(realNode ? ['--real-node'] : []));
  } catch (err) {
    clusterCli(dir, 'down'); // an interrupted `up` may have started some processes
    if (dir) fs.rmSync(path.join(dir, 'owner'), { force: true });
    throw err;
  }
  const { kubeconfig, started } = JSON.parse(out.trim().split('\n').pop() ?? '{}') as { kubeconfig: string; started: boolean };
  if (started || dir) owned.add(dir);
  // a private plane's tests get its kubeconfig from plane-env.ts; the shared one goes process-wide
  if (!dir) process.env.KUBECONFIG = kubeconfig;
}
