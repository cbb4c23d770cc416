import { spawn } from 'node:child_process';
import fs from 'node:fs';

/** Starting the plane's processes detached (they outlive `cluster:up`) and stopping exactly those. */

export interface ProcessRecord {
  name: string;
  pid: number;
  bin: string;
  log: string;
}

export interface Started extends ProcessRecord {
  /** Set once the process has exited (only observed while the starting Node process lives). */
  exited: () => string | undefined;
}

/**
 * Starts `bin` detached with its output appended to `logFile`. `via` is a command that execs it in
 * the same process (e.g. `nsenter --net=…`), so the recorded pid and binary are still `bin`'s.
 */
export function startProcess(name: string, bin: string, args: readonly string[], logFile: string, cwd: string, via: readonly string[] = []): Started {
  const fd = fs.openSync(logFile, 'a');
  fs.writeSync(fd, `\n### ${new Date().toISOString()} ${[...via, bin, ...args].join(' ')}\n`);
  const argv = [...via, bin, ...args];
  const child = spawn(argv[0], argv.slice(1), { cwd, detached: true, stdio: ['ignore', fd, fd] });
  fs.closeSync(fd);
  if (child.pid === undefined) throw new Error(`could not start ${name} (${bin})`);
  let exit: string | undefined;
  child.on('exit', (code, signal) => (exit = signal ? `killed by ${signal}` : `exit code ${code}`));
  child.on('error', (err) => (exit = err.message));
  child.unref();
  return { name, pid: child.pid, bin, log: logFile, exited: () => exit };
}

/** True when `pid` is alive and still runs `bin` (a recycled pid is not ours to signal). */
export function isOurs(rec: ProcessRecord): boolean {
  try {
    const exe = fs.readlinkSync(`/proc/${rec.pid}/exe`).replace(/ \(deleted\)$/, '');
    if (exe === rec.bin || exe === fs.realpathSync(rec.bin)) return true;
  } catch {
    // no /proc entry: fall back to the command line where /proc/<pid>/exe is unreadable
  }
  try {
    const argv0 = fs.readFileSync(`/proc/${rec.pid}/cmdline`, 'utf8').split('\0')[0];
    return argv0 === rec.bin;
  } catch {
    return false;
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
export async function stopProcess(rec: ProcessRecord, graceMs = 10_000): Promise<void> {
  if (!isOurs(rec)) return;
  signal(rec.pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (isOurs(rec) && Date.now() < deadline) await sleep(100);
  if (isOurs(rec)) {
    signal(rec.pid, 'SIGKILL');
    while (isOurs(rec)) await sleep(50);
  }
}

/** Last lines of a log, to explain a failed start. */
export function tail(file: string, lines = 30): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
