import fs from 'node:fs';
import type { V1Deployment, V1EnvVarSource, V1PodDisruptionBudget, V1Service, V2HorizontalPodAutoscaler } from '@kubernetes/client-node';
import { desiredChildren } from '../../../../operator/children/index.js';
import { defaults, digitModel, find } from '../fixtures.js';

const LABELS = {
  'app.kubernetes.io/name': 'digitserve-runtime',
  'app.kubernetes.io/instance': 'postcodes',
  'app.kubernetes.io/managed-by': 'digitserve-operator',
};
const canary = { version: '4', uri: 'https://models.example/mnist-cnn/4/model.json', weight: 10 };

function envOf(d: V1Deployment): Record<string, string> {
  return Object.fromEntries((d.spec?.template.spec?.containers[0].env ?? []).filter((e) => !e.valueFrom).map((e) => [e.name, e.value ?? '']));
}

function envFrom(d: V1Deployment): Record<string, V1EnvVarSource | undefined> {
  return Object.fromEntries((d.spec?.template.spec?.containers[0].env ?? []).filter((e) => e.valueFrom).map((e) => [e.name, e.valueFrom]));
}

describe('desiredChildren', () => {
  it('names every child per SPEC §2 and makes the DigitModel their controller owner', () => {
    const dm = digitModel({ canary, autoscaling: { maxReplicas: 10, targetQueueDepth: 4 }, traffic: { parentRefs: [{ name: 'gw' }] } });
    const children = desiredChildren(dm, defaults);
    expect(children.map((c) => `${c.kind}/${c.metadata.name}`).sort()).toEqual([
      'Deployment/postcodes-canary',
      'Deployment/postcodes-stable',
      'HTTPRoute/postcodes',
      'HorizontalPodAutoscaler/postcodes',
      'PodDisruptionBudget/postcodes',
      'Service/postcodes',
      'Service/postcodes-canary',
      'Service/postcodes-stable',
    ]);
    for (const c of children) {
      expect(c.metadata.namespace).toBe('mail');
      expect(c.metadata.ownerReferences).toEqual([
        { apiVersion: 'digitserve.dev/v1alpha1', kind: 'DigitModel', name: 'postcodes', uid: 'uid-1', controller: true, blockOwnerDeletion: true },
      ]);
      expect(c.metadata.labels).toMatchObject(LABELS);
    }
  });

  it('omits the canary track, HPA and HTTPRoute when their spec sections are absent', () => {
    const kinds = desiredChildren(digitModel(), defaults).map((c) => `${c.kind}/${c.metadata.name}`).sort();
    expect(kinds).toEqual(['Deployment/postcodes-stable', 'PodDisruptionBudget/postcodes', 'Service/postcodes', 'Service/postcodes-stable']);
  });

  it('labels pods with the version but keeps every selector version-free', () => {
    const children = desiredChildren(digitModel({ canary }), defaults);
    const stable = find<V1Deployment>(children, 'Deployment', 'postcodes-stable');
    const canaryDep = find<V1Deployment>(children, 'Deployment', 'postcodes-canary');
    expect(stable.spec?.selector.matchLabels).toEqual({ 'app.kubernetes.io/name': 'digitserve-runtime', 'app.kubernetes.io/instance': 'postcodes', 'digitserve.dev/track': 'stable' });
    expect(stable.metadata?.labels).toEqual({ ...LABELS, 'digitserve.dev/track': 'stable' });
    expect(stable.spec?.template.metadata?.labels).toEqual({ ...LABELS, 'digitserve.dev/track': 'stable', 'digitserve.dev/model-version': '3' });
    expect(canaryDep.spec?.template.metadata?.labels).toMatchObject({ 'digitserve.dev/track': 'canary', 'digitserve.dev/model-version': '4' });
    expect(find<V1Service>(children, 'Service', 'postcodes').spec?.selector).toEqual({ 'app.kubernetes.io/name': 'digitserve-runtime', 'app.kubernetes.io/instance': 'postcodes' });
    expect(find<V1Service>(children, 'Service', 'postcodes-canary').spec?.selector).toEqual({ 'app.kubernetes.io/name': 'digitserve-runtime', 'app.kubernetes.io/instance': 'postcodes', 'digitserve.dev/track': 'canary' });
    expect(find<V1PodDisruptionBudget>(children, 'PodDisruptionBudget', 'postcodes').spec?.selector?.matchLabels).toEqual({ 'app.kubernetes.io/name': 'digitserve-runtime', 'app.kubernetes.io/instance': 'postcodes' });
    for (const c of children) expect(JSON.stringify((c as { spec?: { selector?: unknown } }).spec?.selector ?? {})).not.toContain('model-version');
  });

  it('splits spec.replicas between the tracks by weight', () => {
    const children = desiredChildren(digitModel({ replicas: 5, canary: { ...canary, weight: 20 } }), defaults);
    expect(find<V1Deployment>(children, 'Deployment', 'postcodes-stable').spec?.replicas).toBe(4);
    expect(find<V1Deployment>(children, 'Deployment', 'postcodes-canary').spec?.replicas).toBe(1);
  });

  it('rolls out with surge only, so old pods serve until new ones are ready, within the configured deadline', () => {
    const d = find<V1Deployment>(desiredChildren(digitModel(), { ...defaults, progressDeadlineSeconds: 42 }), 'Deployment', 'postcodes-stable');
    expect(d.spec?.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: '25%' } });
    expect(d.spec?.progressDeadlineSeconds).toBe(42);
  });

  it('mounts a pvc:// model read-only at /mnt/models and points MODEL_URI at the file path', () => {
    const d = find<V1Deployment>(desiredChildren(digitModel(), defaults), 'Deployment', 'postcodes-stable');
    const pod = d.spec!.template.spec!;
    expect(pod.volumes).toContainEqual({ name: 'model', persistentVolumeClaim: { claimName: 'models', readOnly: true } });
    expect(pod.containers[0].volumeMounts).toContainEqual({ name: 'model', mountPath: '/mnt/models', readOnly: true });
    expect(envOf(d).MODEL_URI).toBe('file:///mnt/models/mnist-cnn/3');
  });

  it('passes https model URIs through without a volume', () => {
    const d = find<V1Deployment>(desiredChildren(digitModel({ canary }), defaults), 'Deployment', 'postcodes-canary');
    expect(envOf(d).MODEL_URI).toBe(canary.uri);
    expect(d.spec?.template.spec?.volumes?.map((v) => v.name)).toEqual(['tmp']);
  });

  it('sets the runtime env, with inference knobs only when the spec sets them', () => {
    const plain = find<V1Deployment>(desiredChildren(digitModel({ canary }), defaults), 'Deployment', 'postcodes-canary');
    expect(Object.keys(envFrom(plain))).toEqual(['CPU_LIMIT_MILLICORES']);
    expect(envOf(plain)).toEqual({
      PORT: '8080',
      METRICS_PORT: '9090',
      GRPC_PORT: '8081',
      MODEL_URI: canary.uri,
      MODEL_NAME: 'postcodes',
      MODEL_VERSION: '4',
      MODEL_TRACK: 'canary',
    });
    const tuned = find<V1Deployment>(
      desiredChildren(digitModel({ inference: { samples: 30, maxBatchSize: 64, batchTimeoutMs: 5, reliabilityThreshold: 0.8 } }), defaults),
      'Deployment',
      'postcodes-stable',
    );
    expect(envOf(tuned)).toMatchObject({ MC_SAMPLES: '30', MAX_BATCH_SIZE: '64', BATCH_TIMEOUT_MS: '5', RELIABILITY_THRESHOLD: '0.8', MODEL_TRACK: 'stable' });
  });

  it('passes the container CPU limit in millicores through the downward API (#15 item 11)', () => {
    for (const dm of [digitModel(), digitModel({ resources: { limits: { cpu: '0.5' } } })]) {
      const d = find<V1Deployment>(desiredChildren(dm, defaults), 'Deployment', 'postcodes-stable');
      const container = d.spec!.template.spec!.containers[0];
      expect(envFrom(d).CPU_LIMIT_MILLICORES).toEqual({ resourceFieldRef: { containerName: container.name, resource: 'limits.cpu', divisor: '1m' } });
    }
  });

  it("passes each track's sha256 as MODEL_SHA256 and its credential as a secretKeyRef, never the Secret's value (#15 item 14)", () => {
    const stableSha = 'a'.repeat(64);
    const canarySha = 'b'.repeat(64);
    const dm = digitModel({
      model: { name: 'mnist-cnn', version: '3', uri: 'https://models.example/3/model.json', sha256: stableSha, authSecretRef: { name: 'models-auth', key: 'header' } },
      canary: { ...canary, sha256: canarySha, authSecretRef: { name: 'canary-auth', key: 'token' } },
    });
    const children = desiredChildren(dm, defaults);
    const stable = find<V1Deployment>(children, 'Deployment', 'postcodes-stable');
    const canaryDep = find<V1Deployment>(children, 'Deployment', 'postcodes-canary');
    expect(envOf(stable).MODEL_SHA256).toBe(stableSha);
    expect(envOf(canaryDep).MODEL_SHA256).toBe(canarySha);
    expect(envFrom(stable).MODEL_AUTH_HEADER).toEqual({ secretKeyRef: { name: 'models-auth', key: 'header' } });
    expect(envFrom(canaryDep).MODEL_AUTH_HEADER).toEqual({ secretKeyRef: { name: 'canary-auth', key: 'token' } });
    const plain = find<V1Deployment>(desiredChildren(digitModel(), defaults), 'Deployment', 'postcodes-stable');
    expect(envOf(plain).MODEL_SHA256).toBeUndefined();
    expect(envFrom(plain).MODEL_AUTH_HEADER).toBeUndefined();
  });

  it('runs as the runtime image\'s user, 65532 (#15 item 7)', () => {
    const user = /^USER\s+(\d+):(\d+)\s*$/m.exec(fs.readFileSync('Dockerfile.runtime', 'utf8'));
    expect(user).not.toBeNull();
    const pod = find<V1Deployment>(desiredChildren(digitModel(), defaults), 'Deployment', 'postcodes-stable').spec!.template.spec!;
    expect(pod.securityContext).toMatchObject({ runAsUser: Number(user![1]), runAsGroup: Number(user![2]), fsGroup: Number(user![2]) });
    expect(pod.securityContext?.runAsUser).toBe(65532);
  });

  it('keeps a failed start\'s reason as the termination message (from the file, else the log tail)', () => {
    const c = find<V1Deployment>(desiredChildren(digitModel(), defaults), 'Deployment', 'postcodes-stable').spec!.template.spec!.containers[0];
    expect(c).toMatchObject({ terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'FallbackToLogsOnError' });
  });

  it('hardens the runtime container to the restricted profile with a writable /tmp only', () => {
    const pod = find<V1Deployment>(desiredChildren(digitModel(), defaults), 'Deployment', 'postcodes-stable').spec!.template.spec!;
    const c = pod.containers[0];
    expect(c.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(pod.volumes).toContainEqual({ name: 'tmp', emptyDir: {} });
    expect(c.volumeMounts).toContainEqual({ name: 'tmp', mountPath: '/tmp' });
  });

  it('probes readiness, liveness and start-up, and sleeps in preStop without a shell', () => {
    const c = find<V1Deployment>(desiredChildren(digitModel(), { ...defaults, preStopSleepSeconds: 7 }), 'Deployment', 'postcodes-stable').spec!.template.spec!.containers[0];
    expect(c.readinessProbe?.httpGet).toMatchObject({ path: '/readyz', port: 'http' });
    expect(c.livenessProbe?.httpGet).toMatchObject({ path: '/healthz', port: 'http' });
    expect(c.startupProbe?.httpGet).toMatchObject({ path: '/healthz' });
    expect(c.lifecycle).toEqual({ preStop: { sleep: { seconds: 7 } } });
    expect(c.ports).toEqual([
      { name: 'http', containerPort: 8080, protocol: 'TCP' },
      { name: 'grpc', containerPort: 8081, protocol: 'TCP' },
      { name: 'metrics', containerPort: 9090, protocol: 'TCP' },
    ]);
    expect(c.image).toBe('example.test/runtime:1');
  });

  it('uses spec.image over the operator default and spec.resources as given', () => {
    const c = find<V1Deployment>(
      desiredChildren(digitModel({ image: 'mine:2', resources: { requests: { cpu: '500m', memory: '256Mi' }, limits: { memory: '512Mi' } } }), defaults),
      'Deployment',
      'postcodes-stable',
    ).spec!.template.spec!.containers[0];
    expect(c.image).toBe('mine:2');
    expect(c.resources).toEqual({ requests: { cpu: '500m', memory: '256Mi' }, limits: { memory: '512Mi' } });
  });

  it('spreads pods across nodes and annotates them for Prometheus scraping on 9090', () => {
    const t = find<V1Deployment>(desiredChildren(digitModel(), defaults), 'Deployment', 'postcodes-stable').spec!.template;
    expect(t.spec?.topologySpreadConstraints?.[0]).toMatchObject({ topologyKey: 'kubernetes.io/hostname', maxSkew: 1 });
    expect(t.metadata?.annotations).toMatchObject({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9090', 'prometheus.io/path': '/metrics' });
  });

  it('passes spec.pod through to both tracks, with the operator labels winning', () => {
    const pod = {
      nodeSelector: { disk: 'ssd' },
      tolerations: [{ key: 'gpu', operator: 'Exists' as const, effect: 'NoSchedule' as const }],
      affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [] } } },
      imagePullSecrets: [{ name: 'regcred' }],
      serviceAccountName: 'runner',
      annotations: { team: 'mail' },
      labels: { team: 'mail', 'app.kubernetes.io/instance': 'hijack' },
    };
    for (const name of ['postcodes-stable', 'postcodes-canary']) {
      const t = find<V1Deployment>(desiredChildren(digitModel({ canary, pod }), defaults), 'Deployment', name).spec!.template;
      expect(t.spec).toMatchObject({ nodeSelector: pod.nodeSelector, tolerations: pod.tolerations, affinity: pod.affinity, imagePullSecrets: pod.imagePullSecrets, serviceAccountName: 'runner' });
      expect(t.metadata?.annotations?.team).toBe('mail');
      expect(t.metadata?.labels).toMatchObject({ team: 'mail', 'app.kubernetes.io/instance': 'postcodes' });
    }
  });

  it('exposes port 80 named http to container port 8080, and 8081 named grpc (h2c), on all three Services', () => {
    const children = desiredChildren(digitModel({ canary }), defaults);
    for (const name of ['postcodes', 'postcodes-stable', 'postcodes-canary']) {
      expect(find<V1Service>(children, 'Service', name).spec?.ports).toEqual([
        { name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' },
        { name: 'grpc', port: 8081, targetPort: 8081, protocol: 'TCP', appProtocol: 'kubernetes.io/h2c' },
      ]);
    }
  });

  it('budgets one disruption at a time and always lets unhealthy pods go', () => {
    expect(find<V1PodDisruptionBudget>(desiredChildren(digitModel(), defaults), 'PodDisruptionBudget', 'postcodes').spec).toMatchObject({
      maxUnavailable: 1,
      unhealthyPodEvictionPolicy: 'AlwaysAllow',
    });
  });

  it('points the HPA at the DigitModel with quantity targets, fast scale-up and stabilised scale-down', () => {
    const hpa = find<V2HorizontalPodAutoscaler>(
      desiredChildren(digitModel({ autoscaling: { minReplicas: 2, maxReplicas: 20, targetQueueDepth: 4, targetLatencyMs: 250 } }), defaults),
      'HorizontalPodAutoscaler',
      'postcodes',
    );
    expect(hpa.apiVersion).toBe('autoscaling/v2');
    expect(hpa.spec?.scaleTargetRef).toEqual({ apiVersion: 'digitserve.dev/v1alpha1', kind: 'DigitModel', name: 'postcodes' });
    expect(hpa.spec?.minReplicas).toBe(2);
    expect(hpa.spec?.maxReplicas).toBe(20);
    expect(hpa.spec?.metrics).toEqual([
      { type: 'Pods', pods: { metric: { name: 'digitserve_queue_depth' }, target: { type: 'AverageValue', averageValue: '4' } } },
      { type: 'Pods', pods: { metric: { name: 'digitserve_request_latency_p95_seconds' }, target: { type: 'AverageValue', averageValue: '250m' } } },
    ]);
    expect(hpa.spec?.behavior?.scaleUp?.stabilizationWindowSeconds).toBe(0);
    expect(hpa.spec?.behavior?.scaleDown?.stabilizationWindowSeconds).toBe(300);
  });

  it.each([0, 60, 3600])('sets the HPA scale-down stabilization window from spec.autoscaling.scaleDownStabilizationSeconds (%i)', (seconds) => {
    const hpa = find<V2HorizontalPodAutoscaler>(
      desiredChildren(digitModel({ autoscaling: { maxReplicas: 20, targetQueueDepth: 4, scaleDownStabilizationSeconds: seconds } }), defaults),
      'HorizontalPodAutoscaler',
      'postcodes',
    );
    expect(hpa.spec?.behavior?.scaleDown?.stabilizationWindowSeconds).toBe(seconds);
    expect(hpa.spec?.behavior?.scaleUp?.stabilizationWindowSeconds).toBe(0);
  });

  it('weights the HTTPRoute 100-w / w, holding the canary at 0 until it has a ready pod', () => {
    const dm = digitModel({ canary: { ...canary, weight: 30 }, traffic: { parentRefs: [{ name: 'public-gw', namespace: 'gateways' }] } });
    type Route = { apiVersion: string; spec: { parentRefs: unknown; rules: { backendRefs: { name: string; port: number; weight: number }[] }[] } };
    const before = find<Route>(desiredChildren(dm, defaults, { canaryReady: false }), 'HTTPRoute', 'postcodes');
    expect(before.apiVersion).toBe('gateway.networking.k8s.io/v1');
    expect(before.spec.parentRefs).toEqual([{ name: 'public-gw', namespace: 'gateways' }]);
    expect(before.spec.rules[0].backendRefs).toEqual([
      { name: 'postcodes-stable', port: 80, weight: 100 },
      { name: 'postcodes-canary', port: 80, weight: 0 },
    ]);
    const after = find<Route>(desiredChildren(dm, defaults, { canaryReady: true }), 'HTTPRoute', 'postcodes');
    expect(after.spec.rules[0].backendRefs.map((b) => b.weight)).toEqual([70, 30]);
    const noCanary = find<Route>(desiredChildren(digitModel({ traffic: dm.spec.traffic }), defaults), 'HTTPRoute', 'postcodes');
    expect(noCanary.spec.rules[0].backendRefs).toEqual([{ name: 'postcodes-stable', port: 80, weight: 100 }]);
  });
});
