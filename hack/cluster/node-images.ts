import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { exec } from './exec.js';
import { writeImageTar } from './image-tar.js';
import { log, since } from './log.js';
import { downloadedModuleDir, requiredVersion } from './modules.js';
import { cacheRoot } from './paths.js';

/**
 * Images the real node needs without a registry: the pod sandbox ("pause") image compiled from the
 * Kubernetes module's own build/pause/linux/pause.c, and small static Go programs packed as images
 * (tests use one before the product's images exist). Cached outside the clone, keyed by inputs.
 */

const imagesCache = () => path.join(cacheRoot(), 'node-images');

const hashOf = (...parts: (string | Buffer)[]) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p).update('\0');
  return h.digest('hex').slice(0, 12);
};

/** Upstream's pause release tag for this Kubernetes version (build/pause/Makefile `TAG ?=`). */
function pauseTag(makefile: string): string {
  return /^TAG \?= (\S+)$/m.exec(makefile)?.[1] ?? 'unknown';
}

export interface BuiltImage {
  ref: string;
  tar: string;
}

/** `digitserve.local/pause:<upstream tag>`: pause.c built with `gcc -static` as upstream's Makefile does. */
export async function pauseImage(): Promise<BuiltImage> {
  const k8s = await downloadedModuleDir('k8s', 'k8s.io/kubernetes');
  const src = path.join(k8s, 'build', 'pause', 'linux', 'pause.c');
  const tag = pauseTag(fs.readFileSync(path.join(k8s, 'build', 'pause', 'Makefile'), 'utf8'));
  const gcc = (await exec('gcc', ['--version'])).stdout.split('\n')[0];
  const ref = `digitserve.local/pause:${tag}`;
  const tar = path.join(imagesCache(), `pause-${hashOf(fs.readFileSync(src), gcc, ref)}.tar`);
  if (fs.existsSync(tar)) return { ref, tar };
  const t = Date.now();
  fs.mkdirSync(imagesCache(), { recursive: true });
  const work = fs.mkdtempSync(path.join(imagesCache(), '.pause-'));
  try {
    const bin = path.join(work, 'pause');
    const version = `v${tag}-${requiredVersion('k8s', 'k8s.io/kubernetes')}`;
    await exec('gcc', ['-Os', '-Wall', '-Werror', '-static', `-DVERSION=${version}`, '-o', bin, src]);
    await exec('strip', [bin]);
    await writeImageTar({ ref, files: [{ path: 'pause', source: bin, mode: 0o755 }], entrypoint: ['/pause'], user: '65535:65535' }, tar);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  log(`built the pause image ${ref} from ${path.relative(k8s, src)} in ${since(t)}`);
  return { ref, tar };
}

/**
 * A Go main package in `dir` (a module of its own, standard library only) built static
 * (CGO_ENABLED=0) and packed as `<repo>:<hash of its sources>` running as UID 65532.
 */
export async function staticGoImage(dir: string, repo: string, ports: string[] = []): Promise<BuiltImage> {
  const files = fs.readdirSync(dir).filter((f) => f === 'go.mod' || f.endsWith('.go')).sort();
  const goVersion = (await exec('go', ['env', 'GOVERSION'])).stdout.trim();
  const key = hashOf(goVersion, ...files.flatMap((f) => [f, fs.readFileSync(path.join(dir, f))]));
  const ref = `${repo}:${key}`;
  const name = path.basename(repo);
  const tar = path.join(imagesCache(), `${name}-${key}.tar`);
  if (fs.existsSync(tar)) return { ref, tar };
  fs.mkdirSync(imagesCache(), { recursive: true });
  const work = fs.mkdtempSync(path.join(imagesCache(), `.${name}-`));
  try {
    const bin = path.join(work, name);
    await exec('go', ['build', '-trimpath', '-ldflags', '-s -w', '-o', bin, '.'], { cwd: dir, env: { ...process.env, CGO_ENABLED: '0' } });
    await writeImageTar({ ref, files: [{ path: name, source: bin, mode: 0o755 }], entrypoint: [`/${name}`], user: '65532:65532', exposedPorts: ports }, tar);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  return { ref, tar };
}
