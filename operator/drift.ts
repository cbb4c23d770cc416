import { createHash } from 'node:crypto';
import { DESIRED_HASH_ANNOTATION } from './api/constants.js';
import type { KubeObject } from './api/types.js';
import { sameQuantity } from './children/quantity.js';

/**
 * Decides whether a child needs a server-side apply, so that steady state makes no API writes.
 * Two checks: the live object must still carry every field and value the operator sets (catches
 * manual edits), and the hash annotation must match the desired object (catches fields the
 * operator stopped setting, which only a fresh apply removes).
 */

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = canonical(v);
    }
    return out;
  }
  return value;
}

/** JSON with sorted keys and undefined fields dropped: equal for semantically equal objects. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(canonical(value));
}

/** A short, stable hash of a desired object (key order and undefined fields ignored). */
export function desiredHash(obj: unknown): string {
  return createHash('sha256').update(canonicalJson(obj)).digest('hex').slice(0, 16);
}

/** Returns `desired` with its hash annotation set. */
export function withDesiredHash<T extends KubeObject>(desired: T): T {
  const hash = desiredHash(desired);
  return {
    ...desired,
    metadata: { ...desired.metadata, annotations: { ...(desired.metadata.annotations ?? {}), [DESIRED_HASH_ANNOTATION]: hash } },
  };
}

/** Fields whose value is a quantity, and maps whose values are (a container's requests and limits). */
const QUANTITY_FIELDS = new Set(['divisor', 'averageValue', 'sizeLimit']);
const QUANTITY_MAPS = new Set(['requests', 'limits']);

type Context = 'quantity' | 'quantities' | undefined;

function fieldContext(parent: Context, key: string): Context {
  if (parent === 'quantities') return 'quantity';
  if (QUANTITY_MAPS.has(key)) return 'quantities';
  return QUANTITY_FIELDS.has(key) ? 'quantity' : undefined;
}

/**
 * True when every field set in `want` has the same value in `have`. A list matches when each
 * wanted element is contained in a distinct live element: entries other managers added to a
 * keyed list (an extra port, env var or toleration) survive a server-side apply, so they must not
 * count as drift, or every reconcile would re-apply in vain. Quantities compare by value: the
 * apiserver keeps "0.5" cpu as "500m", which is the same request, not a change.
 */
export function containsFields(want: unknown, have: unknown, context?: Context): boolean {
  if (want === undefined) return true;
  if (Array.isArray(want)) {
    if (!Array.isArray(have) || have.length < want.length) return false;
    const used = new Set<number>();
    return want.every((w) => {
      const i = have.findIndex((h, j) => !used.has(j) && containsFields(w, h));
      if (i < 0) return false;
      used.add(i);
      return true;
    });
  }
  if (want !== null && typeof want === 'object') {
    if (have === null || typeof have !== 'object' || Array.isArray(have)) return false;
    return Object.entries(want).every(([k, v]) => containsFields(v, (have as Record<string, unknown>)[k], fieldContext(context, k)));
  }
  if (want === have) return true;
  const scalar = (x: unknown): x is string | number => typeof x === 'string' || typeof x === 'number';
  return context === 'quantity' && scalar(want) && scalar(have) && sameQuantity(want, have);
}

/** Whether `desired` (already carrying its hash annotation) must be applied over `live`. */
export function needsApply(desired: KubeObject, live: KubeObject | undefined): boolean {
  if (!live || live.metadata.deletionTimestamp) return true;
  const want = desired.metadata.annotations?.[DESIRED_HASH_ANNOTATION];
  if (live.metadata.annotations?.[DESIRED_HASH_ANNOTATION] !== want) return true;
  const { apiVersion: _a, kind: _k, ...fields } = desired;
  return !containsFields(fields, live);
}
