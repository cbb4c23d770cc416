import fs from 'node:fs';
import { load } from 'js-yaml';
import { z } from 'zod';
import { API_VERSION, GROUP, KIND, PLURAL, VERSION } from '../../../../operator/api/constants.js';
import { DigitModelSpecSchema, DigitModelStatusSchema } from '../../../../operator/api/schema.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a walker over untyped JSON Schema
type Node = Record<string, any>;
const crd = load(fs.readFileSync('crds/digitmodels.digitserve.dev.yaml', 'utf8')) as Node;
const version = crd.spec.versions[0];
const root = version.schema.openAPIV3Schema as Node;
const SAFE = Number.MAX_SAFE_INTEGER;

/**
 * Walks the CRD schema and zod's JSON Schema of the mirror side by side and lists every difference.
 * Both are generated from operator/api/definition/; this proves the zod renderer loses no bound.
 */
function diff(c: Node, j: Node, path: string, out: string[]): void {
  if (c['x-kubernetes-int-or-string']) {
    const types = (j.anyOf ?? []).map((x: Node) => x.type).sort();
    if (types.join() !== 'integer,string') out.push(`${path}: int-or-string in the CRD, ${JSON.stringify(j)} in zod`);
    return;
  }
  if (c.type !== j.type) out.push(`${path}: type ${c.type} in the CRD, ${j.type} in zod`);
  if (!c.description && path.split('.').length > 1 && !path.endsWith('[]') && !path.endsWith('{}')) out.push(`${path}: no description`);
  for (const k of ['maxLength', 'maxItems', 'pattern']) {
    if (c[k] !== j[k]) out.push(`${path}: ${k} ${c[k]} in the CRD, ${j[k]} in zod`);
  }
  if ((c.minLength ?? 0) !== (j.minLength ?? 0)) out.push(`${path}: minLength ${c.minLength} vs ${j.minLength}`);
  if (c.type === 'string' && !c.enum && !c.format && c.maxLength === undefined) out.push(`${path}: string without maxLength`);
  if (JSON.stringify(c.enum) !== JSON.stringify(j.enum)) out.push(`${path}: enum ${c.enum} vs ${j.enum}`);
  if (c.type === 'integer' || c.type === 'number') {
    const jMin = j.exclusiveMinimum ?? j.minimum;
    const cMin = c.minimum;
    if (!(cMin === jMin || (cMin === undefined && (jMin === undefined || jMin === -SAFE)))) out.push(`${path}: minimum ${cMin} vs ${jMin}`);
    if (!!c.exclusiveMinimum !== (j.exclusiveMinimum !== undefined)) out.push(`${path}: exclusiveMinimum differs`);
    if (!(c.maximum === j.maximum || (c.maximum === undefined && (j.maximum === undefined || j.maximum === SAFE)))) out.push(`${path}: maximum ${c.maximum} vs ${j.maximum}`);
  }
  if (c.type === 'array') diff(c.items, j.items, `${path}[]`, out);
  if (c.type === 'object') {
    if (c['x-kubernetes-preserve-unknown-fields']) return;
    if (c.additionalProperties) {
      if (!j.additionalProperties || typeof j.additionalProperties !== 'object') out.push(`${path}: map in the CRD, not in zod`);
      else diff(c.additionalProperties, j.additionalProperties, `${path}{}`, out);
      return;
    }
    const ck = Object.keys(c.properties ?? {}).sort();
    const jk = Object.keys(j.properties ?? {}).sort();
    if (ck.join() !== jk.join()) out.push(`${path}: fields [${ck}] in the CRD, [${jk}] in zod`);
    const cr = [...(c.required ?? [])].sort().join();
    const jr = [...(j.required ?? [])].sort().join();
    if (cr !== jr) out.push(`${path}: required [${cr}] in the CRD, [${jr}] in zod`);
    for (const k of ck) if (j.properties?.[k]) diff(c.properties[k], j.properties[k], `${path}.${k}`, out);
  }
}

describe('the CRD and the TypeScript types', () => {
  it('names the resource as the code does', () => {
    expect(crd.metadata.name).toBe(`${PLURAL}.${GROUP}`);
    expect(crd.spec.names).toMatchObject({ kind: KIND, plural: PLURAL, shortNames: ['dm'] });
    expect(`${crd.spec.group}/${version.name}`).toBe(API_VERSION);
    expect(version.name).toBe(VERSION);
  });

  it.each([
    ['spec', DigitModelSpecSchema],
    ['status', DigitModelStatusSchema],
  ] as const)('%s: the generated zod mirror matches the generated CRD schema field by field', (section, schema) => {
    const out: string[] = [];
    diff(root.properties[section], z.toJSONSchema(schema, { io: 'input' }) as Node, section, out);
    expect(out).toEqual([]);
  });

  it('defaults nothing but spec.replicas (to 1)', () => {
    const defaults: string[] = [];
    const walk = (n: Node, p: string) => {
      if (!n || typeof n !== 'object') return;
      if ('default' in n) defaults.push(`${p}=${JSON.stringify(n.default)}`);
      for (const [k, v] of Object.entries(n.properties ?? {})) walk(v as Node, `${p}.${k}`);
      if (n.items) walk(n.items, `${p}[]`);
    };
    walk(root, '');
    expect(defaults).toEqual(['.spec.replicas=1']);
  });

  it('has status and scale subresources wired to spec.replicas, status.replicas and status.selector', () => {
    expect(version.subresources).toEqual({
      status: {},
      scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.status.selector' },
    });
  });

  it('prints Version, Canary, Weight, Replicas, Ready, Phase, Analysis and Age', () => {
    expect(version.additionalPrinterColumns.map((c: Node) => c.name)).toEqual(['Version', 'Canary', 'Weight', 'Replicas', 'Ready', 'Phase', 'Analysis', 'Age']);
    expect(version.additionalPrinterColumns.find((c: Node) => c.name === 'Ready').jsonPath).toBe('.status.readyReplicas');
  });

  it('validates the cross-field and name rules with CEL and says what is wrong', () => {
    const rules = JSON.stringify(crd);
    expect(rules).toContain('self.metadata.name.size() <= 56');
    expect(rules).toContain("endsWith('-canary')");
    expect(rules).toContain('self.canary.version != self.model.version');
    expect(rules).toContain('self.minReplicas <= self.maxReplicas');
    expect(rules).toContain('(pvc|https|http|file)://');
    expect(root.properties.spec.properties.canary.properties.weight).toMatchObject({ minimum: 0, maximum: 100 });
    expect(root.properties.spec.properties.inference.properties.samples).toMatchObject({ minimum: 1, maximum: 256 });
  });
});
