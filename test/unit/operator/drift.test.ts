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
