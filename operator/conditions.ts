import type { Condition } from './api/types.js';

export type ConditionInput = Pick<Condition, 'type' | 'status' | 'reason' | 'message'>;

/**
 * metav1.Condition semantics: lastTransitionTime moves only when the status flips; reason,
 * message and observedGeneration follow the latest evaluation.
 */
export function mergeCondition(
  previous: Condition[] | undefined,
  next: ConditionInput,
  generation: number,
  now: string,
): Condition {
  const prev = previous?.find((c) => c.type === next.type);
  return {
    type: next.type,
    status: next.status,
    observedGeneration: generation,
    lastTransitionTime: prev && prev.status === next.status ? prev.lastTransitionTime : now,
    reason: next.reason,
    message: next.message,
  };
}

export function findCondition(conditions: Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

/** RFC 3339 with second precision, as the apiserver stores metav1.Time. */
export function metaTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
