import type { Track } from '../api/constants.js';

/** Child names, fixed by SPEC §2. */
export const childNames = {
  deployment: (dm: string, track: Track): string => `${dm}-${track}`,
  trackService: (dm: string, track: Track): string => `${dm}-${track}`,
  service: (dm: string): string => dm,
  hpa: (dm: string): string => dm,
  pdb: (dm: string): string => dm,
  httpRoute: (dm: string): string => dm,
};

/** In-cluster URL of the all-tracks Service. */
export function serviceUrl(dm: string, namespace: string): string {
  return `http://${dm}.${namespace}.svc.cluster.local`;
}

/** In-cluster URL of one track's Service (the base URL the stable runtime mirrors to, MIRROR_URL). */
export function trackServiceUrl(dm: string, track: Track, namespace: string): string {
  return `http://${childNames.trackService(dm, track)}.${namespace}.svc.cluster.local`;
}
