import { jest } from '@jest/globals';
import type { DigitModel } from '../../../operator/api/types.js';
import type { KubeClient } from '../../../operator/kube/client.js';
import type { Manager } from '../../../operator/manager.js';
import {
  condition,
  createDm,
  createNamespace,
  deleteNamespace,
  dmSpec,
  findChild,
  getDm,
  installCrd,
  refusal,
  startTestOperator,
  testClient,
  testConfig,
  waitFor,
  waitReady,
} from './support/harness.js';

/**
 * SPEC §7 "Model formats" against the real kube-apiserver: the CRD admits spec.model.format and
 * spec.canary.format and refuses what cannot work; an operator without a converter image marks a
 * keras DigitModel Degraded FormatNotSupported (Event, no Deployment for that track, a tfjs stable
 * track keeps serving); an operator with one creates Deployments whose pods convert the artifact
 * in an init container. Two operators run side by side, each watching its own namespace.
 */

jest.setTimeout(240_000);

const CONVERTER = 'ghcr.io/digitserve/converter:test';
const KERAS = { name: 'mnist-cnn', version: '1', uri: 'https://models.example/mnist-cnn/1/model.keras', format: 'keras' as const };

interface PodSpecView {
  initContainers?: { name: string; image: string; args: string[]; env?: { name: string; value?: string }[]; securityContext: Record<string, unknown> }[];
  containers: { name: string; env: { name: string; value?: string }[]; volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[] }[];
  volumes: { name: string; emptyDir?: object }[];
}
type DeploymentView = { spec: { template: { spec: PodSpecView } } };

let client: KubeClient;
let without: string;
let withConv: string;
let operators: Manager[] = [];

beforeAll(async () => {
  client = testClient();
  await installCrd(client);
  without = await createNamespace(client, 'dm-formats-none');
  withConv = await createNamespace(client, 'dm-formats-conv');
  operators = [await startTestOperator(testConfig([without])), await startTestOperator(testConfig([withConv], { converterImage: CONVERTER }))];
});

afterAll(async () => {
  for (const o of operators) await o.stop();
  await deleteNamespace(client, without);
  await deleteNamespace(client, withConv);
  client?.close();
});

async function degraded(ns: string, name: string): Promise<DigitModel> {
  return waitFor(`${ns}/${name} Degraded=True`, async () => {
    const dm = await getDm(client, ns, name);
    return dm.status?.observedGeneration === dm.metadata.generation && condition(dm, 'Degraded')?.status === 'True' ? dm : undefined;
  });
}

async function warning(ns: string, name: string, reason: string): Promise<{ note?: string; type: string }> {
  return waitFor(`a ${reason} event on ${name}`, async () => {
    const list = await client.list<{ reason: string; type: string; note?: string; regarding: { name: string } }>('Event', ns);
    return list.items.find((e) => e.regarding?.name === name && e.reason === reason);
  });
}

describe('the CRD', () => {
  it('admits the three formats and refuses others, a keras uri that names no .keras/.h5 file, and a digest of a SavedModel directory', async () => {
    for (const format of ['tfjs', 'keras', 'savedmodel'] as const) {
      const uri = format === 'keras' ? 'pvc://models/m/1/model.h5' : 'pvc://models/m/1';
      await createDm(client, without, `ok-${format}`, dmSpec({ replicas: 0, model: { name: 'm', version: '1', uri, format } }));
    }
    const onnx = await refusal(() => createDm(client, without, 'bad-format', dmSpec({ model: { name: 'm', version: '1', uri: 'pvc://models/m/1', format: 'onnx' as never } })));
    expect(onnx.message).toMatch(/spec\.model\.format: Unsupported value: "onnx"/);
    const notAFile = await refusal(() => createDm(client, without, 'bad-keras', dmSpec({ model: { name: 'm', version: '1', uri: 'pvc://models/m/1', format: 'keras' } })));
    expect(notAFile.message).toContain('spec.model.format keras needs a uri naming a .keras or .h5 file');
    const dirDigest = await refusal(() =>
      createDm(client, without, 'bad-digest', dmSpec({ model: { name: 'm', version: '1', uri: 'pvc://models/m/1', format: 'savedmodel', sha256: 'a'.repeat(64) } })),
    );
    expect(dirDigest.message).toContain('needs a uri naming a .tar.gz, .tgz or .zip archive');
  });
});

