import { type ChildProcess, execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../../support/runtime-process.js';

/**
 * The image tests drive the private Docker engine of hack/images (test/images/setup.ts starts it
 * or reuses a running one) with Debian's docker client, on the images `npm run images` saved.
 */

export const dockerCli = process.env.DOCKER_CLI ?? '/usr/bin/docker';
// set by test/images/setup.ts from hack/images/engine-ctl.sh; the fallback is engine.sh's default
const dockerHost = () => process.env.DOCKER_HOST ?? 'unix:///run/digitserve-docker/docker.sock';
export const imagesDir = path.join(repoRoot, '.images');

export interface ImageEntry {
  ref: string;
  tar: string;
  sizeBytes: number;
}

export interface BuildInfo {
  buildImage: string;
  runtimeBase: string;
  /** The extra CA bundle the build stages trusted, or null when there was none. */
  buildCa: string | null;
}

function readJson<T>(file: string): T {
  if (!fs.existsSync(file)) throw new Error(`${file} is missing: build the images first (npm run images)`);
  return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
}

export const readManifest = (): ImageEntry[] => readJson<ImageEntry[]>(path.join(imagesDir, 'images.json'));
export const readBuildInfo = (): BuildInfo => readJson<BuildInfo>(path.join(imagesDir, 'build.json'));

const version = (JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;

/**
 * The manifest's entry for the runtime, operator or converter image (ref `<prefix>/<name>:<package
 * version>`), or a variant's (`<prefix>/<name>:<package version>-<variant>`: the runtime's `native`,
 * which `npm run images -- --native` builds).
 */
export function imageEntry(name: 'runtime' | 'operator' | 'converter', variant?: 'native'): ImageEntry {
  const entries = readManifest();
  const tag = variant ? `${version}-${variant}` : version;
  const entry = entries.find((e) => e.ref.endsWith(`/${name}:${tag}`));
  if (!entry) throw new Error(`.images/images.json lists no ${name}:${tag} image (${entries.map((e) => e.ref).join(', ')})${variant ? ` (npm run images -- --${variant} builds it)` : ''}`);
  return entry;
}

export interface DockerResult {
  stdout: string;
  stderr: string;
}

/** Runs the docker client; rejects with its stderr when it exits non-zero. */
export function docker(args: string[], timeoutMs = 300_000): Promise<DockerResult> {
  return new Promise((resolve, reject) => {
    execFile(dockerCli, args, { timeout: timeoutMs, maxBuffer: 64 << 20, env: { ...process.env, DOCKER_HOST: dockerHost() } }, (err, stdout, stderr) => {
      if (err) reject(new Error(`docker ${args.join(' ')}: ${stderr || err.message}`));
      else resolve({ stdout, stderr });
    });
  });
}

export async function inspect<T>(what: string, format: string): Promise<T> {
  return JSON.parse((await docker(['inspect', '-f', `{{json ${format}}}`, what])).stdout) as T;
}

/** Combined stdout + stderr of a container. */
export async function logsOf(id: string): Promise<string> {
  const { stdout, stderr } = await docker(['logs', id]);
  return stdout + stderr;
}

/** Polls `probe` until it returns true; fails early, with the container's logs, if the container stops. */
export async function waitFor(id: string, probe: () => Promise<boolean>, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe().catch(() => false)) return;
    if (!(await inspect<boolean>(id, '.State.Running'))) throw new Error(`container stopped before ${what}:\n${await logsOf(id)}`);
    if (Date.now() > deadline) throw new Error(`no ${what} within ${timeoutMs} ms:\n${await logsOf(id)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/**
 * A running container's memory: the resident set of its main process (`VmRSS` of its host PID;
 * the runtime's engine and preprocessing workers are threads of it) and the cgroup's figure
 * `docker stats` shows (which leaves out file-backed pages such as mapped shared libraries).
 */
export async function memoryOf(id: string): Promise<string> {
  const pid = (await inspect<number>(id, '.State.Pid')).toString();
  const rss = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  const stats = (await docker(['stats', '--no-stream', '--format', '{{.MemUsage}}', id])).stdout.trim().split(' / ')[0];
  return `RSS ${rss ? (Number(rss[1]) / 1024).toFixed(0) : '?'} MiB (docker stats: ${stats})`;
}

/** The paths of a container's filesystem (`docker export`, listed by tar). */
export async function filesOf(id: string): Promise<string[]> {
  const exp = spawn(dockerCli, ['export', id], { env: { ...process.env, DOCKER_HOST: dockerHost() }, stdio: ['ignore', 'pipe', 'pipe'] });
  const tar = spawn('tar', ['-t'], { stdio: ['pipe', 'pipe', 'pipe'] });
  exp.stdout.pipe(tar.stdin);
  let out = '';
  let err = '';
  tar.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  exp.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  tar.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = (p: ChildProcess) => new Promise<number | null>((resolve, reject) => p.on('error', reject).on('close', resolve));
  const [a, b] = await Promise.all([exited(exp), exited(tar)]);
  if (a !== 0 || b !== 0) throw new Error(`docker export ${id} | tar -t exited ${a}, ${b}: ${err}`);
  return out.split('\n').filter(Boolean);
}

/** A runtime container started by `startRuntime`, on free host ports. */
export interface RuntimeContainer {
  id: string;
  /** http://127.0.0.1:<PORT> */
  base: string;
  /** http://127.0.0.1:<METRICS_PORT> */
  metricsBase: string;
}

/**
 * Starts a runtime image as the operator's pod template runs it: non-root (65532), read-only root
 * filesystem with /tmp the only writable place (an emptyDir in the pod), no capabilities; host
 * network (the engine has no bridge) on free ports given through PORT / METRICS_PORT / GRPC_PORT.
 * Resolves once /readyz answers 200 (`readyTimeoutMs`: model load and warm-up, generous — a loaded
 * machine can be many times slower); a container that never gets ready is removed.
 */
export async function startRuntime(ref: string, freePort: () => Promise<number>, readyTimeoutMs = 300_000): Promise<RuntimeContainer> {
  const [port, metricsPort, grpcPort] = [await freePort(), await freePort(), await freePort()];
  const base = `http://127.0.0.1:${port}`;
  const id = (
    await docker([
      'run', '-d', '--read-only', '--tmpfs', '/tmp:rw,size=64m', '--user', '65532:65532',
      '--cap-drop', 'ALL', '--security-opt', 'no-new-privileges', '--network', 'host',
      '-e', `PORT=${port}`, '-e', `METRICS_PORT=${metricsPort}`, '-e', `GRPC_PORT=${grpcPort}`, ref,
    ])
  ).stdout.trim();
  try {
    await waitFor(id, async () => (await fetch(`${base}/readyz`)).status === 200, '/readyz 200', readyTimeoutMs);
  } catch (e) {
    // never ready: the error carries what it logged; the container goes with it
    await docker(['rm', '-f', id]).catch(() => undefined);
    throw e;
  }
  return { id, base, metricsBase: `http://127.0.0.1:${metricsPort}` };
}

/** Sends SIGTERM as the kubelet does and waits for the container to exit: its exit code and logs. */
export async function terminate(id: string): Promise<{ code: string; logs: string }> {
  await docker(['kill', '--signal', 'TERM', id]);
  const code = (await docker(['wait', id], 300_000)).stdout.trim();
  return { code, logs: await logsOf(id) };
}
