import fs from 'node:fs';
import path from 'node:path';
import { exec } from './exec.js';
import { log, since } from './log.js';
import { buildKey, kubernetesVersion, moduleDir, requiredVersion, targets, wantedTargets, type BinaryName, type BinaryTarget, type ModuleName } from './modules.js';
import { cacheRoot } from './paths.js';

/** Builds the control-plane binaries from the pinned Go modules into the shared cache, only what is missing. */

export type Binaries = Record<BinaryName, string>;

/** Link-time flags per module: Kubernetes' version is stamped so clients judge the server right. */
function ldflags(module: ModuleName): string {
  const v = kubernetesVersion();
  const [major, minor] = v.replace(/^v/, '').split('.');
  const kube = [
    `-X k8s.io/component-base/version.gitVersion=${v}`,
    `-X k8s.io/component-base/version.gitMajor=${major}`,
    `-X k8s.io/component-base/version.gitMinor=${minor}`,
    `-X k8s.io/component-base/version.gitTreeState=clean`,
    `-X k8s.io/client-go/pkg/version.gitVersion=${v}`,
    `-X k8s.io/client-go/pkg/version.gitMajor=${major}`,
    `-X k8s.io/client-go/pkg/version.gitMinor=${minor}`,
  ];
  const flags = ['-s', '-w'];
  if (module === 'k8s' || module === 'kwok') flags.push(...kube);
  if (module === 'helm') {
    // what helm's own Makefile stamps; the capabilities are those of the server we run
    flags.push(
      `-X helm.sh/helm/v3/internal/version.version=${requiredVersion('helm', 'helm.sh/helm/v3')}`,
      `-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=${major}`,
      `-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=${minor}`,
      `-X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=${major}`,
      `-X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=${minor}`,
    );
  }
  return flags.join(' ');
}

const modules: readonly ModuleName[] = ['k8s', 'etcd', 'kwok', 'helm'];

function recipe(): string {
  return JSON.stringify({ trimpath: true, ldflags: modules.map(ldflags) });
}

/** ${cache}/bin/<k8s-version>-<hash of go.mod, go.sum, sources and flags>/ */
export function binDir(): string {
  return path.join(cacheRoot(), 'bin', `${kubernetesVersion()}-${buildKey(recipe())}`);
}

/** A regular file the caller may execute. */
export function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** Binaries taken from an envtest assets directory (KUBEBUILDER_ASSETS) instead of being built. */
export function envtestAssets(env: NodeJS.ProcessEnv = process.env): Partial<Binaries> {
  const dir = env.KUBEBUILDER_ASSETS;
  if (!dir) return {};
  const apiserver = path.join(dir, 'kube-apiserver');
  const etcd = path.join(dir, 'etcd');
  if (!isExecutable(apiserver) || !isExecutable(etcd)) {
    log(`KUBEBUILDER_ASSETS=${dir} has no executable kube-apiserver and etcd; building them instead`);
    return {};
  }
  const found: Partial<Binaries> = { 'kube-apiserver': apiserver, etcd };
  if (isExecutable(path.join(dir, 'kubectl'))) found.kubectl = path.join(dir, 'kubectl');
  return found;
}

export interface BuildOptions {
  /** Also kubelet and kube-proxy, for `cluster:up --real-node`. */
  node?: boolean;
}

/** Missing binaries of the resolved set, without building anything. */
export function missingBinaries(env: NodeJS.ProcessEnv = process.env, opts: BuildOptions = {}): BinaryTarget[] {
  const dir = binDir();
  const external = envtestAssets(env);
  return wantedTargets(opts).filter((t) => !external[t.name] && !isExecutable(path.join(dir, t.name)));
}

/** Runs `fn` holding a lock directory (waits for a live holder, breaks a dead one's). */
export async function withLock<T>(lockDir: string, fn: () => Promise<T>): Promise<T> {
  const pidFile = path.join(lockDir, 'pid');
  for (let waitedLogged = false; ; ) {
    try {
      fs.mkdirSync(lockDir, { recursive: false });
      fs.writeFileSync(pidFile, String(process.pid));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const stat = fs.statSync(lockDir, { throwIfNoEntry: false });
      if (!stat) continue; // released meanwhile
      const holder = lockHolder(pidFile);
      if (holder ? !pidAlive(holder) : Date.now() - stat.mtimeMs > 10_000) {
        fs.rmSync(lockDir, { recursive: true, force: true }); // left behind by a killed build
        continue;
      }
      if (!waitedLogged) log(`waiting for another build (pid ${holder}) holding ${lockDir}`);
      waitedLogged = true;
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lockDir, { recursive: true, force: true });
  }
}

function lockHolder(pidFile: string): number | undefined {
  try {
    return Number(fs.readFileSync(pidFile, 'utf8')) || undefined;
  } catch {
    return undefined;
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** `go build` of one module's missing main packages in one invocation (shared compile work). */
async function buildModule(module: ModuleName, wanted: BinaryTarget[], dir: string): Promise<void> {
  const tmp = fs.mkdtempSync(path.join(dir, `.build-${module}-`));
  try {
    const start = Date.now();
    log(`building ${wanted.map((t) => t.name).join(', ')} (module hack/controlplane/${module}) ...`);
    await exec('go', ['build', '-trimpath', '-ldflags', ldflags(module), '-o', `${tmp}/`, ...wanted.map((t) => t.pkg)], {
      cwd: moduleDir(module),
      streamStderr: true,
    });
    for (const t of wanted) {
      const out = path.join(tmp, t.name);
      if (!fs.existsSync(out)) throw new Error(`go build produced no ${t.name} in ${tmp}`);
      fs.renameSync(out, path.join(dir, t.name)); // appears whole or not at all
    }
    log(`built ${wanted.map((t) => t.name).join(', ')} in ${since(start)}`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * Returns absolute paths of every binary, building the missing ones first (kubelet and kube-proxy
 * only with `opts.node`; without it their paths are where they would be built).
 */
export async function ensureBinaries(env: NodeJS.ProcessEnv = process.env, opts: BuildOptions = {}): Promise<Binaries> {
  const dir = binDir();
  fs.mkdirSync(dir, { recursive: true });
  if (missingBinaries(env, opts).length > 0) {
    await withLock(`${dir}.lock`, async () => {
      const missing = missingBinaries(env, opts); // another process may have built them meanwhile
      const start = Date.now();
      for (const module of modules) {
        const wanted = missing.filter((t) => t.module === module);
        if (wanted.length > 0) await buildModule(module, wanted, dir);
      }
      if (missing.length > 0) log(`build finished in ${since(start)}; binaries in ${dir}`);
    });
  }
  const external = envtestAssets(env);
  const all = Object.fromEntries(targets.map((t) => [t.name, external[t.name] ?? path.join(dir, t.name)]));
  return all as Binaries;
}
