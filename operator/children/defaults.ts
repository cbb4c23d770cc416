/** Operator-wide settings the builders need (from config.ts). */
export interface ChildDefaults {
  /** Runtime image when spec.image is unset. */
  image: string;
  /** Deployment progressDeadlineSeconds: after it a never-ready version marks the DigitModel Degraded. */
  progressDeadlineSeconds: number;
  /** Seconds the preStop hook sleeps so endpoints drain before SIGTERM. */
  preStopSleepSeconds: number;
  /**
   * Image of the init container that converts keras/savedmodel artifacts to TF.js (SPEC §7).
   * Unset: tracks in those formats are not deployed and the DigitModel is Degraded FormatNotSupported.
   */
  converterImage?: string;
}

export const DEFAULT_CHILD_DEFAULTS: ChildDefaults = {
  image: 'ghcr.io/digitserve/runtime:0.1.0',
  progressDeadlineSeconds: 600,
  preStopSleepSeconds: 5,
};

/** Facts observed in the cluster that some desired fields depend on. */
export interface ChildFacts {
  /** The canary Deployment has at least one ready pod (HTTPRoute sends it traffic only then). */
  canaryReady: boolean;
  /**
   * A promotion's handover is in progress (see operator/handover.ts) and the live HTTPRoute sends
   * the kept canary this weight: the route keeps it until the handover ends.
   */
  handoverRouteWeight?: number;
  /**
   * The canary weight in force when it is not spec.canary.weight: status.canary.analysisWeight
   * while canary analysis runs (SPEC §7).
   */
  canaryWeight?: number;
  /** The analysis promoted the canary (phase Promoted): with a Gateway, all traffic goes to it. */
  promoted?: boolean;
}
