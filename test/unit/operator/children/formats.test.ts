import type { V1Deployment, V1PodSpec } from '@kubernetes/client-node';
import { CONVERTER_RESOURCES, formatOf } from '../../../../operator/children/converter.js';
import { desiredChildren, unsupportedTracks } from '../../../../operator/children/index.js';
import { parseConfig } from '../../../../operator/config.js';
import { DigitModelSpecSchema } from '../../../../operator/api/schema.js';
import { defaults, digitModel, find } from '../fixtures.js';

/** SPEC §7 "Model formats": keras/savedmodel artifacts are converted by an init container. */

const withConverter = { ...defaults, converterImage: 'example.test/converter:1' };
const keras = { name: 'mnist-cnn', version: '3', uri: 'pvc://models/mnist-cnn/3/model.keras', format: 'keras' as const };

function podSpec(children: ReturnType<typeof desiredChildren>, name = 'postcodes-stable'): V1PodSpec {
  return find<V1Deployment>(children, 'Deployment', name).spec!.template.spec!;
}

function envOf(c: { env?: { name: string; value?: string }[] } | undefined): Record<string, string | undefined> {
  return Object.fromEntries((c?.env ?? []).map((e) => [e.name, e.value]));
}

describe('model formats in the pod template', () => {
  it('reads an unset format as tfjs (no CRD default) and builds no init container for it', () => {
    expect(formatOf({})).toBe('tfjs');
    expect(formatOf({ format: 'savedmodel' })).toBe('savedmodel');
    for (const model of [digitModel().spec.model, { ...digitModel().spec.model, format: 'tfjs' as const }]) {
      const spec = podSpec(desiredChildren(digitModel({ model }), withConverter));
      expect(spec.initContainers).toBeUndefined();
      expect(envOf(spec.containers[0]).MODEL_URI).toBe('file:///mnt/models/mnist-cnn/3');
      expect(spec.volumes?.map((v) => v.name)).toEqual(['tmp', 'model']);
    }
  });

  it('converts a keras artifact on a claim in an init container into an emptyDir the runtime reads', () => {
    const spec = podSpec(desiredChildren(digitModel({ model: keras }), withConverter));
    expect(spec.volumes).toEqual([
      { name: 'tmp', emptyDir: {} },
      { name: 'model', persistentVolumeClaim: { claimName: 'models', readOnly: true } },
      { name: 'converted', emptyDir: {} },
    ]);
    const [init] = spec.initContainers!;
    expect(spec.initContainers).toHaveLength(1);
    expect(init).toMatchObject({
      name: 'convert',
      image: 'example.test/converter:1',
      args: ['--format', 'keras', '--from', '/mnt/models/mnist-cnn/3/model.keras', '--out', '/mnt/converted'],
      resources: CONVERTER_RESOURCES,
      terminationMessagePolicy: 'FallbackToLogsOnError',
    });
    expect(init.volumeMounts).toEqual([
      { name: 'tmp', mountPath: '/tmp' },
      { name: 'converted', mountPath: '/mnt/converted' },
      { name: 'model', mountPath: '/mnt/models', readOnly: true },
    ]);
    expect(envOf(init)).toEqual({ MODEL_NAME: 'mnist-cnn', MODEL_VERSION: '3', HOME: '/tmp' });
    // the runtime loads the converted model read-only and never sees the claim
    const runtime = spec.containers[0];
    expect(envOf(runtime).MODEL_URI).toBe('file:///mnt/converted');
    expect(runtime.volumeMounts).toEqual([
      { name: 'tmp', mountPath: '/tmp' },
      { name: 'converted', mountPath: '/mnt/converted', readOnly: true },
    ]);
  });

  it('runs the converter as hardened as the runtime: non-root 65532, read-only root, no capabilities', () => {
    const spec = podSpec(desiredChildren(digitModel({ model: keras }), withConverter));
    expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532 });
    const [init] = spec.initContainers!;
    expect(init.securityContext).toEqual(spec.containers[0].securityContext);
    expect(init.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
  });

  it('downloads an http(s) artifact inside the init container with the credential and checks its digest there', () => {
    const sha = 'a'.repeat(64);
    const model = {
      name: 'mnist-cnn',
      version: '7',
      uri: 'https://models.example/mnist/7/saved_model.tar.gz',
      format: 'savedmodel' as const,
      sha256: sha,
      authSecretRef: { name: 'model-server', key: 'authorization' },
    };
    const spec = podSpec(desiredChildren(digitModel({ model }), withConverter));
    const [init] = spec.initContainers!;
    expect(init.args).toEqual(['--format', 'savedmodel', '--from', 'https://models.example/mnist/7/saved_model.tar.gz', '--out', '/mnt/converted']);
    expect(envOf(init)).toMatchObject({ MODEL_VERSION: '7', ARTIFACT_SHA256: sha });
    expect(init.env?.find((e) => e.name === 'MODEL_AUTH_HEADER')?.valueFrom).toEqual({ secretKeyRef: { name: 'model-server', key: 'authorization' } });
    expect(init.volumeMounts?.map((m) => m.name)).toEqual(['tmp', 'converted']);
    // the runtime gets neither the artifact's digest nor the credential: it reads the converted dir
    const runtimeEnv = spec.containers[0].env ?? [];
    expect(runtimeEnv.map((e) => e.name)).not.toEqual(expect.arrayContaining(['MODEL_SHA256']));
    expect(runtimeEnv.map((e) => e.name)).not.toContain('MODEL_AUTH_HEADER');
    expect(envOf(spec.containers[0]).MODEL_URI).toBe('file:///mnt/converted');
    expect(spec.volumes?.map((v) => v.name)).toEqual(['tmp', 'converted']);
  });

  it('gives each track its own format: a savedmodel canary beside a tfjs stable', () => {
    const canary = { version: '4', uri: 'pvc://models/mnist-cnn/4', weight: 25, format: 'savedmodel' as const };
    const children = desiredChildren(digitModel({ canary }), withConverter);
    expect(podSpec(children).initContainers).toBeUndefined();
    expect(podSpec(children, 'postcodes-canary').initContainers?.[0].args).toEqual(['--format', 'savedmodel', '--from', '/mnt/models/mnist-cnn/4', '--out', '/mnt/converted']);
  });
});

