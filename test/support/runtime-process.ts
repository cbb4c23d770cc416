import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The runtime (`npm start`, i.e. runtime/main.ts) as a child process on free loopback ports, for
 * the reliability tests and the load bench: what a pod runs, signals and RSS included. Node runs
 * main.ts directly with tsx as an import hook (not the `tsx` CLI, which would put a wrapper
 * process between us and the runtime and swallow the pid we signal and measure).
 */

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** A port nobody listens on right now (the kernel's choice; released before the runtime binds it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export interface RuntimeProcessOptions {
  /** Extra environment (MC_SAMPLES, MAX_QUEUE, ...); PORT, METRICS_PORT and GRPC_PORT are chosen here. */
  env?: Record<string, string>;
  /** Longest wait for /readyz to answer 200 (model load and warm-up included). */
  readyTimeoutMs?: number;
  /** Also echo the child's output (debugging). */
  echo?: boolean;
  /** Checkout whose runtime/main.ts runs (default: this one); benches measure another one with it. */
  root?: string;
  /** Node flags before the entry (e.g. --cpu-prof, which NODE_OPTIONS does not allow). */
  nodeArgs?: string[];
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class RuntimeProcess {
  readonly lines: string[] = [];
  readonly exited: Promise<ExitInfo>;
  private exitInfo: ExitInfo | undefined;

  private constructor(
    readonly child: ChildProcess,
    readonly port: number,
    readonly metricsPort: number,
    /** GRPC_PORT (the OIP gRPC service). */
    readonly grpcPort: number,
  ) {
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        resolve(this.exitInfo);
      });
    });
  }

  /** Spawns the runtime and resolves once /readyz answers 200; rejects with its output if it dies first. */
  static async start(opts: RuntimeProcessOptions = {}): Promise<RuntimeProcess> {
    const rp = await RuntimeProcess.launch(opts);
    try {
      await rp.waitReady(opts.readyTimeoutMs ?? 120_000);
    } catch (err) {
      await rp.kill();
      throw err;
    }
    return rp;
  }

  /** Spawns the runtime without waiting for readiness (e.g. to see it refuse to start). */
  static async launch(opts: RuntimeProcessOptions = {}): Promise<RuntimeProcess> {
    const port = await freePort();
    let metricsPort = await freePort();
    while (metricsPort === port) metricsPort = await freePort();
    let grpcPort = await freePort();
    while (grpcPort === port || grpcPort === metricsPort) grpcPort = await freePort();
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      NODE_OPTIONS: '', // not jest's --experimental-vm-modules
      PORT: String(port),
      METRICS_PORT: String(metricsPort),
      GRPC_PORT: String(grpcPort),
      ...opts.env,
    };
    const root = opts.root ?? repoRoot;
    const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), '--import', 'tsx', path.join(root, 'runtime', 'main.ts')], {
      cwd: root,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const rp = new RuntimeProcess(child, port, metricsPort, Number(env.GRPC_PORT));
    const collect = (b: Buffer) => {
      const text = b.toString();
      if (opts.echo) process.stderr.write(text);
      rp.lines.push(...text.split('\n').filter(Boolean));
    };
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
    return rp;
  }

  get pid(): number {
    return this.child.pid!;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get alive(): boolean {
    return this.exitInfo === undefined;
  }

  /** The exit, once it happened. */
  get exit(): ExitInfo | undefined {
    return this.exitInfo;
  }

  async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!this.alive) throw new Error(`the runtime exited (${JSON.stringify(this.exitInfo)}) before it was ready:\n${this.tail()}`);
      const status = await getStatus(`${this.baseUrl}/readyz`).catch(() => 0);
      if (status === 200) return;
      if (Date.now() > deadline) throw new Error(`the runtime was not ready within ${timeoutMs} ms:\n${this.tail()}`);
      await sleep(200);
    }
  }

  /** Resident set size in bytes, from /proc (Linux), or undefined once the process is gone. */
  rssBytes(): number | undefined {
    return rssOf(this.pid);
  }

  /** The last lines of the child's output. */
  tail(n = 40): string {
    return this.lines.slice(-n).join('\n');
  }

  /** The child's output lines that are JSON objects (its structured log). */
  logRecords(): Record<string, unknown>[] {
    const out: Record<string, unknown>[] = [];
    for (const l of this.lines) {
      try {
        const v = JSON.parse(l) as unknown;
        if (v && typeof v === 'object' && !Array.isArray(v)) out.push(v as Record<string, unknown>);
      } catch {
        // not a log record
      }
    }
    return out;
  }

  signal(sig: NodeJS.Signals): void {
    if (this.alive) this.child.kill(sig);
  }

  /** SIGKILL and wait; idempotent. */
  async kill(): Promise<void> {
    if (!this.alive) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM and wait for the exit (SIGKILL after `graceMs`). */
  async stop(graceMs = 30_000): Promise<ExitInfo> {
    if (!this.alive) return this.exitInfo!;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    const info = await this.exited;
    clearTimeout(timer);
    return info;
  }
}

export function rssOf(pid: number): number | undefined {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Status of a GET, without keep-alive (a probe must not hold the server open). */
export function getStatus(url: string, timeoutMs = 5_000): Promise<number> {
  return getText(url, timeoutMs).then((r) => r.status);
}

export function getText(url: string, timeoutMs = 5_000): Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
  });
}

/** One sample value of a Prometheus text exposition (first series whose name and labels match). */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const ls = m[2] ?? '';
    if (Object.entries(labels).every(([k, v]) => ls.includes(`${k}="${v}"`))) return Number(m[3]);
  }
  return undefined;
}
