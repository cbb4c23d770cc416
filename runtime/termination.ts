import { writeFileSync } from 'node:fs';

/** Where Kubernetes reads a container's termination message (`terminationMessagePath`'s default). */
export const DEFAULT_TERMINATION_MESSAGE_PATH = '/dev/termination-log';
/** The kubelet keeps at most 4096 bytes of it. */
const MAX_BYTES = 4096;

/**
 * Writes why the process could not start to the termination message file
 * (TERMINATION_MESSAGE_PATH, default /dev/termination-log), so `kubectl describe pod` and the
 * operator's Degraded condition show it. Best effort: a missing or read-only path (outside a pod)
 * is no second failure. Returns the path written, or undefined.
 */
export function writeTerminationMessage(message: string, env: Record<string, string | undefined> = process.env): string | undefined {
  const file = env.TERMINATION_MESSAGE_PATH?.trim() || DEFAULT_TERMINATION_MESSAGE_PATH;
  let bytes = Buffer.from(message, 'utf8');
  if (bytes.length > MAX_BYTES) bytes = bytes.subarray(0, MAX_BYTES);
  try {
    writeFileSync(file, bytes);
    return file;
  } catch {
    return undefined;
  }
}