describe('without a converter image', () => {
  it('builds no Deployment for a keras stable track, and keeps its Services and budget', () => {
    const dm = digitModel({ model: keras });
    expect(unsupportedTracks(dm, defaults)).toEqual([{ track: 'stable', version: '3', format: 'keras' }]);
    expect(desiredChildren(dm, defaults).map((c) => `${c.kind}/${c.metadata.name}`).sort()).toEqual([
      'PodDisruptionBudget/postcodes',
      'Service/postcodes',
      'Service/postcodes-stable',
    ]);
  });

  it('builds the tfjs stable track and leaves out only the savedmodel canary', () => {
    const dm = digitModel({ canary: { version: '4', uri: 'pvc://models/mnist-cnn/4', weight: 25, format: 'savedmodel' } });
    expect(unsupportedTracks(dm, defaults)).toEqual([{ track: 'canary', version: '4', format: 'savedmodel' }]);
    const names = desiredChildren(dm, defaults).map((c) => `${c.kind}/${c.metadata.name}`);
    expect(names).toContain('Deployment/postcodes-stable');
    expect(names).toContain('Service/postcodes-canary');
    expect(names).not.toContain('Deployment/postcodes-canary');
    expect(unsupportedTracks(dm, withConverter)).toEqual([]);
  });
});

describe('format fields', () => {
  it('takes the converter image from --converter-image or CONVERTER_IMAGE, and none by default', () => {
    expect(parseConfig([], {}).converterImage).toBeUndefined();
    expect(parseConfig([], { CONVERTER_IMAGE: 'c:1' }).converterImage).toBe('c:1');
    expect(parseConfig(['--converter-image', 'c:2'], { CONVERTER_IMAGE: 'c:1' }).converterImage).toBe('c:2');
  });

  it('admits only the three formats in the zod mirror of the CRD', () => {
    const spec = (format: string) => ({ model: { name: 'm', version: '1', uri: 'pvc://m/1/a.keras', format } });
    for (const f of ['tfjs', 'keras', 'savedmodel']) expect(DigitModelSpecSchema.safeParse(spec(f)).success).toBe(true);
    expect(DigitModelSpecSchema.safeParse(spec('onnx')).success).toBe(false);
  });
});
