import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { exec } from './exec.js';

/**
 * A single-layer image as a `docker save` archive (what `ctr images import` and `docker load`
 * read), written without any registry or daemon: a layer tar of the given files, an image config,
 * manifest.json naming the image. GNU tar makes both tars reproducibly (fixed owner, mtime, order).
 */

export interface ImageFile {
  /** Path inside the image, relative to / (e.g. `pause`). */
  path: string;
  /** File on this machine to copy in. */
  source: string;
  mode: number;
}

export interface ImageSpec {
  ref: string;
  files: ImageFile[];
  entrypoint: string[];
  user?: string;
  exposedPorts?: string[];
}

const sha256 = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

async function reproducibleTar(cwd: string, out: string, entries: string[]): Promise<void> {
  await exec('tar', ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', '--mtime=@0', '--format=posix',
    '--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime', '-C', cwd, '-cf', out, ...entries]);
}

/** Writes the archive to `out` (atomically) and returns it. */
export async function writeImageTar(spec: ImageSpec, out: string): Promise<string> {
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const work = fs.mkdtempSync(`${out}.tmp-`);
  try {
    const rootfs = path.join(work, 'rootfs');
    for (const f of spec.files) {
      const dest = path.join(rootfs, f.path);
      fs.mkdirSync(path.dirname(dest), { recursive: true });
      fs.copyFileSync(f.source, dest);
      fs.chmodSync(dest, f.mode);
    }
    const archive = path.join(work, 'archive');
    fs.mkdirSync(archive);
    const layerTmp = path.join(work, 'layer.tar');
    await reproducibleTar(rootfs, layerTmp, fs.readdirSync(rootfs));
    const diffId = sha256(layerTmp);
    fs.mkdirSync(path.join(archive, diffId));
    fs.renameSync(layerTmp, path.join(archive, diffId, 'layer.tar'));
    const config = {
      architecture: 'amd64',
      os: 'linux',
      config: {
        Entrypoint: spec.entrypoint,
        ...(spec.user ? { User: spec.user } : {}),
        ...(spec.exposedPorts ? { ExposedPorts: Object.fromEntries(spec.exposedPorts.map((p) => [p, {}])) } : {}),
      },
      rootfs: { type: 'layers', diff_ids: [`sha256:${diffId}`] },
      history: [{ created_by: 'hack/cluster/image-tar.ts' }],
    };
    const configText = JSON.stringify(config);
    const configName = `${createHash('sha256').update(configText).digest('hex')}.json`;
    fs.writeFileSync(path.join(archive, configName), configText);
    fs.writeFileSync(path.join(archive, 'manifest.json'), JSON.stringify([{ Config: configName, RepoTags: [spec.ref], Layers: [`${diffId}/layer.tar`] }]));
    const tmpOut = path.join(work, 'image.tar');
    await reproducibleTar(archive, tmpOut, fs.readdirSync(archive));
    fs.renameSync(tmpOut, out);
    return out;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
