import { LABELS } from './api/constants.js';
import type { KubeObject } from './api/types.js';

/** What one track's Deployment tells about its rollout. */
export interface TrackRollout {
  /** The version in the Deployment's pod template (what it is rolling to or runs). */
  templateVersion?: string;
  /** The controller has seen the latest spec, all pods run it, no old pod is left, and all are available. */
  complete: boolean;
  /** The Deployment's progress deadline passed without the new pods becoming available. */
  deadlineExceeded: boolean;
  deadlineMessage?: string;
  desiredReplicas: number;
  replicas: number;
  readyReplicas: number;
  availableReplicas: number;
}

interface DeploymentLike {
  metadata: { generation?: number };
  spec?: { replicas?: number; template?: { metadata?: { labels?: Record<string, string> } } };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
  };
}

/** Reads a Deployment the way `kubectl rollout status` does. */
export function trackRollout(deployment: KubeObject): TrackRollout {
  const d = deployment as unknown as DeploymentLike;
  const st = d.status ?? {};
  const desired = d.spec?.replicas ?? 1;
  const observed = (st.observedGeneration ?? 0) >= (d.metadata.generation ?? 0);
  const progressing = (st.conditions ?? []).find((c) => c.type === 'Progressing');
  const deadlineExceeded = observed && progressing?.reason === 'ProgressDeadlineExceeded';
  const updated = st.updatedReplicas ?? 0;
  const replicas = st.replicas ?? 0;
  const available = st.availableReplicas ?? 0;
  return {
    templateVersion: d.spec?.template?.metadata?.labels?.[LABELS.modelVersion],
    complete: observed && updated >= desired && replicas <= updated && available >= updated,
    deadlineExceeded,
    deadlineMessage: deadlineExceeded ? progressing?.message : undefined,
    desiredReplicas: desired,
    replicas,
    readyReplicas: st.readyReplicas ?? 0,
    availableReplicas: available,
  };
}
