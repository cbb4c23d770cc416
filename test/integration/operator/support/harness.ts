import fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import { KubeConfig } from '@kubernetes/client-node';
import { load } from 'js-yaml';
import { pino } from 'pino';
import type { DigitModel, DigitModelSpec, KubeObject } from '../../../../operator/api/types.js';
import { parseConfig, type OperatorConfig } from '../../../../operator/config.js';
import { KubeClient } from '../../../../operator/kube/client.js';
import { KubeError } from '../../../../operator/kube/errors.js';
import { resourcePath } from '../../../../operator/kube/resources.js';
import { startManager, type Manager, type ManagerOptions } from '../../../../operator/manager.js';

/** Shared plumbing for the operator's tests against the real local control plane. */

export function kubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromDefault();
  return kc;
}

export function testClient(): KubeClient {
  return new KubeClient(kubeConfig());
}

/** Polls `probe` until it returns a truthy value, or fails with the last value seen. */
export async function waitFor<T>(description: string, probe: () => Promise<T> | T, timeoutMs = 60_000, intervalMs = 250): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v as NonNullable<T>;
      last = v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${description}; last: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Installs (server-side applies) the CRD from crds/ and waits until it is Established. */
export async function installCrd(client: KubeClient): Promise<void> {
  const crd = load(fs.readFileSync('crds/digitmodels.digitserve.dev.yaml', 'utf8')) as KubeObject;
  await client.apply(crd);
  await waitFor('the DigitModel CRD to be established', async () => {
    const got = await client.get<{ status?: { conditions?: { type: string; status: string }[] } }>('CustomResourceDefinition', undefined, 'digitmodels.digitserve.dev');
    return got.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
  });
  // the REST endpoint may trail the Established condition by a moment
  await waitFor('digitmodels to be served', () => client.request('GET', '/apis/digitserve.dev/v1alpha1/digitmodels?limit=1'));
}

export async function createNamespace(client: KubeClient, prefix: string): Promise<string> {
  const name = `${prefix}-${randomBytes(3).toString('hex')}`;
  await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { 'digitserve.dev/test': 'operator' } } });
  return name;
}

export async function deleteNamespace(client: KubeClient, name: string): Promise<void> {
  await client.delete('Namespace', undefined, name).catch(() => {});
}

/** Options a test operator runs with: short deadlines, no probe servers, quiet logs. */
export function testConfig(namespaces: string[], overrides: Partial<OperatorConfig> = {}): OperatorConfig {
  return {
    ...parseConfig([], {}),
    watchNamespaces: namespaces,
    leaderElection: false,
    progressDeadlineSeconds: 15,
    preStopSleepSeconds: 1,
    runtimeImage: 'ghcr.io/digitserve/runtime:test',
    ...overrides,
  };
}

export async function startTestOperator(config: OperatorConfig, extra: Partial<ManagerOptions> = {}): Promise<Manager> {
  const log = pino({ level: process.env.OPERATOR_TEST_LOG ?? 'silent' });
  return startManager({ config, log, serveProbes: false, kc: kubeConfig(), ...extra });
}

/** kwok's fake nodes may carry taints; test pods tolerate everything. */
export const TOLERATE_ALL = { tolerations: [{ operator: 'Exists' as const }] };

export function dmSpec(overrides: Partial<DigitModelSpec> = {}): DigitModelSpec {
  return {
    replicas: 1,
    model: { name: 'mnist-cnn', version: '1', uri: 'https://models.example/mnist-cnn/1/model.json' },
    pod: TOLERATE_ALL,
    ...overrides,
  };
}

export async function createDm(client: KubeClient, namespace: string, name: string, spec: DigitModelSpec): Promise<DigitModel> {
  return client.create<DigitModel>({ apiVersion: 'digitserve.dev/v1alpha1', kind: 'DigitModel', metadata: { name, namespace }, spec } as unknown as KubeObject);
}

export async function getDm(client: KubeClient, namespace: string, name: string): Promise<DigitModel> {
  return client.get<DigitModel>('DigitModel', namespace, name);
}

/** JSON merge patch (null deletes a field), as `kubectl patch --type merge` sends. */
export async function mergePatch<T = KubeObject>(client: KubeClient, kind: string, namespace: string, name: string, patch: unknown, subresource?: string): Promise<T> {
  return client.request<T>('PATCH', resourcePath(kind, namespace, name, subresource), { body: patch, contentType: 'application/merge-patch+json' });
}

export function condition(dm: DigitModel, type: string): { status: string; reason: string; message: string; lastTransitionTime: string } | undefined {
  return dm.status?.conditions?.find((c) => c.type === type);
}

/** The DigitModel once Ready=True for its current generation. */
export async function waitReady(client: KubeClient, namespace: string, name: string, timeoutMs = 90_000): Promise<DigitModel> {
  return waitFor(`${namespace}/${name} to be Ready`, async () => {
    const dm = await getDm(client, namespace, name);
    const ready = condition(dm, 'Ready');
    const progressing = condition(dm, 'Progressing');
    return dm.status?.observedGeneration === dm.metadata.generation && ready?.status === 'True' && progressing?.reason === 'RolloutComplete' ? dm : undefined;
  }, timeoutMs);
}

export async function findChild<T = KubeObject>(client: KubeClient, kind: string, namespace: string, name: string): Promise<T | undefined> {
  return client.find<T>(kind, namespace, name);
}

export function isKubeError(err: unknown, code?: string): err is KubeError {
  return err instanceof KubeError && (code === undefined || err.code === code);
}

/** Runs `fn`, expecting the apiserver to refuse it; returns the refusal. */
export async function refusal(fn: () => Promise<unknown>): Promise<KubeError> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof KubeError) return err;
    throw err;
  }
  throw new Error('the apiserver accepted a request it should have refused');
}

export type DeploymentView = {
  metadata: { name: string; resourceVersion: string; uid: string; labels?: Record<string, string> };
  spec: { replicas: number; template: { metadata: { labels: Record<string, string> } } };
  status?: { replicas?: number; readyReplicas?: number; updatedReplicas?: number; availableReplicas?: number };
};
