import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Tally } from '../../../hack/loadgen/tally.js';

/**
 * Runs hack/loadgen/cli.ts inside the real node's network namespace (where ClusterIPs answer,
 * through kube-proxy's rules) and follows its snapshots. One LoadRun per journey step: its final
 * tally is that step's requests sent and failed.
 */

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const cli = path.join(repo, 'hack', 'loadgen', 'cli.ts');

export interface LoadOptions {
  /** `nsenter --net=… --` prefix of the node's network namespace. */
  enter: string[];
  url: string;
  bodyFile: string;
  contentType: string;
  rate?: number;
  concurrency?: number;
  maxInFlight?: number;
  durationSeconds: number;
  maxRequests?: number;
  timeoutMs?: number;
  /** CIDRs besides loopback the target may be in (the plane's Service range). */
  allow: string[];
}

export interface Snapshot extends Tally {
  type: 'snapshot' | 'final';
  /** Epoch ms the generator started at: the origin of every `at` in the tally. */
  startedAt: number;
  elapsedMs: number;
  stopReason?: string;
}

export class LoadRun {
  private last: Snapshot | undefined;
  private stderr = '';
  private readonly child: ChildProcess;
  readonly done: Promise<Snapshot>;

  constructor(o: LoadOptions) {
    const args = ['--url', o.url, '--body', o.bodyFile, '--content-type', o.contentType, '--duration', String(o.durationSeconds)];
    if (o.rate !== undefined) args.push('--rate', String(o.rate));
    if (o.concurrency !== undefined) args.push('--concurrency', String(o.concurrency));
    if (o.maxInFlight !== undefined) args.push('--max-in-flight', String(o.maxInFlight));
    if (o.maxRequests !== undefined) args.push('--max-requests', String(o.maxRequests));
    if (o.timeoutMs !== undefined) args.push('--timeout-ms', String(o.timeoutMs));
    for (const c of o.allow) args.push('--allow', c);
    const [cmd, ...prefix] = o.enter;
    // nsenter execs node itself, so a signal to the child reaches the generator
    this.child = spawn(cmd, [...prefix, process.execPath, '--import', 'tsx', cli, ...args], {
      cwd: repo, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' },
    });
    let buf = '';
    this.child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      buf += d;
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        try {
          this.last = JSON.parse(line) as Snapshot;
        } catch {
          this.stderr += `unparsed: ${line}\n`;
        }
      }
    });
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => (this.stderr = (this.stderr + d).slice(-4000)));
    this.done = new Promise((resolve, reject) => {
      this.child.on('error', reject);
      this.child.on('close', (code, signal) => {
        if (this.last?.type === 'final') resolve(this.last);
        else reject(new Error(`load generator ended without a final tally (${signal ?? `exit ${code}`}): ${this.stderr}`));
      });
    });
  }

  /** The latest snapshot (counts so far), if one arrived. */
  latest(): Snapshot | undefined {
    return this.last;
  }

  /** Waits until at least `n` requests were answered successfully (the load is flowing). */
  async waitForOk(n: number, timeoutMs = 120_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while ((this.last?.ok ?? 0) < n) {
      if (this.last?.type === 'final') throw new Error(`load generator stopped (${this.last.stopReason}) after ${this.last.ok} answers`);
      if (Date.now() > deadline) throw new Error(`load generator: ${this.last?.ok ?? 0} answers of ${n} after ${timeoutMs} ms; ${JSON.stringify(this.last)} ${this.stderr}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** Stops sending (SIGTERM), waits for what is outstanding; resolves with the final tally. */
  async stop(): Promise<Snapshot> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    return this.done;
  }
}

/** Requests sent and failed, for the timeline. */
export function summary(s: Snapshot): { sent: number; ok: number; failed: number; failures: Record<string, number> } {
  return { sent: s.sent, ok: s.ok, failed: s.failed, failures: s.failures };
}
