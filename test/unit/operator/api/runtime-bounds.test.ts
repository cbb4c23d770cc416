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

/** The environment a pod of the track sees: values as given, valueFrom as the kubelet resolves it. */
function podEnv(name: string, spec: DigitModelSpec, track: 'stable' | 'canary'): Record<string, string> {
  const m = track === 'canary' && spec.canary ? spec.canary : spec.model;
  const dm = { apiVersion: 'digitserve.dev/v1alpha1', kind: 'DigitModel', metadata: { name, namespace: 'default' }, spec };
  const vars = runtimeEnv(dm, track, { version: m.version, runtimeUri: m.uri, sha256: m.sha256, authSecretRef: m.authSecretRef });
  return Object.fromEntries(
    vars.map((e) => {
      if (e.value !== undefined) return [e.name, e.value];
      if (e.valueFrom?.resourceFieldRef?.resource === 'limits.cpu') return [e.name, '500']; // 500m in units of 1m
      if (e.valueFrom?.secretKeyRef) return [e.name, 'Bearer s3cr3t'];
      throw new Error(`no resolution for ${e.name}: ${JSON.stringify(e.valueFrom)}`);
    }),
  );
}

function env(spec: DigitModelSpec, name = 'postcodes'): Record<string, string> {
  return podEnv(name, spec, 'stable');
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

  it('the runtime accepts the longest name, version, URI and every optional setting the CRD admits, on both tracks', () => {
    const model = specNode.properties.model.properties;
    const version = `v${'1'.repeat(model.version.maxLength - 1)}`;
    const uri = `https://models.example/${'m'.repeat(model.uri.maxLength - 'https://models.example/'.length)}`;
    const sha256 = 'ab'.repeat(32);
    expect(sha256).toMatch(new RegExp(model.sha256.pattern));
    const name = `d${'x'.repeat(55)}`; // metadata.name is at most 56 characters (a CEL rule)
    const authSecretRef = { name: 'model-server', key: 'authorization' };
    const spec: DigitModelSpec = {
      ...base,
      model: { name: 'mnist-cnn', version, uri, sha256, authSecretRef },
      canary: { version: `${version.slice(0, -1)}2`, uri, weight: 100, sha256, authSecretRef },
      inference: { samples: 256, maxBatchSize: 1024, batchTimeoutMs: 10000, reliabilityThreshold: 1 },
    };
    expect(DigitModelSpecSchema.safeParse(spec).success).toBe(true);
    for (const track of ['stable', 'canary'] as const) {
      const vars = podEnv(name, spec, track);
      expect(Object.keys(vars).sort()).toEqual(
        ['BATCH_TIMEOUT_MS', 'CPU_LIMIT_MILLICORES', 'GRPC_PORT', 'MAX_BATCH_SIZE', 'MC_SAMPLES', 'METRICS_PORT', 'MODEL_AUTH_HEADER', 'MODEL_NAME', 'MODEL_SHA256', 'MODEL_TRACK', 'MODEL_URI', 'MODEL_VERSION', 'PORT', 'RELIABILITY_THRESHOLD'].sort(),
      );
      const cfg = parseConfig(vars);
      expect(cfg).toMatchObject({ modelName: name, modelVersion: track === 'stable' ? version : spec.canary!.version, modelUri: uri, modelTrack: track });
    }
  });
});
