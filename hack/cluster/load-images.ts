import { runningPlane } from './cluster.js';
import { log } from './log.js';
import { importImages, imagesManifest, readImagesManifest } from './node-import.js';
import { clusterDir } from './paths.js';

/**
 * `tsx hack/cluster/cli.ts load-images`: imports every tar listed in `.images/images.json` into the
 * real node's containerd (namespace k8s.io) when the plane of this directory runs one; otherwise
 * says why it skipped and succeeds (`npm run images` calls it whether or not a node runs).
 */
export async function loadImages(): Promise<void> {
  const images = readImagesManifest();
  if (images.length === 0) {
    log(`load-images: no images listed in ${imagesManifest} (npm run images writes it); nothing to import`);
    return;
  }
  const plane = await runningPlane();
  if (!plane?.realNode) {
    log(`load-images: no real node runs in ${clusterDir} (npm run cluster:up -- --real-node starts one and imports the images itself); skipped`);
    return;
  }
  await importImages(plane.realNode, images);
}
