import type { KubeObject } from '../../../../operator/api/types.js';

export type Pod = KubeObject & { status: { containerStatuses?: { name: string; image: string; imageID: string }[]; startTime?: string } };

/** What a kubelet reports for a runtime that exited 1 with `message` and now waits to be restarted. */
export function crashLoopStatus(p: Pod, message: string, at: string): unknown {
  const c = p.status.containerStatuses?.find((s) => s.name === 'runtime');
  return {
    status: {
      conditions: [
        { type: 'Initialized', status: 'True', lastTransitionTime: at },
        { type: 'Ready', status: 'False', reason: 'ContainersNotReady', lastTransitionTime: at },
        { type: 'ContainersReady', status: 'False', reason: 'ContainersNotReady', lastTransitionTime: at },
        { type: 'PodScheduled', status: 'True', lastTransitionTime: at },
      ],
      containerStatuses: [
        {
          name: 'runtime',
          image: c?.image ?? 'ghcr.io/digitserve/runtime:test',
          imageID: c?.imageID ?? '',
          ready: false,
          started: false,
          restartCount: 3,
          state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s restarting failed container=runtime' } },
          lastState: { terminated: { exitCode: 1, reason: 'Error', message, startedAt: at, finishedAt: at } },
        },
      ],
    },
  };
}
