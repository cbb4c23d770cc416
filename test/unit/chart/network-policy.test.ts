import { podTemplate } from '../../../operator/children/pod-template.js';
import { defaults, digitModel } from '../operator/fixtures.js';
import { render, type Manifest } from './support.js';

// #15 item 16: the chart can fence the runtime pods' metrics port to the monitoring namespace.
// Checked against the operator's own pod template: the policy must select the pods the operator
// makes and name the ports they declare, or it would fence nothing (or everything).

const template = podTemplate(digitModel(), 'stable', { version: '1', uri: 'file:///models/mnist-cnn' }, defaults);
const podLabels = template.metadata?.labels ?? {};
const portNames = (template.spec?.containers[0].ports ?? []).map((p) => p.name);
const policies = (m: Manifest[]) => m.filter((x) => x.kind === 'NetworkPolicy');

test('is off by default', () => {
  expect(policies(render())).toEqual([]);
});

describe('enabled', () => {
  const [policy, ...more] = policies(render({ set: { 'networkPolicy.enabled': 'true' } }));

  test('one policy, in the release namespace when the operator watches all namespaces', () => {
    expect(more).toEqual([]);
    expect(policy.metadata.namespace).toBe('digitserve-system');
  });

  test("selects the runtime pods the operator makes, and only by labels every track's pods carry", () => {
    const selector = policy.spec.podSelector.matchLabels as Record<string, string>;
    expect(Object.keys(selector).length).toBeGreaterThan(0);
    for (const [k, v] of Object.entries(selector)) expect(podLabels[k]).toBe(v);
    expect(Object.keys(selector)).not.toEqual(expect.arrayContaining(['digitserve.dev/track']));
  });

  test("admits the metrics port only from the monitoring namespace and the operator's pods (canary analysis), the inference ports (HTTP, gRPC) from anyone", () => {
    expect(policy.spec.policyTypes).toEqual(['Ingress']);
    expect(portNames).toEqual(expect.arrayContaining(['http', 'grpc', 'metrics']));
    const rules = policy.spec.ingress as { from?: unknown[]; ports: { port: string; protocol: string }[] }[];
    const metrics = rules.filter((r) => r.ports.some((p) => p.port === 'metrics'));
    const operatorPods = {
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'digitserve-system' } },
      podSelector: { matchLabels: render().find((x) => x.kind === 'Deployment')?.spec.selector.matchLabels },
    };
    expect(operatorPods.podSelector.matchLabels).toMatchObject({ 'app.kubernetes.io/component': 'operator' });
    expect(metrics).toEqual([{ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }, operatorPods], ports: [{ port: 'metrics', protocol: 'TCP' }] }]);
    const http = rules.filter((r) => r.ports.some((p) => p.port === 'http'));
    expect(http).toEqual([{ ports: [{ port: 'http', protocol: 'TCP' }, { port: 'grpc', protocol: 'TCP' }] }]);
    // every port the runtime container declares is covered by a rule (none is fenced off by accident)
    expect(rules.flatMap((r) => r.ports.map((p) => p.port)).sort()).toEqual([...portNames].sort());
  });
});

test('covers each watched namespace, or the namespaces listed, with a configurable scraper selector', () => {
  const watched = policies(render({ set: { 'networkPolicy.enabled': 'true', 'operator.watchNamespaces': '{mail,parcels}' } }));
  expect(watched.map((p) => p.metadata.namespace)).toEqual(['mail', 'parcels']);
  const listed = policies(
    render({
      set: {
        'networkPolicy.enabled': 'true',
        'networkPolicy.namespaces': '{shop}',
        'networkPolicy.metricsNamespaceSelector.matchLabels.team': 'observability',
        'networkPolicy.metricsPodSelector.matchLabels.app\\.kubernetes\\.io/name': 'prometheus',
      },
    }),
  );
  expect(listed.map((p) => p.metadata.namespace)).toEqual(['shop']);
  const from = listed[0].spec.ingress.find((r: { from?: unknown }) => r.from).from;
  expect(from[0]).toEqual({
    namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring', team: 'observability' } },
    podSelector: { matchLabels: { 'app.kubernetes.io/name': 'prometheus' } },
  });
  expect(from).toHaveLength(2);
});

test('the values schema refuses a misspelt key', () => {
  expect(() => render({ set: { 'networkPolicy.enable': 'true' } })).toThrow(/schema/);
});
