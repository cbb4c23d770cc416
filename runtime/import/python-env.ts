import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { PACKAGE_ROOT } from '../package-root.js';

const run = promisify(execFile);

/** hack/python/requirements-convert.txt: the converter's pinned environment. */
export const CONVERT_REQUIREMENTS = 'hack/python/requirements-convert.txt';

/**
 * The interpreter of a project-managed Python environment: hack/python/venv.sh makes it once
 * (cached in ~/.cache/digitserve/python, keyed by the requirements file, a path relative to the
 * package root) and prints its path. When hack/tfjs-node/setup.sh has cached the tensorflow-cpu
 * wheel of the version the requirements pin, for this interpreter, pip installs that file instead
 * of downloading it again.
 */
export async function projectPython(requirementsFile: string, log: (line: string) => void = () => {}): Promise<string> {
  const root = PACKAGE_ROOT;
  const requirements = path.join(root, requirementsFile);
  const pinned = /^tensorflow[-_]cpu==(\S+)$/im.exec(readFileSync(requirements, 'utf8'))?.[1];
  const python = process.env.PYTHON ?? 'python3';
  let tag: string | undefined;
  try {
    tag = (await run(python, ['-c', 'import sys; print("cp%d%d" % sys.version_info[:2])'])).stdout.trim();
  } catch {
    throw new Error(`${python} is not runnable: ${requirementsFile} needs Python 3 (sudo bash hack/install-prereqs.sh)`);
  }
  const wheels = path.join(process.env.TFJS_NODE_CACHE ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'), 'digitserve', 'tfjs-node'), 'wheels');
  const prefix = `tensorflow_cpu-${pinned}-${tag}-${tag}-`;
  const wheel = pinned && existsSync(wheels) ? readdirSync(wheels).find((f) => f.startsWith(prefix) && f.endsWith('.whl')) : undefined;
  log(`python environment (hack/python/venv.sh ${requirementsFile}${wheel ? `, tensorflow-cpu from the cached ${wheel}` : ''}); the first run installs it`);
  const env = { ...process.env, ...(wheel ? { VENV_PIP_ARGS: path.join(wheels, wheel) } : {}) };
  const { stdout } = await run('bash', [path.join(root, 'hack/python/venv.sh'), requirements], { env, cwd: root, maxBuffer: 1 << 24 });
  return path.join(stdout.trim(), 'bin', 'python');
}

/** The converter's interpreter (`npm run import`, its tests). */
export function converterPython(log: (line: string) => void = () => {}): Promise<string> {
  return projectPython(CONVERT_REQUIREMENTS, log);
}
