import fs from 'node:fs';
import path from 'node:path';
import { log, since } from './log.js';
import { ctr, type RealNodeState } from './node-state.js';
import { repoRoot } from './paths.js';

/** Images into the real node's containerd (namespace k8s.io, the one the kubelet's CRI uses). */

export interface ImageEntry {
  ref: string;
  tar: string;
}

/** `.images/images.json`, written by `npm run images`: [{"ref": ..., "tar": <absolute path>}]. */
export const imagesManifest = path.join(repoRoot, '.images', 'images.json');

export function readImagesManifest(file = imagesManifest): ImageEntry[] {
  if (!fs.existsSync(file)) return [];
  const entries = JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
  if (!Array.isArray(entries) || !entries.every((e: Partial<ImageEntry>) => typeof e?.ref === 'string' && typeof e?.tar === 'string')) {
    throw new Error(`${file}: expected [{"ref": "...", "tar": "/absolute/path.tar"}, ...]`);
  }
  return entries as ImageEntry[];
}

/** Imports each tar (docker-save or OCI archive) and checks its ref is then known to containerd. */
export async function importImages(rn: RealNodeState, images: readonly ImageEntry[]): Promise<void> {
  for (const img of images) {
    if (!fs.existsSync(img.tar)) throw new Error(`image tar of ${img.ref} not found: ${img.tar}`);
    const t = Date.now();
    await ctr(rn, ['images', 'import', img.tar]);
    const listed = (await ctr(rn, ['images', 'list', '--quiet'])).stdout.split('\n');
    if (!listed.includes(img.ref) && !listed.includes(`docker.io/${img.ref}`)) {
      throw new Error(`imported ${img.tar} but containerd does not list ${img.ref} (it lists: ${listed.filter(Boolean).join(', ')})`);
    }
    log(`imported ${img.ref} into the real node in ${since(t)}`);
  }
}
