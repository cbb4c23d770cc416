import type { KubeObject } from '../../../operator/api/types.js';
import { containsFields, desiredHash, needsApply, withDesiredHash } from '../../../operator/drift.js';

const desired = withDesiredHash({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 's', namespace: 'n', labels: { a: '1' } },
  spec: { ports: [{ name: 'http', port: 80 }], selector: { a: '1' } },
} as KubeObject);

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests poke at arbitrary JSON paths
function live(patch: (o: Record<string, any>) => void = () => {}): KubeObject {
  const o = JSON.parse(JSON.stringify(desired));
  o.metadata.resourceVersion = '7';
  o.metadata.uid = 'u';
  o.spec.clusterIP = '10.0.0.1'; // defaults and fields of other managers do not count
  o.spec.ports[0].protocol = 'TCP';
  patch(o);
  return o;
}

describe('drift detection', () => {
  it('needs no apply when the live object carries every desired field (steady state)', () => {
    expect(needsApply(desired, live())).toBe(false);
  });
  it('applies when the object is missing', () => {
    expect(needsApply(desired, undefined)).toBe(true);
  });
  it('applies when a field the operator sets was edited or removed by hand', () => {
    expect(needsApply(desired, live((o) => (o.spec.selector.a = '2')))).toBe(true);
    expect(needsApply(desired, live((o) => delete o.metadata.labels.a))).toBe(true);
    expect(needsApply(desired, live((o) => (o.spec.ports[0].port = 81)))).toBe(true);
  });
  it('ignores list entries other managers added, which a server-side apply keeps anyway', () => {
    expect(needsApply(desired, live((o) => o.spec.ports.push({ name: 'x', port: 1 })))).toBe(false);
  });
  it('applies when the desired object changed, even by dropping a field (the hash differs)', () => {
    const smaller = withDesiredHash({ ...desired, spec: { ports: [{ name: 'http', port: 80 }] } } as KubeObject);
    expect(needsApply(smaller, live())).toBe(true);
  });
  it('hashes independently of key order', () => {
    expect(desiredHash({ a: 1, b: { c: 2, d: 3 } })).toBe(desiredHash({ b: { d: 3, c: 2 }, a: 1 }));
    expect(desiredHash({ a: 1 })).not.toBe(desiredHash({ a: 2 }));
  });
  it('matches each wanted list element to a distinct live element', () => {
    expect(containsFields([{ a: 1 }], [{ a: 1, b: 2 }])).toBe(true);
    expect(containsFields([{ a: 1 }], [{ a: 2 }])).toBe(false);
    expect(containsFields([{ a: 1 }, { a: 1 }], [{ a: 1 }, { a: 2 }])).toBe(false);
    expect(containsFields([{ a: 1 }, { a: 2 }], [{ a: 2 }, { a: 1 }])).toBe(true);
    expect(containsFields(['x'], [])).toBe(false);
  });
});

describe('quantities in drift detection (#15 item 6)', () => {
  const deployment = withDesiredHash({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'd', namespace: 'n', labels: { 'digitserve.dev/model-version': '1.0' } },
    spec: {
      template: {
        spec: {
          containers: [
            {
              name: 'runtime',
              resources: { requests: { cpu: '0.5', memory: '1073741824' }, limits: { cpu: 2, memory: '0.5Gi' } },
              env: [{ name: 'CPU_LIMIT_MILLICORES', valueFrom: { resourceFieldRef: { containerName: 'runtime', resource: 'limits.cpu', divisor: '1m' } } }],
            },
          ],
        },
      },
    },
  } as KubeObject);

  // what the apiserver hands back: every quantity in its canonical spelling
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests poke at arbitrary JSON paths
  function stored(patch: (o: Record<string, any>) => void = () => {}): KubeObject {
    const o = JSON.parse(JSON.stringify(deployment));
    o.spec.template.spec.containers[0].resources = { requests: { cpu: '500m', memory: '1Gi' }, limits: { cpu: '2', memory: '512Mi' } };
    patch(o);
    return o;
  }

  it('sees no drift when the apiserver respelled a quantity ("0.5" is "500m", "1073741824" is "1Gi")', () => {
    expect(needsApply(deployment, stored())).toBe(false);
  });

  it('still sees a changed quantity', () => {
    expect(needsApply(deployment, stored((o) => (o.spec.template.spec.containers[0].resources.requests.cpu = '501m')))).toBe(true);
    expect(needsApply(deployment, stored((o) => (o.spec.template.spec.containers[0].resources.limits.memory = '512M')))).toBe(true);
    expect(needsApply(deployment, stored((o) => (o.spec.template.spec.containers[0].env[0].valueFrom.resourceFieldRef.divisor = '1')))).toBe(true);
  });

  it('compares only quantity fields by value: a label "1.0" is not "1"', () => {
    expect(needsApply(deployment, stored((o) => (o.metadata.labels['digitserve.dev/model-version'] = '1')))).toBe(true);
    expect(containsFields({ x: '0.5' }, { x: '500m' })).toBe(false);
    expect(containsFields({ requests: { cpu: '0.5' } }, { requests: { cpu: '500m' } })).toBe(true);
  });
});
