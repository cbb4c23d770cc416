import type { KubeObject } from '../../../operator/api/types.js';
import { failureMessage, latestPodFailure, podFailure } from '../../../operator/pod-failures.js';
import { statusEvents } from '../../../operator/status-events.js';
import { computeStatus } from '../../../operator/status.js';
import { deployment, digitModel } from './fixtures.js';

/** #15 item 12: the runtime's termination message reaches the Degraded condition. */

const REFUSAL = 'MODEL_VERSION "3" contradicts the model at file:///mnt/models/mnist-cnn/4 (its metadata.json says version "4"); refusing to serve';

function pod(name: string, containerStatus: Record<string, unknown>, extra: Partial<KubeObject['metadata']> = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'mail', labels: { 'app.kubernetes.io/instance': 'postcodes', 'digitserve.dev/track': 'stable', 'digitserve.dev/model-version': '3' }, ...extra },
    status: { containerStatuses: [{ name: 'runtime', ...containerStatus }] },
  };
}

const crashLooping = (name: string, finishedAt = '2026-01-01T00:01:00Z', message = REFUSAL) =>
  pod(name, {
    ready: false,
    state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 10s restarting failed container' } },
    lastState: { terminated: { exitCode: 1, reason: 'Error', message, finishedAt } },
  });

describe('podFailure', () => {
  it("reads a failed conversion from the converter init container's termination message (SPEC §7)", () => {
    const p = pod('postcodes-stable-k', { ready: false, state: { waiting: { reason: 'PodInitializing' } } });
    (p.status as Record<string, unknown>).initContainerStatuses = [
      {
        name: 'convert',
        ready: false,
        state: { waiting: { reason: 'CrashLoopBackOff' } },
        lastState: { terminated: { exitCode: 2, reason: 'Error', message: 'artifact sha256 mismatch', finishedAt: '2026-01-01T00:02:00Z' } },
      },
    ];
    expect(podFailure(p)).toMatchObject({ pod: 'postcodes-stable-k', detail: 'model conversion (init container convert) exited 2: artifact sha256 mismatch', at: '2026-01-01T00:02:00Z' });
    // a converter that finished cleanly is no failure; the runtime's own state decides then
    (p.status as Record<string, unknown>).initContainerStatuses = [{ name: 'convert', ready: true, state: { terminated: { exitCode: 0, reason: 'Completed' } } }];
    expect(podFailure(p)).toBeUndefined();
  });

  it("reads a crash-looping runtime's last termination message", () => {
    expect(podFailure(crashLooping('postcodes-stable-a'))).toMatchObject({ pod: 'postcodes-stable-a', track: 'stable', version: '3', detail: `exited 1: ${REFUSAL}` });
  });

  it('reads a container that terminated just now (not yet restarted)', () => {
    const p = pod('p', { ready: false, state: { terminated: { exitCode: 2, reason: 'Error', message: 'bad config', finishedAt: '2026-01-01T00:00:00Z' } } });
    expect(podFailure(p)?.detail).toBe('exited 2: bad config');
  });

  it('names a kill without a message by its reason', () => {
    const p = pod('p', { ready: false, lastState: { terminated: { exitCode: 137, reason: 'OOMKilled', finishedAt: '2026-01-01T00:00:00Z' } } });
    expect(podFailure(p)?.detail).toBe('exited 137 (OOMKilled)');
  });

  it('reports a container that cannot start, such as a missing credential Secret', () => {
    const p = pod('p', { ready: false, state: { waiting: { reason: 'CreateContainerConfigError', message: 'secret "model-server" not found' } } });
    expect(podFailure(p)?.detail).toBe('CreateContainerConfigError: secret "model-server" not found');
  });

  it('ignores ready pods, clean exits, pods still starting, and pods being deleted', () => {
    expect(podFailure(pod('p', { ready: true, lastState: { terminated: { exitCode: 1, message: 'old crash' } } }))).toBeUndefined();
    expect(podFailure(pod('p', { ready: false, lastState: { terminated: { exitCode: 0, message: 'drained' } } }))).toBeUndefined();
    expect(podFailure(pod('p', { ready: false, state: { waiting: { reason: 'ContainerCreating' } } }))).toBeUndefined();
    expect(podFailure(pod('p', { ready: false, state: { running: {} } }))).toBeUndefined();
    const deleting = crashLooping('p');
    deleting.metadata.deletionTimestamp = '2026-01-01T00:00:00Z';
    expect(podFailure(deleting)).toBeUndefined();
  });

  it('keeps the end of a long message (FallbackToLogsOnError gives a log tail)', () => {
    const f = podFailure(crashLooping('p', undefined, `${'x'.repeat(5000)}the reason`))!;
    expect(f.detail.length).toBeLessThanOrEqual('exited 1: '.length + 1024);
    expect(f.detail.endsWith('the reason')).toBe(true);
  });

  it('picks the latest failure among the pods', () => {
    const f = latestPodFailure([crashLooping('a', '2026-01-01T00:01:00Z', 'older'), crashLooping('b', '2026-01-01T00:02:00Z', 'newer'), pod('c', { ready: true })]);
    expect(f).toMatchObject({ pod: 'b', detail: 'exited 1: newer' });
    expect(failureMessage(f!)).toBe('stable pod b (version 3): exited 1: newer');
  });
});

describe('Degraded from pod failures', () => {
  const dm = digitModel({ replicas: 2, model: { name: 'mnist-cnn', version: '3', uri: 'pvc://models/mnist-cnn/4' } });
  const rolling = { stable: deployment({ version: '3', replicas: 2, ready: 0, available: 0, updated: 2 }) };

  it('is Degraded=True RuntimeFailing with the termination message while the pods crash, with a Warning event', () => {
    const s = computeStatus(dm, { deployments: rolling, podFailure: podFailure(crashLooping('postcodes-stable-a')) }, new Date());
    const degraded = s.conditions?.find((c) => c.type === 'Degraded');
    expect(degraded).toMatchObject({ status: 'True', reason: 'RuntimeFailing' });
    expect(degraded?.message).toBe(`stable pod postcodes-stable-a (version 3): exited 1: ${REFUSAL}`);
    expect(statusEvents(undefined, s)).toContainEqual({ type: 'Warning', reason: 'RuntimeFailing', message: degraded?.message });
  });

  it('adds the last failure to a passed progress deadline', () => {
    const stuck = { stable: deployment({ version: '3', replicas: 2, ready: 0, available: 0, progressing: { reason: 'ProgressDeadlineExceeded', message: 'timed out' } }) };
    const s = computeStatus(dm, { deployments: stuck, podFailure: podFailure(crashLooping('postcodes-stable-a')) }, new Date());
    const degraded = s.conditions?.find((c) => c.type === 'Degraded');
    expect(degraded).toMatchObject({ status: 'True', reason: 'ProgressDeadlineExceeded' });
    expect(degraded?.message).toContain(REFUSAL);
  });
});
