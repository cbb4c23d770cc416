import type { V1Pod } from '@kubernetes/client-node';
import { scrapeTargets } from '../../../hack/cluster/pod-targets.js';

const pod = (name: string, ip: string | undefined, phase = 'Running', portName = 'metrics'): V1Pod => ({
  metadata: { name, namespace: 'ns' },
  spec: { containers: [{ name: 'runtime', ports: [{ name: 'http', containerPort: 8080 }, { name: portName, containerPort: 9090 }] }] },
  status: { phase, podIP: ip },
});

test('the journey Prometheus scrapes each running runtime pod on its metrics port, labelled with namespace and pod', () => {
  expect(scrapeTargets([pod('b', '10.202.0.9'), pod('a', '10.202.0.3'), pod('pending', undefined, 'Pending'), pod('done', '10.202.0.4', 'Succeeded'), pod('other', '10.202.0.5', 'Running', 'web')])).toEqual([
    { targets: ['10.202.0.3:9090'], labels: { namespace: 'ns', pod: 'a' } },
    { targets: ['10.202.0.9:9090'], labels: { namespace: 'ns', pod: 'b' } },
  ]);
});
