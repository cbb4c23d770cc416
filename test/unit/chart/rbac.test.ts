import { only, render, type Manifest } from './support.js';

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

/** "group/resource: verbs" per rule, sorted: the whole grant at a glance. */
function grants(role: Manifest): string[] {
  return (role.rules as Rule[]).map((r) => `${r.apiGroups.join(',') || 'core'}/${r.resources.join(',')}${r.resourceNames ? `[${r.resourceNames.join(',')}]` : ''}: ${r.verbs.join(',')}`).sort();
}

describe('RBAC', () => {
  const m = render();
  const clusterRole = only(m, 'ClusterRole');
  const role = only(m, 'Role');

  test('the ClusterRole grants exactly the calls the operator makes', () => {
    expect(grants(clusterRole)).toEqual([
      'apps/deployments: list,watch,create,patch,delete',
      'autoscaling/horizontalpodautoscalers: list,watch,create,patch,delete',
      'core/pods: list,watch',
      'core/services: list,watch,create,patch,delete',
      'digitserve.dev/digitmodels/finalizers: update',
      'digitserve.dev/digitmodels/status: patch',
      'digitserve.dev/digitmodels: list,watch',
      'discovery.k8s.io/endpointslices: list,watch',
      'events.k8s.io/events: create',
      'gateway.networking.k8s.io/httproutes: list,watch,create,patch,delete',
      'policy/poddisruptionbudgets: list,watch,create,patch,delete',
    ]);
  });

  test('the Lease is only reachable in the release namespace, get/update only by its name', () => {
    expect(role.metadata.namespace).toBe('digitserve-system');
    expect(grants(role)).toEqual(['coordination.k8s.io/leases: create', 'coordination.k8s.io/leases[ds-digitserve]: get,update']);
  });

  test('no wildcard, no Secret or RBAC access, and Pods read-only (list and watch) anywhere', () => {
    for (const r of m.filter((x) => x.kind === 'ClusterRole' || x.kind === 'Role').flatMap((x) => x.rules as Rule[])) {
      for (const v of [...r.apiGroups, ...r.resources, ...r.verbs]) expect(v).not.toContain('*');
      expect(r.resources).not.toEqual(expect.arrayContaining(['secrets']));
      if (r.resources.includes('pods')) expect(r.verbs).toEqual(['list', 'watch']);
      expect(r.resources.filter((x) => x.startsWith('pods/'))).toEqual([]);
      expect(r.apiGroups).not.toContain('rbac.authorization.k8s.io');
      expect(r.verbs).not.toEqual(expect.arrayContaining(['escalate', 'bind', 'impersonate']));
    }
  });

  test('the bindings give those roles to the operator ServiceAccount, and only to it', () => {
    const subject = [{ kind: 'ServiceAccount', name: 'ds-digitserve', namespace: 'digitserve-system' }];
    expect(only(m, 'ClusterRoleBinding')).toMatchObject({ roleRef: { kind: 'ClusterRole', name: clusterRole.metadata.name }, subjects: subject });
    expect(only(m, 'RoleBinding')).toMatchObject({ roleRef: { kind: 'Role', name: role.metadata.name }, subjects: subject });
    expect(only(m, 'Deployment').spec.template.spec.serviceAccountName).toBe('ds-digitserve');
  });

  test('rbac.create=false renders no roles or bindings', () => {
    const kinds = render({ set: { 'rbac.create': 'false' } }).map((x) => x.kind);
    for (const k of ['ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding']) expect(kinds).not.toContain(k);
  });
});
