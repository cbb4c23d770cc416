import fs from 'node:fs';
import path from 'node:path';
import { exec } from './exec.js';

/** Checks what `up` needs before it starts anything, with messages that say what to do. */

const MIN_GO = [1, 24] as const;
const GIB = 1024 ** 3;

export class PrerequisiteError extends Error {
  override name = 'PrerequisiteError';
}

export async function checkGo(): Promise<string> {
  let version: string;
  try {
    version = (await exec('go', ['env', 'GOVERSION'])).stdout.trim();
  } catch {
    throw new PrerequisiteError(`Go ${MIN_GO.join('.')} or newer is needed to build the control plane, and no \`go\` is on PATH. Install Go from https://go.dev/dl/ (or your package manager), or point KUBECONFIG_EXTERNAL at an existing cluster.`);
  }
  const m = /^go(\d+)\.(\d+)/.exec(version);
  const ok = m && (Number(m[1]) > MIN_GO[0] || (Number(m[1]) === MIN_GO[0] && Number(m[2]) >= MIN_GO[1]));
  if (!ok) throw new PrerequisiteError(`Go ${MIN_GO.join('.')} or newer is needed (found ${version || 'an unknown version'}); newer toolchains the modules ask for are then fetched by Go itself through the module proxy.`);
  return version;
}

export async function checkOpenssl(): Promise<void> {
  try {
    await exec('openssl', ['version']);
  } catch {
    throw new PrerequisiteError('the `openssl` command is needed to make the control plane\'s certificates; install OpenSSL (e.g. `apt-get install openssl`).');
  }
}

/** Free space on the file system holding `dir` (or its nearest existing parent). */
export function freeBytes(dir: string): number {
  let probe = path.resolve(dir);
  while (!fs.existsSync(probe)) probe = path.dirname(probe);
  const s = fs.statfsSync(probe);
  return s.bavail * s.bsize;
}

export function checkDisk(dir: string, neededGiB: number, what: string): void {
  const free = freeBytes(dir);
  if (free < neededGiB * GIB) {
    throw new PrerequisiteError(`${what} needs about ${neededGiB} GiB free near ${dir}, but only ${(free / GIB).toFixed(1)} GiB is free. Free some space (or set DIGITSERVE_CACHE / GOCACHE / GOMODCACHE to a larger disk).`);
  }
}
