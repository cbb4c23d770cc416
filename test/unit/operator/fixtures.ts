import type { DigitModel, DigitModelSpec, KubeObject } from '../../../operator/api/types.js';
import { DEFAULT_CHILD_DEFAULTS, type ChildDefaults } from '../../../operator/children/index.js';

export const defaults: ChildDefaults = { ...DEFAULT_CHILD_DEFAULTS, image: 'example.test/runtime:1' };

/** A DigitModel as the apiserver would hand it to the operator. */
export function digitModel(spec: Partial<DigitModelSpec> = {}, name = 'postcodes', namespace = 'mail'): DigitModel {
  return {
    apiVersion: 'digitserve.dev/v1alpha1',
    kind: 'DigitModel',
    metadata: { name, namespace, uid: 'uid-1', generation: 3, resourceVersion: '100' },
    spec: { replicas: 4, model: { name: 'mnist-cnn', version: '3', uri: 'pvc://models/mnist-cnn/3' }, ...spec },
  };
}

/** A Deployment in the shape the apiserver reports it. */
export function deployment(opts: {
  version: string;
  replicas: number;
  ready?: number;
  available?: number;
  updated?: number;
  current?: number;
  generation?: number;
  observedGeneration?: number;
  progressing?: { reason: string; message?: string };
}): KubeObject {
  const ready = opts.ready ?? opts.replicas;
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'x', generation: opts.generation ?? 2 },
    spec: { replicas: opts.replicas, template: { metadata: { labels: { 'digitserve.dev/model-version': opts.version } } } },
    status: {
      observedGeneration: opts.observedGeneration ?? opts.generation ?? 2,
      replicas: opts.current ?? opts.replicas,
      updatedReplicas: opts.updated ?? opts.replicas,
      readyReplicas: ready,
      availableReplicas: opts.available ?? ready,
      conditions: opts.progressing
        ? [{ type: 'Progressing', status: opts.progressing.reason === 'ProgressDeadlineExceeded' ? 'False' : 'True', ...opts.progressing }]
        : [],
    },
  };
}

/** Finds a child by kind and name, failing loudly. */
export function find<T = Record<string, unknown>>(objs: KubeObject[], kind: string, name: string): T {
  const o = objs.find((c) => c.kind === kind && c.metadata.name === name);
  if (!o) throw new Error(`no ${kind} ${name} among ${objs.map((c) => `${c.kind}/${c.metadata.name}`).join(', ')}`);
  return o as unknown as T;
}
