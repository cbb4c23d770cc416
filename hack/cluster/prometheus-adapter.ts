import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { isExecutable, withLock } from './build.js';
import { exec } from './exec.js';
import { log, since } from './log.js';
import { cacheRoot, modulesDir } from './paths.js';

/**
 * prometheus-adapter (the custom metrics API server the journey test's HPA reads), built from its
 * Go module pinned in hack/controlplane/prometheus-adapter, cached outside the clone under
 * ${cache}/bin/prometheus-adapter-<version>-<hash of go.mod, go.sum, tools.go and flags>/adapter.
 * Only the journey needs it, so it is keyed and built apart from the plane's binaries (a change
 * here rebuilds nothing else). The build runs under `nice -n 10`: it shares the machine.
 */

const moduleDir = path.join(modulesDir, 'prometheus-adapter');
const PKG = 'sigs.k8s.io/prometheus-adapter/cmd/adapter';
const LDFLAGS = '-s -w';

export function adapterVersion(): string {
  const m = /^\s*(?:require\s+)?sigs\.k8s\.io\/prometheus-adapter\s+(v\S+)/m.exec(fs.readFileSync(path.join(moduleDir, 'go.mod'), 'utf8'));
  if (!m) throw new Error('hack/controlplane/prometheus-adapter/go.mod does not require sigs.k8s.io/prometheus-adapter');
  return m[1];
}

export function adapterPath(): string {
  const h = createHash('sha256').update(JSON.stringify({ trimpath: true, ldflags: LDFLAGS, pkg: PKG }));
  for (const file of fs.readdirSync(moduleDir).sort()) {
    if (file === 'go.mod' || file === 'go.sum' || file.endsWith('.go')) h.update(`\0${file}\0`).update(fs.readFileSync(path.join(moduleDir, file)));
  }
  return path.join(cacheRoot(), 'bin', `prometheus-adapter-${adapterVersion()}-${h.digest('hex').slice(0, 12)}`, 'adapter');
}

/** The adapter binary, built first if the cache lacks it. */
export async function ensurePrometheusAdapter(): Promise<string> {
  const bin = adapterPath();
  if (isExecutable(bin)) return bin;
  const dir = path.dirname(bin);
  fs.mkdirSync(dir, { recursive: true });
  await withLock(`${dir}.lock`, async () => {
    if (isExecutable(bin)) return; // built by another process meanwhile
    const tmp = fs.mkdtempSync(path.join(dir, '.build-'));
    try {
      const start = Date.now();
      log(`building prometheus-adapter ${adapterVersion()} (module hack/controlplane/prometheus-adapter) ...`);
      await exec('nice', ['-n', '10', 'go', 'build', '-trimpath', '-ldflags', LDFLAGS, '-o', `${tmp}/`, PKG], { cwd: moduleDir, streamStderr: true });
      fs.renameSync(path.join(tmp, 'adapter'), bin); // appears whole or not at all
      log(`built prometheus-adapter in ${since(start)}: ${bin}`);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
  return bin;
}
