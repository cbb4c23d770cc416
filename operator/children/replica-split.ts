/** How many pods each track gets (SPEC §2). */
export interface ReplicaSplit {
  stable: number;
  canary: number;
}

/**
 * Splits `total` pods between the tracks: all stable without a canary, at weight 0 or with fewer
 * than two pods; otherwise canary = clamp(round_half_up(total × weight / 100), 1, total − 1).
 */
export function splitReplicas(total: number, canaryWeight: number | undefined): ReplicaSplit {
  if (canaryWeight === undefined || canaryWeight <= 0 || total < 2) return { stable: total, canary: 0 };
  // Integer form of round_half_up(total * weight / 100), free of floating-point ties.
  const rounded = Math.floor((2 * total * canaryWeight + 100) / 200);
  const canary = Math.min(Math.max(rounded, 1), total - 1);
  return { stable: total - canary, canary };
}

/** The canary's share of ready pods in percent, rounded: the traffic share a plain Service gives it. */
export function replicaRatioWeight(stableReady: number, canaryReady: number): number {
  const total = stableReady + canaryReady;
  return total === 0 ? 0 : Math.round((100 * canaryReady) / total);
}
