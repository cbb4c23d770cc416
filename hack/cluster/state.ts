import fs from 'node:fs';
import type { Binaries } from './build.js';
import type { Ports } from './components.js';
import type { RealNodeState } from './node-state.js';
import { stateFile } from './paths.js';
import type { ProcessRecord } from './processes.js';

/** .cluster/state.json: what `down` needs to stop exactly the processes `up` started. */
export interface ClusterState {
  kubeconfig: string;
  server: string;
  /** Absolute paths of the binaries in use (kubectl and helm for scripts and tests). */
  binaries: Binaries;
  kubernetesVersion: string;
  ports: Partial<Ports>;
  /** In start order; stopped in reverse. */
  processes: ProcessRecord[];
  startedAt: string;
  /** Only with `up --real-node`: its name, netns and how to enter it (see hack/cluster/real-node.ts). */
  realNode?: RealNodeState;
  /** Only after `cli.ts monitoring`: Prometheus and the custom metrics adapter (monitoring.ts). */
  monitoring?: { prometheusUrl: string; adapterUrl: string };
}

export function readState(): ClusterState | undefined {
  try {
    return JSON.parse(fs.readFileSync(stateFile, 'utf8')) as ClusterState;
  } catch {
    return undefined;
  }
}

export function writeState(state: ClusterState): void {
  fs.writeFileSync(stateFile, `${JSON.stringify(state, null, 2)}\n`);
}
