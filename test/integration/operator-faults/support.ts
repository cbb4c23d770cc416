import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { isHealthy, type Credentials } from '../../../hack/cluster/health.js';
import { clusterDir } from '../../../hack/cluster/paths.js';
import { isOurs, startProcess, stopProcess } from '../../../hack/cluster/processes.js';
import { readState, writeState } from '../../../hack/cluster/state.js';
import { freePort, repoRoot } from '../../support/runtime-process.js';
import { waitFor } from '../operator/support/harness.js';

/**
 * Fault injection for the operator: the operator as a real process (`tsx operator/main.ts`, so it
 * can be SIGKILLed and restarted) and the local control plane's kube-apiserver stopped and started
 * again through the plane's own state file (.cluster/state.json). hack/cluster has no function to
 * restart one component, so this re-runs the apiserver with the very command line it was started
 * with (read from /proc) and records the new pid in the state file, for `cluster:down`.
 */

export interface LogLine {
  level: number;
  time: number;
  msg: string;
  [k: string]: unknown;
}

export class OperatorProcess {
  readonly lines: LogLine[] = [];
  readonly raw: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;

  private constructor(
    readonly child: ChildProcess,
    readonly identity: string,
    readonly healthPort: number,
    readonly metricsPort: number,
  ) {
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        resolve(this.exitInfo);
      }),
    );
  }

  /** Starts `tsx operator/main.ts` watching `namespaces`, leader election on a Lease in `leaseNamespace`. */
  static async start(identity: string, namespaces: string[], leaseNamespace: string, extraArgs: string[] = []): Promise<OperatorProcess> {
    const healthPort = await freePort();
    const metricsPort = await freePort();
    const args = [
      '--import', 'tsx', 'operator/main.ts',
      '--watch-namespaces', namespaces.join(','),
      '--lease-namespace', leaseNamespace,
      '--lease-name', 'digitserve-operator-faults',
      '--identity', identity,
      '--health-port', String(healthPort),
      '--metrics-port', String(metricsPort),
      '--lease-duration-seconds', '6',
      '--renew-deadline-seconds', '4',
      '--retry-period-seconds', '1',
      '--progress-deadline-seconds', '30',
      '--prestop-sleep-seconds', '1',
      '--runtime-image', 'ghcr.io/digitserve/runtime:test',
      ...extraArgs,
    ];
    const child = spawn(process.execPath, args, { cwd: repoRoot, env: { ...process.env, NODE_OPTIONS: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    const op = new OperatorProcess(child, identity, healthPort, metricsPort);
    // kept beside the plane's own logs, for a failed run to be read afterwards
    const logFile = path.join(clusterDir, 'logs', `operator-${identity}.log`);
    let partial = '';
    const onData = (b: Buffer) => {
      const text = partial + b.toString();
      const parts = text.split('\n');
      partial = parts.pop() ?? '';
      const complete = parts.filter(Boolean);
      if (complete.length > 0) fs.appendFileSync(logFile, `${complete.join('\n')}\n`);
      for (const l of complete) {
        op.raw.push(l);
        try {
          const rec = JSON.parse(l) as LogLine;
          // the operator's logger writes ISO times; compare as epoch ms
          if (typeof rec.time === 'string') rec.time = Date.parse(rec.time);
          op.lines.push(rec);
        } catch {
          // not JSON (a stack trace): kept in raw
        }
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    await waitFor(`operator ${identity} /healthz`, async () => {
      if (op.exitInfo) throw new Error(`operator ${identity} exited ${JSON.stringify(op.exitInfo)}:\n${op.tail()}`);
      return (await fetchText(`http://127.0.0.1:${healthPort}/healthz`)).status === 200;
    }, 60_000);
    return op;
  }

  get alive(): boolean {
    return this.exitInfo === undefined;
  }

  tail(n = 30): string {
    return this.raw.slice(-n).join('\n');
  }

  async metrics(): Promise<string> {
    return (await fetchText(`http://127.0.0.1:${this.metricsPort}/metrics`)).text;
  }

  async isLeader(): Promise<boolean> {
    const text = await this.metrics().catch(() => '');
    return /^leader_election_master_status\{[^}]*\} 1$/m.test(text);
  }

  /** Log lines with this message. */
  linesWith(msg: string): LogLine[] {
    return this.lines.filter((l) => l.msg === msg);
  }

  /** Lines that write to the cluster on behalf of a DigitModel (children and status). */
  writes(): LogLine[] {
    return this.lines.filter((l) => ['creating child', 'applying drifted child', 'deleting child no longer wanted', 'status updated'].includes(l.msg));
  }

  /** Time spans (epoch ms) during which this process held the Lease, from its log. */
  leadership(): { from: number; to: number }[] {
    const spans: { from: number; to: number }[] = [];
    let from: number | undefined;
    for (const l of this.lines) {
      if (l.msg === 'became leader') from = l.time;
      else if ((l.msg === 'stopped leading; candidate again' || l.msg === 'lost the lease' || l.msg === 'shutting down') && from !== undefined) {
        spans.push({ from, to: l.time });
        from = undefined;
      }
    }
    if (from !== undefined) spans.push({ from, to: Number.POSITIVE_INFINITY });
    return spans;
  }

  async kill9(): Promise<void> {
    if (!this.alive) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }

  async stop(): Promise<void> {
    if (!this.alive) return;
    this.child.kill('SIGTERM');
    const t = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    await this.exited;
    clearTimeout(t);
  }
}

export async function fetchText(url: string): Promise<{ status: number; text: string }> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
    return { status: res.status, text: await res.text() };
  } catch {
    return { status: 0, text: '' };
  }
}

/** Writes by a process while it did not hold the Lease (by its own log): must be none. */
export function writesOutsideLeadership(op: OperatorProcess): LogLine[] {
  const spans = op.leadership();
  return op.writes().filter((w) => !spans.some((s) => w.time >= s.from && w.time <= s.to));
}

function credentials(): Credentials {
  const pki = path.join(clusterDir, 'pki');
  return { caCert: path.join(pki, 'ca.crt'), adminCert: path.join(pki, 'admin.crt'), adminKey: path.join(pki, 'admin.key') };
}

/** The plane's state; throws when this run has none (e.g. KUBECONFIG_EXTERNAL: nothing here to stop). */
function planeState() {
  const state = readState();
  if (!state) throw new Error(`no ${path.join(clusterDir, 'state.json')}: the apiserver fault tests need the local control plane (npm run cluster:up)`);
  return state;
}

export interface StoppedApiserver {
  argv: string[];
  bin: string;
  log: string;
}

/** Stops the plane's kube-apiserver (by the pid in the state file) and waits until it is gone. */
export async function stopApiserver(): Promise<StoppedApiserver> {
  const state = planeState();
  const rec = state.processes.find((p) => p.name === 'kube-apiserver');
  if (!rec || !isOurs(rec)) throw new Error('the kube-apiserver of .cluster/state.json is not running');
  const argv = fs.readFileSync(`/proc/${rec.pid}/cmdline`, 'utf8').split('\0').filter(Boolean).slice(1);
  // SIGTERM; a kube-apiserver with clients' watches open may take ~30 s to drain, so SIGKILL after 5 s
  await stopProcess(rec, 5_000);
  return { argv, bin: rec.bin, log: rec.log };
}

/** Starts the apiserver again with the command line it had, records its pid, and waits for /readyz. */
export async function startApiserver(stopped: StoppedApiserver): Promise<void> {
  const proc = startProcess('kube-apiserver', stopped.bin, stopped.argv, stopped.log, clusterDir);
  const state = planeState();
  state.processes = state.processes.map((p) => (p.name === 'kube-apiserver' ? { name: proc.name, pid: proc.pid, bin: proc.bin, log: proc.log } : p));
  writeState(state);
  await waitFor('kube-apiserver /readyz after restart', async () => {
    const exit = proc.exited();
    if (exit) throw new Error(`kube-apiserver ${exit}`);
    return isHealthy(`${state.server}/readyz`, credentials());
  }, 120_000, 250);
}

/** The etcd client URL of the plane (for compaction). */
export function etcdUrl(): string {
  const port = planeState().ports.etcdClient;
  if (!port) throw new Error('no etcd client port in .cluster/state.json');
  return `http://127.0.0.1:${port}`;
}

/** Compacts etcd's history up to its current revision (physically), as its periodic compaction does; returns that revision. */
export async function compactEtcd(): Promise<number> {
  const base = etcdUrl();
  const head = await fetch(`${base}/v3/kv/range`, { method: 'POST', body: JSON.stringify({ key: Buffer.from('/').toString('base64') }) });
  const rev = Number(((await head.json()) as { header: { revision: string } }).header.revision);
  const res = await fetch(`${base}/v3/kv/compaction`, { method: 'POST', body: JSON.stringify({ revision: String(rev), physical: true }) });
  if (!res.ok) throw new Error(`etcd compaction failed: ${res.status} ${await res.text()}`);
  return rev;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
