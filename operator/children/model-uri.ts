import { MODEL_MOUNT_PATH } from '../api/constants.js';

/** Where a track's model comes from, as the pod sees it. */
export interface ModelSource {
  /** MODEL_URI for the runtime. */
  runtimeUri: string;
  /** The claim to mount read-only at MODEL_MOUNT_PATH, for pvc:// URIs. */
  claim?: string;
}

/** Turns `pvc://<claim>/<path>` into a read-only mount plus `file:///mnt/models/<path>`; other URIs pass through. */
export function resolveModelUri(uri: string): ModelSource {
  const m = /^pvc:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (!m) return { runtimeUri: uri };
  const path = m[2].replace(/^\/+/, '');
  return { claim: m[1], runtimeUri: path ? `file://${MODEL_MOUNT_PATH}/${path}` : `file://${MODEL_MOUNT_PATH}` };
}
