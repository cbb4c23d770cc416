import { LABELS } from './api/constants.js';
import type { KubeObject } from './api/types.js';
import { CONVERTER_CONTAINER } from './children/converter.js';
import { RUNTIME_CONTAINER } from './children/runtime-env.js';

/**
 * Why a DigitModel's runtime pods fail, read from their status (#15 item 12). The runtime writes a
 * refused start's reason (say, a model whose version contradicts MODEL_VERSION) to its termination
 * message and exits; the kubelet puts that message into the container's terminated state, and
 * the operator into the Degraded condition, so `kubectl get dm -o yaml` says why pods crash-loop.
 */
export interface PodFailure {
  pod: string;
  track?: string;
  version?: string;
  /** "exited 1: <termination message>", or the kubelet's reason the container cannot start. */
  detail: string;
  /** For picking the latest; RFC 3339 (empty when unknown). */
  at: string;
}

interface Terminated {
  exitCode?: number;
  reason?: string;
  message?: string;
  finishedAt?: string;
}

interface ContainerStatus {
  name: string;
  ready?: boolean;
  state?: { terminated?: Terminated; waiting?: { reason?: string; message?: string } };
  lastState?: { terminated?: Terminated };
}

type PodLike = KubeObject & { status?: { containerStatuses?: ContainerStatus[]; initContainerStatuses?: ContainerStatus[] } };

/** Waiting reasons that mean the container cannot even start, whatever the runtime would do. */
const CANNOT_START = new Set(['CreateContainerConfigError', 'CreateContainerError', 'ErrImagePull', 'ImagePullBackOff', 'InvalidImageName']);

/** Termination messages can be 4 KiB (the kubelet's cap) of log tail; the condition keeps the end of it. */
const MAX_DETAIL = 1024;

function clip(text: string): string {
  const t = text.trim();
  return t.length > MAX_DETAIL ? `…${t.slice(t.length - MAX_DETAIL + 1)}` : t;
}

function describe(t: Terminated): string {
  const head = `exited ${t.exitCode ?? '?'}${t.reason && t.reason !== 'Error' ? ` (${t.reason})` : ''}`;
  return t.message?.trim() ? `${head}: ${clip(t.message)}` : head;
}

/** One container's failure: it cannot start, or it last ended with a non-zero exit code. */
function containerFailure(c: ContainerStatus, prefix: string): { detail: string; at: string } | undefined {
  const waiting = c.state?.waiting;
  if (waiting?.reason && CANNOT_START.has(waiting.reason)) {
    return { detail: clip(`${prefix}${waiting.reason}${waiting.message ? `: ${waiting.message}` : ''}`), at: '' };
  }
  const t = [c.state?.terminated, c.lastState?.terminated].find((x) => x && x.exitCode !== undefined && x.exitCode !== 0);
  return t ? { detail: `${prefix}${describe(t)}`, at: t.finishedAt ?? '' } : undefined;
}

/**
 * The failure of one pod, if its runtime container is not ready and last ended badly or cannot
 * start — or, before it, the converter init container of a keras/savedmodel track did (SPEC §7:
 * its termination message says why the artifact could not be fetched, checked or converted).
 */
export function podFailure(pod: KubeObject): PodFailure | undefined {
  if (pod.metadata.deletionTimestamp) return undefined;
  const status = (pod as PodLike).status;
  const base = { pod: pod.metadata.name, track: pod.metadata.labels?.[LABELS.track], version: pod.metadata.labels?.[LABELS.modelVersion] };
  const init = status?.initContainerStatuses?.find((s) => s.name === CONVERTER_CONTAINER);
  if (init && !init.ready && !(init.state?.terminated?.exitCode === 0)) {
    const f = containerFailure(init, 'model conversion (init container convert) ');
    if (f) return { ...base, ...f };
  }
  const c = status?.containerStatuses?.find((s) => s.name === RUNTIME_CONTAINER);
  if (!c || c.ready) return undefined;
  const f = containerFailure(c, '');
  return f ? { ...base, ...f } : undefined;
}

/** The most recent failure among a DigitModel's pods (ties: by pod name, so the choice is stable). */
export function latestPodFailure(pods: KubeObject[]): PodFailure | undefined {
  const failures = pods.map(podFailure).filter((f): f is PodFailure => f !== undefined);
  failures.sort((a, b) => (a.at === b.at ? a.pod.localeCompare(b.pod) : b.at.localeCompare(a.at)));
  return failures[0];
}

/** One line for the Degraded condition. */
export function failureMessage(f: PodFailure): string {
  const who = [f.track, 'pod', f.pod, f.version ? `(version ${f.version})` : ''].filter(Boolean).join(' ');
  return `${who}: ${f.detail}`;
}
