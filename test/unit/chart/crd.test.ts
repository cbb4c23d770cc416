import fs from 'node:fs';
import { load } from 'js-yaml';
import { only, render, type Manifest } from './support.js';

const source = load(fs.readFileSync('crds/digitmodels.digitserve.dev.yaml', 'utf8')) as Manifest;
const HELM_LABELS = ['helm.sh/chart', 'app.kubernetes.io/instance', 'app.kubernetes.io/managed-by', 'app.kubernetes.io/version'];

/** The rendered CRD without what the chart adds on purpose: the keep policy and Helm's labels. */
function withoutChartAdditions(crd: Manifest): Manifest {
  const copy = structuredClone(crd);
  const annotations = { ...copy.metadata.annotations };
  delete annotations['helm.sh/resource-policy'];
  const labels = { ...copy.metadata.labels };
  for (const l of HELM_LABELS) if (!(l in (source.metadata.labels ?? {}))) delete labels[l];
  copy.metadata = { ...copy.metadata, labels };
  if (Object.keys(annotations).length > 0) copy.metadata.annotations = annotations;
  else delete copy.metadata.annotations;
  return copy;
}

describe('the chart CRD', () => {
  const crd = only(render(), 'CustomResourceDefinition');

  test('is crds/digitmodels.digitserve.dev.yaml, apart from the keep policy and Helm labels', () => {
    expect(withoutChartAdditions(crd)).toEqual(source);
  });

  test('carries helm.sh/resource-policy: keep so uninstall never deletes DigitModels', () => {
    expect(crd.metadata.annotations).toEqual({ 'helm.sh/resource-policy': 'keep' });
  });

  test('the comparison notices a changed schema', () => {
    const changed = structuredClone(crd);
    changed.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties.replicas.default = 2;
    expect(withoutChartAdditions(changed)).not.toEqual(source);
  });

  test('is left out with crds.install=false', () => {
    expect(render({ set: { 'crds.install': 'false' } }).filter((x) => x.kind === 'CustomResourceDefinition')).toEqual([]);
  });
});
