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
