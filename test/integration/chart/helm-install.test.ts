import { CHART } from '../../unit/chart/support.js';
import { CRD_NAME, createNamespace, deleteNamespace, exists, getJson, helmCluster, helmClusterOk, kubectl, kubectlOk, suffix } from './support.js';

/**
 * `helm install` into the local control plane: the operator Deployment becomes Available (kwok
 * runs its pods), and `helm uninstall` removes everything but the CRD.
 *
 * The CRD is shared with every other integration test. Where it already exists (installed from
 * crds/), the test adopts it into the release the way Helm documents (ownership label and
 * annotations) and afterwards puts its metadata back; it deletes the CRD only if it created it
 * and no DigitModel exists anywhere by then.
 */

interface Meta {
  metadata: { labels?: Record<string, string>; annotations?: Record<string, string> };
}

const release = `ds-${suffix()}`;
let ns: string;
let crdExisted = false;
let before: Meta['metadata'] = {};

beforeAll(() => {
  ns = createNamespace('chart-install');
  crdExisted = exists('crd', CRD_NAME);
  if (crdExisted) {
    before = getJson<Meta>('crd', CRD_NAME).metadata;
    kubectlOk(['label', 'crd', CRD_NAME, '--overwrite', 'app.kubernetes.io/managed-by=Helm']);
    kubectlOk(['annotate', 'crd', CRD_NAME, '--overwrite', `meta.helm.sh/release-name=${release}`, `meta.helm.sh/release-namespace=${ns}`]);
  }
});

afterAll(() => {
  helmCluster(['uninstall', release, '--namespace', ns, '--wait', '--timeout', '60s']);
  if (exists('crd', CRD_NAME)) {
    if (crdExisted) restoreCrdMetadata();
    else if (kubectlOk(['get', 'digitmodels', '--all-namespaces', '-o', 'name']).trim() === '') kubectl(['delete', 'crd', CRD_NAME, '--ignore-not-found']);
  }
  if (ns) deleteNamespace(ns);
});

/** Removes the labels and annotations Helm (and the adoption) added, leaving those the CRD had. */
function restoreCrdMetadata(): void {
  const now = getJson<Meta>('crd', CRD_NAME).metadata;
  const labels = Object.keys(now.labels ?? {}).filter((k) => !(k in (before.labels ?? {})));
  const annotations = Object.keys(now.annotations ?? {}).filter((k) => !(k in (before.annotations ?? {})));
  if (labels.length) kubectlOk(['label', 'crd', CRD_NAME, ...labels.map((k) => `${k}-`)]);
  if (annotations.length) kubectlOk(['annotate', 'crd', CRD_NAME, ...annotations.map((k) => `${k}-`)]);
  for (const [k, v] of Object.entries(before.labels ?? {})) kubectlOk(['label', 'crd', CRD_NAME, '--overwrite', `${k}=${v}`]);
}

interface Deployment {
  spec: { replicas: number };
  status?: { readyReplicas?: number; availableReplicas?: number; conditions?: { type: string; status: string }[] };
}

const fullname = () => `${release}-digitserve`;

// the namespace enforces the restricted Pod Security Standard, so the pods are admitted only if they comply
test('helm install succeeds and the operator Deployment becomes Available with both replicas', () => {
  const out = helmClusterOk(['install', release, CHART, '--namespace', ns, '--wait', '--timeout', '120s']);
  expect(out).toContain('STATUS: deployed');
  expect(out).toContain(`kubectl -n ${ns} rollout status deployment/${fullname()}`); // NOTES.txt
  const d = getJson<Deployment>('deployment', fullname(), ns);
  expect(d.spec.replicas).toBe(2);
  expect(d.status?.availableReplicas).toBe(2);
  expect(d.status?.conditions).toContainEqual(expect.objectContaining({ type: 'Available', status: 'True' }));
});

test('the release owns its RBAC, PDB, Service and the CRD, which carries the keep policy', () => {
  for (const [kind, name, namespace] of [
    ['serviceaccount', fullname(), ns],
    ['clusterrole', fullname(), undefined],
    ['clusterrolebinding', fullname(), undefined],
    ['role', `${fullname()}-leader-election`, ns],
    ['rolebinding', `${fullname()}-leader-election`, ns],
    ['poddisruptionbudget', fullname(), ns],
    ['service', `${fullname()}-metrics`, ns],
  ] as const) {
    expect(exists(kind, name, namespace)).toBe(true);
  }
  const crd = getJson<Meta & { status: { conditions: { type: string; status: string }[] } }>('crd', CRD_NAME);
  expect(crd.metadata.annotations).toMatchObject({ 'helm.sh/resource-policy': 'keep', 'meta.helm.sh/release-name': release });
  expect(crd.status.conditions).toContainEqual(expect.objectContaining({ type: 'Established', status: 'True' }));
  expect(helmClusterOk(['get', 'manifest', release, '--namespace', ns])).toContain(`name: ${CRD_NAME}`);
});

test('a bad value is refused by helm upgrade before anything changes', () => {
  const r = helmCluster(['upgrade', release, CHART, '--namespace', ns, '--reuse-values', '--set', 'operator.replicas=zero']);
  expect(r.status).not.toBe(0);
  expect(r.stderr).toContain("values don't meet the specifications of the schema");
  expect(helmClusterOk(['history', release, '--namespace', ns, '--max', '10', '-o', 'json'])).not.toContain('"revision":2');
});

test('helm upgrade applies changed values and keeps the CRD in the release', () => {
  helmClusterOk(['upgrade', release, CHART, '--namespace', ns, '--reuse-values', '--set', 'operator.replicas=3', '--wait', '--timeout', '120s']);
  const d = getJson<Deployment>('deployment', fullname(), ns);
  expect(d.spec.replicas).toBe(3);
  expect(d.status?.availableReplicas).toBe(3);
  const history = JSON.parse(helmClusterOk(['history', release, '--namespace', ns, '-o', 'json'])) as { revision: number; status: string }[];
  expect(history.map((h) => `${h.revision}:${h.status}`)).toEqual(['1:superseded', '2:deployed']);
  expect(helmClusterOk(['get', 'manifest', release, '--namespace', ns])).toContain(`name: ${CRD_NAME}`);
});

test('helm uninstall removes the operator and its RBAC but keeps the CRD', () => {
  // the keep policy is read from the release's manifest; without it uninstall would delete the shared CRD
  expect(helmClusterOk(['get', 'manifest', release, '--namespace', ns])).toContain('helm.sh/resource-policy: keep');
  const out = helmClusterOk(['uninstall', release, '--namespace', ns, '--wait', '--timeout', '60s']);
  expect(out).toMatch(/These resources were kept due to the resource policy:\s*\n\[CustomResourceDefinition\] digitmodels\.digitserve\.dev/);
  expect(exists('crd', CRD_NAME)).toBe(true);
  expect(exists('deployment', fullname(), ns)).toBe(false);
  expect(exists('clusterrole', fullname())).toBe(false);
  expect(exists('clusterrolebinding', fullname())).toBe(false);
});
