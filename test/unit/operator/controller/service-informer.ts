import type { KubeConfig } from '@kubernetes/client-node';
import { ResilientInformer } from '../../../../operator/controller/informer.js';
import { KubeClient } from '../../../../operator/kube/client.js';
import { capturingLogger, FakeApiserver } from './fake-apiserver.js';

export const SERVICES = '/api/v1/namespaces/ns/services';
export const svc = (name: string) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'ns' } });

export interface StartOptions {
  /** Credentials to use (default: the fake's own kubeconfig). */
  kc?: KubeConfig;
  minWatchTimeoutSeconds?: number;
  onAdd?: (name: string) => void;
}

/**
 * Per-test fixture: a fresh FakeApiserver before each test and, once a test calls `start`, a
 * ResilientInformer of Services in namespace `ns` on it (backoff from 20 ms up to 2 s); the
 * informer, its client and the server are stopped after each test.
 */
export function serviceInformerPerTest() {
  const t = {
    fake: undefined as unknown as FakeApiserver,
    informer: undefined as ResilientInformer | undefined,
    client: undefined as KubeClient | undefined,
    /** Starts the informer; `failures()` are its "informer failed; restarting" log lines. */
    start(opts: StartOptions = {}) {
      const { log, lines } = capturingLogger();
      const kc = opts.kc ?? t.fake.kubeConfig();
      t.client = new KubeClient(kc);
      const timeout = opts.minWatchTimeoutSeconds === undefined ? {} : { minWatchTimeoutSeconds: opts.minWatchTimeoutSeconds };
      t.informer = new ResilientInformer(
        { kc, client: t.client, kind: 'Service', namespace: 'ns', log, backoffBaseMs: 20, backoffMaxMs: 2_000, ...timeout },
        { onAdd: (o) => opts.onAdd?.(o.metadata.name) },
      );
      t.informer.start();
      const failures = () => lines.filter((l) => l.msg === 'informer failed; restarting');
      return { informer: t.informer, lines, failures };
    },
  };
  beforeEach(async () => {
    t.fake = new FakeApiserver();
    await t.fake.listen();
  });
  afterEach(async () => {
    await t.informer?.stop();
    t.client?.close();
    await t.fake.kill().catch(() => {});
    t.informer = undefined;
    t.client = undefined;
  });
  return t;
}
