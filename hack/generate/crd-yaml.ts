import { dump, YAML11_SCHEMA } from 'js-yaml';
import type { CrdDefinition } from '../../operator/api/definition/crd.js';

/** Renders the CRD definition as the two YAML files that carry it: crds/ and the chart's template. */

/** The definition as a plain CRD object: generator-only keys (zodName) dropped. */
export function crdObject(def: CrdDefinition): Record<string, unknown> {
  return JSON.parse(JSON.stringify(def, (k, v: unknown) => (k === 'zodName' ? undefined : v))) as Record<string, unknown>;
}

function yaml(value: unknown): string {
  // the YAML 1.1 schema quotes strings like "on" or "True" that Helm's parser would read as booleans
  return dump(value, { schema: YAML11_SCHEMA, lineWidth: 120, noRefs: true });
}

/** crds/digitmodels.digitserve.dev.yaml: `kubectl apply -f crds/` installs it. */
export function renderCrdFile(def: CrdDefinition, header: string): string {
  return `${header}\n${yaml(crdObject(def))}`;
}

/** charts/digitserve/templates/crd.yaml: the same CRD, plus the keep policy and the chart's labels. */
export function renderChartCrd(def: CrdDefinition, header: string): string {
  const { apiVersion, kind, metadata, spec } = crdObject(def) as { apiVersion: string; kind: string; metadata: { name: string; labels: Record<string, string> }; spec: unknown };
  const body = yaml({ spec });
  // Helm would read `{{` in a description or rule as a template action
  if (body.includes('{{')) throw new Error('the CRD schema contains "{{", which Helm would evaluate as a template');
  const labels = Object.entries(metadata.labels).map(([k, v]) => `    ${k}: ${v}`);
  return [
    header,
    '{{- if .Values.crds.install }}',
    `apiVersion: ${apiVersion}`,
    `kind: ${kind}`,
    'metadata:',
    `  name: ${metadata.name}`,
    '  annotations:',
    '    # upgrades update the CRD; uninstall leaves it (and every DigitModel) in place',
    '    helm.sh/resource-policy: keep',
    '  labels:',
    ...labels,
    '    helm.sh/chart: {{ include "digitserve.chart" . }}',
    '    app.kubernetes.io/instance: {{ .Release.Name }}',
    '    app.kubernetes.io/managed-by: {{ .Release.Service }}',
    '    app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}',
    `${body.trimEnd()}`,
    '{{- end }}',
    '',
  ].join('\n');
}
