import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { exec } from '../../hack/cluster/exec.js';
import { staticGoImage } from '../../hack/cluster/node-images.js';
import { importIntoRealNode, realNodeInfo, runInNodeNetns, type RealNodeInfo } from '../../hack/cluster/real-node.js';
import { readState } from '../../hack/cluster/state.js';
import { createNamespace, deleteNamespace, kubeConfig, waitFor } from '../integration/cluster/support.js';

/**
 * The real node of `cluster:up --real-node` (started by this project's global setup) runs a pod
 * from an image imported into its containerd: the pod becomes Ready, the API server's service
 * proxy reaches it, its ClusterIP answers from the node's network namespace and from the pod
 * itself, `kubectl logs` works, and from inside the pod the `kubernetes` Service reaches the API
 * server (what the operator installed by the chart needs).
 */

const kc = kubeConfig();
const core = kc.makeApiClient(CoreV1Api);
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
let ns: string;
let node: RealNodeInfo;
let image: string;

// first use builds the echo image with Go (cached afterwards), on a machine maybe 3x slower
const SLOW = 300_000;

beforeAll(async () => {
  node = realNodeInfo();
  const echo = await staticGoImage(path.join(repo, 'test/fixtures/real-node/echo'), 'digitserve.local/echo', ['8080/tcp']);
  await importIntoRealNode([echo]);
  image = echo.ref;
  ns = await createNamespace(kc, 'real-node');
}, SLOW);
afterAll(async () => {
  if (ns) await deleteNamespace(kc, ns);
});

/** `node -e fetchScript URL` prints the body of a GET (this Node binary, inside the node's netns). */
const fetchScript = 'fetch(process.argv[1], { signal: AbortSignal.timeout(10000) }).then(async (r) => { if (!r.ok) throw new Error(String(r.status)); process.stdout.write(await r.text()); })';

const isReady = (p: V1Pod) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

/** An address of 10.202.<k>.0/24 is inside the node's pod CIDR. */
const inCidr = (ip: string, cidr: string) => ip.startsWith(cidr.replace(/0\/24$/, ''));

test('the real node is registered beside the kwok nodes, labelled, with a non-loopback InternalIP', async () => {
  const nodes = (await core.listNode()).items;
  const real = nodes.find((n) => n.metadata?.name === node.name);
  expect(real?.metadata?.labels).toMatchObject({ [node.label]: 'true', 'kubernetes.io/hostname': node.name });
  expect(real?.status?.addresses).toContainEqual({ type: 'InternalIP', address: node.nodeIp });
  expect(node.nodeIp).not.toMatch(/^127\./);
  expect(nodes.filter((n) => n.metadata?.labels?.type === 'kwok')).toHaveLength(2);
  // the `kubernetes` Service points at an address pods can reach
  const endpoints = await core.readNamespacedEndpoints({ namespace: 'default', name: 'kubernetes' });
  expect(endpoints.subsets?.[0]?.addresses?.map((a) => a.ip)).toEqual([node.apiserverIp]);
});

test('a pod from an imported image runs there, becomes Ready and is reached through the service proxy, its ClusterIP and kubectl logs', async () => {
  const labels = { app: 'echo' };
  await core.createNamespacedPod({
    namespace: ns,
    body: {
      metadata: { name: 'echo', labels },
      spec: {
        nodeSelector: { 'kubernetes.io/hostname': node.name },
        automountServiceAccountToken: true,
        securityContext: { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532 },
        containers: [{
          name: 'echo',
          image,
          imagePullPolicy: 'Never', // only what was imported: there is no registry
          ports: [{ name: 'http', containerPort: 8080 }],
          env: [{ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
          readinessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 1 },
          securityContext: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
          resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { cpu: '200m', memory: '64Mi' } },
        }],
      },
    },
  });
  await core.createNamespacedService({
    namespace: ns,
    body: { metadata: { name: 'echo' }, spec: { selector: labels, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } },
  });

  const pod = await waitFor('the echo pod Ready on the real node', async () => {
    const p = await core.readNamespacedPod({ namespace: ns, name: 'echo' });
    return isReady(p) ? p : undefined;
  }, SLOW);
  expect(pod.spec?.nodeName).toBe(node.name);
  expect(inCidr(pod.status?.podIP ?? '', node.podCidr)).toBe(true);

  // the API server's service proxy, from the machine's own netns (no port-forward)
  const viaProxy = await waitFor('an answer through the service proxy', () =>
    core.connectGetNamespacedServiceProxyWithPath({ namespace: ns, name: 'echo:http', path: 'through-proxy' }), SLOW);
  expect(String(viaProxy)).toBe('echo from echo /through-proxy\n');

  // the ClusterIP, from the node's network namespace (kube-proxy's rules)
  const service = await core.readNamespacedService({ namespace: ns, name: 'echo' });
  const clusterIp = service.spec?.clusterIP ?? '';
  expect(clusterIp).toMatch(/^10\.0\./);
  const viaClusterIp = await waitFor('an answer on the ClusterIP', async () =>
    (await runInNodeNetns([process.execPath, '-e', fetchScript, `http://${clusterIp}/through-cluster-ip`])).stdout, SLOW);
  expect(viaClusterIp).toBe('echo from echo /through-cluster-ip\n');

  // from the pod to its own Service's ClusterIP and back to itself (hairpin through kube-proxy's rules)
  const hairpin = await waitFor('the pod reaching its own ClusterIP', async () => String(await core.connectGetNamespacedPodProxyWithPath({
    namespace: ns, name: 'echo:8080', path: `fetch/${clusterIp}/hairpin`,
  })), SLOW);
  expect(hairpin).toBe('echo from echo /hairpin\n');

  // in the pod, the ServiceAccount token and the `kubernetes` Service reach the API server
  const fromPod = await core.connectGetNamespacedPodProxyWithPath({ namespace: ns, name: 'echo:8080', path: 'apiserver' });
  expect(String(fromPod)).toMatch(/^apiserver 10\.0\.0\.1:443: 403\n$/); // authenticated as the SA, which has no RBAC to list pods

  // kubectl logs: apiserver -> kubelet (client certificate, InternalIP) -> the container's log file
  const kubectl = readState()?.binaries.kubectl ?? 'kubectl';
  const logs = (await exec(kubectl, ['--kubeconfig', process.env.KUBECONFIG ?? '', 'logs', '-n', ns, 'echo'])).stdout;
  expect(logs).toContain('echo: GET /through-proxy');
  expect(logs).toContain('echo: GET /through-cluster-ip');
}, 2 * SLOW);
