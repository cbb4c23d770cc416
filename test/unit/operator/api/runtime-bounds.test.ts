import fs from 'node:fs';
import { load } from 'js-yaml';
import { DigitModelSpecSchema } from '../../../../operator/api/schema.js';
import type { DigitModelSpec } from '../../../../operator/api/types.js';
import { runtimeEnv } from '../../../../operator/children/runtime-env.js';
import { parseConfig } from '../../../../runtime/config.js';

/**
 * Every DigitModel field that becomes a runtime environment variable is admitted by the CRD exactly
 * when the runtime's own parser accepts it, so no admitted DigitModel crash-loops its pods over a
 * setting (#15 item 3). The CRD is read from crds/ (what the apiserver enforces), the runtime side
 * is runtime/config.ts's parseConfig on the environment the operator builds.
 */

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- untyped JSON Schema
type Node = Record<string, any>;
const crd = load(fs.readFileSync('crds/digitmodels.digitserve.dev.yaml', 'utf8')) as Node;
const specNode = crd.spec.versions[0].schema.openAPIV3Schema.properties.spec as Node;
const inferenceNode = specNode.properties.inference.properties as Node;

const base: DigitModelSpec = { replicas: 1, model: { name: 'mnist-cnn', version: '3', uri: 'https://models.example/mnist-cnn/3/model.json' } };

/** The numeric bounds of a CRD schema node, applied as the apiserver applies them. */
function crdAdmits(node: Node, v: number): boolean {
  if (node.type === 'integer' && !Number.isInteger(v)) return false;
  if (node.minimum !== undefined && (node.exclusiveMinimum ? v <= node.minimum : v < node.minimum)) return false;
  if (node.maximum !== undefined && v > node.maximum) return false;
  return true;
}

function env(spec: DigitModelSpec, name = 'postcodes'): Record<string, string> {
  return Object.fromEntries(runtimeEnv(name, spec, 'stable', spec.model.version, spec.model.uri).map((e) => [e.name, e.value]));
}

function runtimeAccepts(spec: DigitModelSpec): boolean {
  try {
    parseConfig(env(spec));
    return true;
  } catch {
    return false;
  }
}

const inferenceFields = [
  ['samples', 'MC_SAMPLES'],
  ['maxBatchSize', 'MAX_BATCH_SIZE'],
  ['batchTimeoutMs', 'BATCH_TIMEOUT_MS'],
  ['reliabilityThreshold', 'RELIABILITY_THRESHOLD'],
] as const;

describe('the CRD admits exactly what the runtime accepts', () => {
  it('covers every inference field of the CRD', () => {
    expect(Object.keys(inferenceNode).sort()).toEqual(inferenceFields.map(([f]) => f).sort());
  });

  describe.each(inferenceFields)('spec.inference.%s (%s)', (field, variable) => {
    const node = inferenceNode[field] as Node;
    const step = node.type === 'integer' ? 1 : 0.001;
    const values = [node.minimum, node.maximum, node.minimum - step, node.maximum + step, (node.minimum + node.maximum) / 2];

    it('has both bounds in the CRD', () => {
      expect(typeof node.minimum).toBe('number');
      expect(typeof node.maximum).toBe('number');
    });

    it.each(values)('value %p: CRD, zod mirror and runtime agree', (v) => {
      const spec = { ...base, inference: { [field]: v } };
      const admitted = crdAdmits(node, v);
      expect(env(spec)[variable]).toBe(String(v));
      expect({ runtime: runtimeAccepts(spec), zod: DigitModelSpecSchema.safeParse(spec).success }).toEqual({ runtime: admitted, zod: admitted });
    });
  });

  it('the runtime accepts the longest name, version and URI the CRD admits, on both tracks', () => {
    const version = `v${'1'.repeat(specNode.properties.model.properties.version.maxLength - 1)}`;
    const uri = `https://models.example/${'m'.repeat(specNode.properties.model.properties.uri.maxLength - 'https://models.example/'.length)}`;
    const name = `d${'x'.repeat(55)}`; // metadata.name is at most 56 characters (a CEL rule)
    const spec: DigitModelSpec = { ...base, model: { name: 'mnist-cnn', version, uri } };
    expect(DigitModelSpecSchema.safeParse(spec).success).toBe(true);
    for (const track of ['stable', 'canary'] as const) {
      const vars = Object.fromEntries(runtimeEnv(name, spec, track, version, uri).map((e) => [e.name, e.value]));
      const cfg = parseConfig(vars);
      expect(cfg).toMatchObject({ modelName: name, modelVersion: version, modelUri: uri, modelTrack: track });
    }
  });
});
