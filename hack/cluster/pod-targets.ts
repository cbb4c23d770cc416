import type { V1Pod } from '@kubernetes/client-node';

/**
 * Pod discovery for the journey's Prometheus: Debian's `prometheus` is built without
 * kubernetes_sd_configs, so this process lists the runtime pods every 2 s and writes them as a
 * file_sd target file (what Prometheus' own pod discovery plus the chart's runtimePodMonitor
 * would select: pods labelled app.kubernetes.io/name=digitserve-runtime, their `metrics` port,
 * labels `namespace` and `pod`). pod-targets-cli.ts runs it; monitoring.ts starts and stops that.
 */

export const RUNTIME_SELECTOR = 'app.kubernetes.io/name=digitserve-runtime';

export interface TargetGroup {
  targets: string[];
  labels: Record<string, string>;
}

/** One group per running pod with an IP and a `metrics` container port. */
export function scrapeTargets(pods: V1Pod[]): TargetGroup[] {
  const groups: TargetGroup[] = [];
  for (const p of pods) {
    if (p.status?.phase !== 'Running' || !p.status.podIP) continue;
    const port = p.spec?.containers.flatMap((c) => c.ports ?? []).find((x) => x.name === 'metrics')?.containerPort;
    if (!port) continue;
    groups.push({ targets: [`${p.status.podIP}:${port}`], labels: { namespace: p.metadata?.namespace ?? '', pod: p.metadata?.name ?? '' } });
  }
  return groups.sort((a, b) => a.targets[0].localeCompare(b.targets[0]));
}
