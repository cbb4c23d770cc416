import { jest } from '@jest/globals';
import type { DigitModelSpec } from '../../../operator/api/types.js';
import type { KubeClient } from '../../../operator/kube/client.js';
import { createDm, createNamespace, deleteNamespace, dmSpec, installCrd, mergePatch, refusal, testClient } from './support/harness.js';

jest.setTimeout(60_000);

let client: KubeClient;
let ns: string;

beforeAll(async () => {
  client = testClient();
  await installCrd(client);
  ns = await createNamespace(client, 'dm-admission');
});

afterAll(async () => {
  await deleteNamespace(client, ns);
  client?.close();
});

const canary = { version: '2', uri: 'https://models.example/mnist-cnn/2/model.json', weight: 10 };

describe('the apiserver refuses invalid DigitModels with a message that says what is wrong', () => {
  it.each<[string, Partial<DigitModelSpec>, RegExp]>([
    ['canary weight 150', { canary: { ...canary, weight: 150 } }, /spec\.canary\.weight.*less than or equal to 100/],
    ['canary version equal to stable', { canary: { ...canary, version: '1' } }, /spec\.canary\.version must differ from spec\.model\.version/],
    ['minReplicas above maxReplicas', { autoscaling: { minReplicas: 5, maxReplicas: 2, targetQueueDepth: 4 } }, /minReplicas must be less than or equal to spec\.autoscaling\.maxReplicas/],
    ['an unknown URI scheme', { model: { name: 'mnist-cnn', version: '1', uri: 's3://bucket/model' } }, /uri must start with one of the supported schemes/],
    ['samples 0', { inference: { samples: 0 } }, /spec\.inference\.samples.*greater than or equal to 1/],
    ['samples 300', { inference: { samples: 300 } }, /spec\.inference\.samples.*less than or equal to 256/],
    // the runtime refuses more (runtime/limits.ts), so the CRD does too (#15 item 3)
    ['maxBatchSize 1025', { inference: { maxBatchSize: 1025 } }, /spec\.inference\.maxBatchSize.*less than or equal to 1024/],
    ['batchTimeoutMs 10001', { inference: { batchTimeoutMs: 10001 } }, /spec\.inference\.batchTimeoutMs.*less than or equal to 10000/],
    ['scaleDownStabilizationSeconds -1', { autoscaling: { maxReplicas: 3, targetQueueDepth: 4, scaleDownStabilizationSeconds: -1 } }, /scaleDownStabilizationSeconds.*greater than or equal to 0/],
    ['scaleDownStabilizationSeconds 3601', { autoscaling: { maxReplicas: 3, targetQueueDepth: 4, scaleDownStabilizationSeconds: 3601 } }, /scaleDownStabilizationSeconds.*less than or equal to 3600/],
    ['autoscaling without a target', { autoscaling: { maxReplicas: 3 } }, /needs at least one target/],
    ['a sha256 that is not 64 hex digits', { model: { name: 'mnist-cnn', version: '1', uri: 'https://m.example/1/model.json', sha256: 'abc' } }, /spec\.model\.sha256/],
    ['an upper-case sha256', { model: { name: 'mnist-cnn', version: '1', uri: 'https://m.example/1/model.json', sha256: 'A'.repeat(64) } }, /spec\.model\.sha256.*should match/],
    ['a credential for a pvc:// model', { model: { name: 'mnist-cnn', version: '1', uri: 'pvc://models/m/1', authSecretRef: { name: 's', key: 'k' } } }, /spec\.model\.authSecretRef applies to http:\/\/ and https:\/\/ URIs only/],
    ['a canary credential for a file:// model', { canary: { ...canary, uri: 'file:///models/2', authSecretRef: { name: 's', key: 'k' } } }, /spec\.canary\.authSecretRef applies to http:\/\/ and https:\/\/ URIs only/],
    ['a credential without a key', { model: { name: 'mnist-cnn', version: '1', uri: 'https://m.example/1/model.json', authSecretRef: { name: 's' } as { name: string; key: string } } }, /spec\.model\.authSecretRef\.key: Required value/],
    ['a malformed pvc URI', { model: { name: 'mnist-cnn', version: '1', uri: 'pvc://Not_A_Claim/x' } }, /pvc:\/\/<claim>\/<path>/],
    // canary analysis (#17, SPEC §7)
    ['analysis stepWeight 0', { canary: { ...canary, analysis: { stepWeight: 0 } } }, /spec\.canary\.analysis\.stepWeight.*greater than or equal to 1/],
    ['analysis maxWeight 101', { canary: { ...canary, analysis: { maxWeight: 101 } } }, /spec\.canary\.analysis\.maxWeight.*less than or equal to 100/],
    ['analysis maxWeight below the starting weight', { canary: { ...canary, weight: 30, analysis: { maxWeight: 20 } } }, /maxWeight must be at least spec\.canary\.weight/],
    ['analysis interval without a unit', { canary: { ...canary, analysis: { interval: '30' } } }, /spec\.canary\.analysis\.interval.*should match/],
    ['analysis interval in days', { canary: { ...canary, analysis: { interval: '1d' } } }, /spec\.canary\.analysis\.interval.*should match/],
    ['analysis interval 0s', { canary: { ...canary, analysis: { interval: '0s' } } }, /interval must be a positive duration/],
    ['analysis mirrorPercent 101', { canary: { ...canary, analysis: { mirrorPercent: 101 } } }, /spec\.canary\.analysis\.mirrorPercent.*less than or equal to 100/],
    ['analysis failureLimit 0', { canary: { ...canary, analysis: { failureLimit: 0 } } }, /spec\.canary\.analysis\.failureLimit.*greater than or equal to 1/],
    ['analysis minPredictions 0', { canary: { ...canary, analysis: { minPredictions: 0 } } }, /spec\.canary\.analysis\.minPredictions.*greater than or equal to 1/],
    ['analysis promotion Sometimes', { canary: { ...canary, analysis: { promotion: 'Sometimes' as 'Auto' } } }, /spec\.canary\.analysis\.promotion.*Unsupported value/],
    ['analysis maxErrorRate 1.5', { canary: { ...canary, analysis: { checks: { maxErrorRate: 1.5 } } } }, /spec\.canary\.analysis\.checks\.maxErrorRate.*less than or equal to 1/],
    ['analysis maxDisagreement -0.1', { canary: { ...canary, analysis: { checks: { maxDisagreement: -0.1 } } } }, /spec\.canary\.analysis\.checks\.maxDisagreement.*greater than or equal to 0/],
    ['analysis maxLatencyP95Ms 0', { canary: { ...canary, analysis: { checks: { maxLatencyP95Ms: 0 } } } }, /spec\.canary\.analysis\.checks\.maxLatencyP95Ms.*greater than 0/],
  ])('refuses %s', async (_what, overrides, message) => {
    const err = await refusal(() => createDm(client, ns, 'bad', dmSpec(overrides)));
    expect(err.code).toBe('Invalid');
    expect(err.message).toMatch(message);
  });

  it('refuses names longer than 56 characters', async () => {
    const err = await refusal(() => createDm(client, ns, `m${'x'.repeat(56)}`, dmSpec()));
    expect(err.code).toBe('Invalid');
    expect(err.message).toMatch(/metadata\.name must be at most 56 characters/);
  });

  it.each(['x-canary', 'x-stable'])('refuses the name %s, which would collide with a track child', async (name) => {
    const err = await refusal(() => createDm(client, ns, name, dmSpec()));
    expect(err.message).toMatch(/must not end in -stable or -canary/);
  });

  it('refuses an invalid edit of a valid DigitModel too', async () => {
    await createDm(client, ns, 'good', dmSpec({ canary }));
    const err = await refusal(() => mergePatch(client, 'DigitModel', ns, 'good', { spec: { canary: { weight: 101 } } }));
    expect(err.code).toBe('Invalid');
  });

  it('admits a digest and a Secret-referenced credential on http(s) models of both tracks', async () => {
    const sha256 = '0123456789abcdef'.repeat(4);
    const authSecretRef = { name: 'model-server', key: 'authorization' };
    const created = await createDm(client, ns, 'private', dmSpec({
      model: { name: 'mnist-cnn', version: '1', uri: 'https://models.example/1/model.json', sha256, authSecretRef },
      canary: { ...canary, uri: 'http://models.example/2/model.json', sha256, authSecretRef },
    }));
    expect(created.spec.model).toMatchObject({ sha256, authSecretRef });
    expect(created.spec.canary).toMatchObject({ sha256, authSecretRef });
  });

  it("admits SPEC §7's canary analysis as written, and an empty one, without defaulting a field", async () => {
    const analysis = {
      interval: '1m30s', stepWeight: 10, maxWeight: 50, minPredictions: 200, mirrorPercent: 5, failureLimit: 2, promotion: 'Manual' as const,
      checks: { maxErrorRate: 0.01, maxLatencyP95Ms: 250, maxUnreliableIncrease: 0.05, maxDisagreement: 0.02 },
    };
    const full = await createDm(client, ns, 'analysed', dmSpec({ canary: { ...canary, analysis } }));
    expect(full.spec.canary?.analysis).toEqual(analysis);
    const empty = await createDm(client, ns, 'analysed-defaults', dmSpec({ canary: { ...canary, weight: 80, analysis: {} } }));
    expect(empty.spec.canary?.analysis).toEqual({});
  });

  it('admits the analysis status the operator writes', async () => {
    await createDm(client, ns, 'analysed-status', dmSpec({ canary: { ...canary, analysis: { interval: '30s' } } }));
    const checks = [
      { name: 'errorRate', canary: 0, stable: 0.001, limit: 0.01, verdict: 'Pass' },
      { name: 'disagreement', stable: 0, limit: 0.02, verdict: 'Inconclusive', reason: '3 mirrored requests in the window, 50 needed' },
    ];
    const written = await mergePatch<{ status: { canary: unknown } }>(client, 'DigitModel', ns, 'analysed-status', {
      status: { canary: { weight: 10, phase: 'Progressing', analysisWeight: 20, step: 1, failures: 0, checks } },
    }, 'status');
    expect(written.status.canary).toEqual({ weight: 10, phase: 'Progressing', analysisWeight: 20, step: 1, failures: 0, checks });
    const err = await refusal(() => mergePatch(client, 'DigitModel', ns, 'analysed-status', { status: { canary: { phase: 'Walking' } } }, 'status'));
    expect(err.message).toMatch(/status\.canary\.phase.*Unsupported value/);
  });

  it('defaults spec.replicas to 1 and nothing else', async () => {
    const spec = dmSpec();
    delete spec.replicas;
    const created = await createDm(client, ns, 'defaults', spec);
    expect(created.spec.replicas).toBe(1);
    expect(created.spec.inference).toBeUndefined();
    expect(created.spec.autoscaling).toBeUndefined();
  });

  it('publishes the documented schema that `kubectl explain dm.spec` reads', async () => {
    const doc = await waitForSchema();
    const schemas = doc.components.schemas;
    const dm = Object.entries(schemas).find(([k]) => k === 'dev.digitserve.v1alpha1.DigitModel')?.[1] as { properties: Record<string, { description?: string; allOf?: { $ref: string }[] }> };
    expect(dm).toBeDefined();
    expect(dm.properties.spec.description).toBe('Desired state of the served model.');
    const json = JSON.stringify(doc);
    expect(json).toContain('Percent of traffic for the canary, 0-100.');
    expect(json).toContain('Monte-Carlo-dropout forward samples T per image (1-256).');
    expect(json).toContain('whose value is the full Authorization header value');
    expect(json).toContain('Automated canary analysis: when set, the operator drives the canary weight itself.');
    expect(json).toContain('Time between judgements, as a Go duration of ms, s, m and h parts (30s, 2m, 1m30s). Default 60s.');
  });
});

async function waitForSchema(): Promise<{ components: { schemas: Record<string, unknown> } }> {
  // the OpenAPI v3 document is rebuilt asynchronously after the CRD changes
  for (let i = 0; ; i++) {
    try {
      return await client.request('GET', '/openapi/v3/apis/digitserve.dev/v1alpha1');
    } catch (err) {
      if (i > 40) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}
