import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

/**
 * A test-only image made `FROM` a built image without any engine: the base's `docker save`
 * archive (what `npm run images` writes) plus one layer of the given files and extra labels, as
 * a new `docker save` archive under a new name. Its lower layers are the base's, byte for byte —
 * what `FROM base` + `COPY` + `LABEL` in a Dockerfile produces — so `ctr images import` shares
 * them with the base already on the node.
 */

export interface AddedFile {
  /** Absolute path inside the image. */
  path: string;
  content: Buffer | string;
  /** Owner inside the image (the runtime image's user is 65532). */
  uid?: number;
  gid?: number;
}

export interface Derivation {
  base: string;
  ref: string;
  files?: AddedFile[];
  /** Directories the files need that the base may lack (root-owned, 0755), e.g. /app/models/mnist-cnn/2. */
  dirs?: string[];
  labels?: Record<string, string>;
  /** What the history entry says (like a Dockerfile line). */
  createdBy: string;
}

interface DockerManifestEntry {
  Config: string;
  RepoTags?: string[];
  Layers: string[];
}

interface ImageConfig {
  config?: { Labels?: Record<string, string> | null; [k: string]: unknown };
  rootfs: { type: string; diff_ids: string[] };
  history?: { created?: string; created_by?: string; empty_layer?: boolean }[];
  [k: string]: unknown;
}

// tar reads no stdin and prints nothing worth keeping: a plain execFile
const run = (cmd: string, args: string[]) => promisify(execFile)(cmd, args, { maxBuffer: 16 * 1024 * 1024 });
const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

async function tar(cwd: string, out: string, entries: string[], owner = 0, group = 0, recursion = true): Promise<void> {
  await run('tar', [...(recursion ? [] : ['--no-recursion']), '--sort=name', `--owner=${owner}`, `--group=${group}`, '--numeric-owner', '--mtime=@0', '--format=posix',
    '--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime', '-C', cwd, '-cf', out, ...entries]);
}

/** Writes the derived archive to `out` and returns it. */
export async function deriveImage(d: Derivation, out: string): Promise<string> {
  const work = fs.mkdtempSync(`${out}.tmp-`);
  try {
    const archive = path.join(work, 'archive');
    fs.mkdirSync(archive);
    await run('tar', ['-xf', d.base, '-C', archive]);
    const manifest = JSON.parse(fs.readFileSync(path.join(archive, 'manifest.json'), 'utf8')) as DockerManifestEntry[];
    if (manifest.length !== 1) throw new Error(`${d.base}: expected one image in manifest.json, found ${manifest.length}`);
    const [entry] = manifest;
    const config = JSON.parse(fs.readFileSync(path.join(archive, entry.Config), 'utf8')) as ImageConfig;
    const layers = [...entry.Layers];
    const now = new Date(0).toISOString();
    if (d.files?.length) {
      // one layer; files owned by the given user, their parent directories by root (as COPY --chown does)
      const rootfs = path.join(work, 'rootfs');
      const layerTar = path.join(work, 'layer.tar');
      const byOwner = new Map<string, AddedFile[]>();
      for (const f of d.files) {
        const key = `${f.uid ?? 0}:${f.gid ?? 0}`;
        byOwner.set(key, [...(byOwner.get(key) ?? []), f]);
        const dest = path.join(rootfs, f.path);
        fs.mkdirSync(path.dirname(dest), { recursive: true });
        fs.writeFileSync(dest, f.content);
        fs.chmodSync(dest, 0o644);
      }
      const parts: string[] = [];
      if (d.dirs?.length) {
        for (const dir of d.dirs) fs.mkdirSync(path.join(rootfs, dir), { recursive: true, mode: 0o755 });
        const part = path.join(work, 'part-dirs.tar');
        await tar(rootfs, part, d.dirs.map((dir) => dir.replace(/^\//, '')), 0, 0, false);
        parts.push(part);
      }
      for (const [owner, files] of byOwner) {
        const [uid, gid] = owner.split(':').map(Number);
        const part = path.join(work, `part-${parts.length}.tar`);
        await tar(rootfs, part, files.map((f) => f.path.replace(/^\//, '')), uid, gid);
        parts.push(part);
      }
      // concatenate the parts into one layer (GNU tar --concatenate keeps every member)
      fs.copyFileSync(parts[0], layerTar);
      for (const part of parts.slice(1)) await run('tar', ['--concatenate', '-f', layerTar, part]);
      const diffId = sha256(fs.readFileSync(layerTar));
      fs.mkdirSync(path.join(archive, diffId), { recursive: true });
      fs.renameSync(layerTar, path.join(archive, diffId, 'layer.tar'));
      layers.push(`${diffId}/layer.tar`);
      config.rootfs.diff_ids = [...config.rootfs.diff_ids, `sha256:${diffId}`];
      config.history = [...(config.history ?? []), { created: now, created_by: d.createdBy }];
    } else {
      config.history = [...(config.history ?? []), { created: now, created_by: d.createdBy, empty_layer: true }];
    }
    config.config = { ...(config.config ?? {}), Labels: { ...(config.config?.Labels ?? {}), ...(d.labels ?? {}) } };
    const configText = JSON.stringify(config);
    const configName = `${sha256(configText)}.json`;
    fs.rmSync(path.join(archive, entry.Config));
    fs.writeFileSync(path.join(archive, configName), configText);
    fs.writeFileSync(path.join(archive, 'manifest.json'), JSON.stringify([{ Config: configName, RepoTags: [d.ref], Layers: layers }]));
    // an OCI index or a `repositories` file would name the base image: only manifest.json speaks
    for (const stale of ['index.json', 'oci-layout', 'repositories']) fs.rmSync(path.join(archive, stale), { force: true });
    const tmpOut = path.join(work, 'image.tar');
    await tar(archive, tmpOut, fs.readdirSync(archive));
    fs.renameSync(tmpOut, out);
    return out;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