describe('an operator without a converter image', () => {
  it('marks a keras DigitModel Degraded FormatNotSupported with an Event, and creates no Deployment for it', async () => {
    await createDm(client, without, 'keras', dmSpec({ model: KERAS }));
    const dm = await degraded(without, 'keras');
    expect(condition(dm, 'Degraded')).toMatchObject({ reason: 'FormatNotSupported' });
    expect(condition(dm, 'Degraded')?.message).toMatch(/^spec\.model\.format is keras \(version 1\), which must be converted .* no converter image .*: no track is deployed/);
    expect(condition(dm, 'Progressing')).toMatchObject({ status: 'False', reason: 'FormatNotSupported' });
    expect(condition(dm, 'Ready')?.status).toBe('False');
    expect(await warning(without, 'keras', 'FormatNotSupported')).toMatchObject({ type: 'Warning', note: condition(dm, 'Degraded')?.message });
    expect(await findChild(client, 'Deployment', without, 'keras-stable')).toBeUndefined();
    expect(await findChild(client, 'Service', without, 'keras')).toBeDefined();
  });

  it('keeps a tfjs stable track serving when only the savedmodel canary cannot be converted', async () => {
    await createDm(client, without, 'mixed', dmSpec({ replicas: 2, canary: { version: '2', uri: 'https://models.example/mnist-cnn/2/', weight: 50, format: 'savedmodel' } }));
    const dm = await waitFor('the stable pod ready beside FormatNotSupported', async () => {
      const d = await getDm(client, without, 'mixed');
      return condition(d, 'Degraded')?.reason === 'FormatNotSupported' && d.status?.stable?.readyReplicas === 1 ? d : undefined;
    }, 90_000);
    expect(condition(dm, 'Degraded')?.message).toMatch(/spec\.canary\.format is savedmodel \(version 2\).*the canary track is not deployed; the stable track keeps serving/);
    expect(await findChild(client, 'Deployment', without, 'mixed-stable')).toBeDefined();
    expect(await findChild(client, 'Deployment', without, 'mixed-canary')).toBeUndefined();
  });
});

describe('an operator with a converter image', () => {
  it('creates the Deployment with the converter init container, and the DigitModel becomes Ready', async () => {
    await createDm(client, withConv, 'keras', dmSpec({ model: KERAS }));
    const dep = await waitFor('the stable Deployment', () => findChild<DeploymentView>(client, 'Deployment', withConv, 'keras-stable'));
    const pod = dep.spec.template.spec;
    expect(pod.initContainers?.map((c) => [c.name, c.image])).toEqual([['convert', CONVERTER]]);
    const init = pod.initContainers![0];
    expect(init.args).toEqual(['--format', 'keras', '--from', KERAS.uri, '--out', '/mnt/converted']);
    expect(init.securityContext).toMatchObject({ readOnlyRootFilesystem: true, runAsNonRoot: true, allowPrivilegeEscalation: false });
    expect(pod.volumes.find((v) => v.name === 'converted')).toEqual({ name: 'converted', emptyDir: {} });
    const runtime = pod.containers.find((c) => c.name === 'runtime')!;
    expect(runtime.env.find((e) => e.name === 'MODEL_URI')?.value).toBe('file:///mnt/converted');
    expect(runtime.volumeMounts).toContainEqual({ name: 'converted', mountPath: '/mnt/converted', readOnly: true });
    const ready = await waitReady(client, withConv, 'keras');
    expect(condition(ready, 'Degraded')).toMatchObject({ status: 'False', reason: 'AsExpected' });
  });
});
