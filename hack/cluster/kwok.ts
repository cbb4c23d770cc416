import fs from 'node:fs';
import path from 'node:path';
import { downloadedModuleDir } from './modules.js';

/** kwok: fake nodes whose pods become Running and Ready, driven by kwok's own upstream stages. */

/** Nodes kwok manages carry this annotation; nothing else in the cluster is touched by it. */
const manageAnnotation = 'kwok.x-k8s.io/node';

export const fakeNodeNames = ['kwok-node-0', 'kwok-node-1'] as const;

/** Stage files shipped in the kwok module (kustomize/stage): node init + lease heartbeats, fast pod lifecycle. */
const stageFiles = [
  'node/fast/node-initialize.yaml',
  'node/heartbeat-with-lease/node-heartbeat-with-lease.yaml',
  'pod/fast/pod-ready.yaml', // Running + Ready, readiness gates set True
  'pod/fast/pod-complete.yaml',
  'pod/fast/pod-delete.yaml',
];

/** Writes kwok's configuration (the stages, concatenated from the module cache) to `file`. */
export async function writeKwokConfig(file: string): Promise<void> {
  const stageDir = path.join(await downloadedModuleDir('kwok', 'sigs.k8s.io/kwok'), 'kustomize', 'stage');
  const docs = stageFiles.map((f) => fs.readFileSync(path.join(stageDir, f), 'utf8').trim());
  fs.writeFileSync(file, `${docs.join('\n---\n')}\n`);
}

export function kwokArgs(o: { kubeconfig: string; config: string; port: number }): string[] {
  return [
    `--kubeconfig=${o.kubeconfig}`,
    `--config=${o.config}`,
    '--manage-all-nodes=false',
    `--manage-nodes-with-annotation-selector=${manageAnnotation}=fake`,
    '--manage-nodes-with-label-selector=',
    '--node-lease-duration-seconds=40',
    '--cidr=10.244.0.0/16',
    '--node-ip=10.240.0.1',
    `--server-address=127.0.0.1:${o.port}`,
  ];
}

/** The fake Node objects (JSON, one per node) for `kubectl apply`. */
export function fakeNodes(kubeletVersion: string): object[] {
  const resources = { cpu: '32', memory: '256Gi', pods: '110', 'ephemeral-storage': '1Ti' };
  return fakeNodeNames.map((name) => ({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      annotations: { [manageAnnotation]: 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
      labels: {
        type: 'kwok',
        'kubernetes.io/arch': 'amd64',
        'kubernetes.io/os': 'linux',
        'kubernetes.io/hostname': name,
        'kubernetes.io/role': 'agent',
        'node-role.kubernetes.io/agent': '',
      },
    },
    status: {
      allocatable: resources,
      capacity: resources,
      nodeInfo: { architecture: 'amd64', operatingSystem: 'linux', kubeletVersion, osImage: 'kwok', kernelVersion: 'kwok', containerRuntimeVersion: 'kwok', machineID: '', systemUUID: '', bootID: '' },
      phase: 'Running',
    },
  }));
}
