import { API_VERSION, KIND } from '../api/constants.js';
import type { DigitModel, OwnerReference } from '../api/types.js';

/** The controller owner reference every child carries, so deleting the DigitModel collects it. */
export function ownerReference(dm: DigitModel): OwnerReference {
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    name: dm.metadata.name,
    uid: dm.metadata.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** True when `refs` name this DigitModel (by uid) as controller. */
export function isControlledBy(refs: OwnerReference[] | undefined, uid: string | undefined): boolean {
  return !!uid && (refs ?? []).some((r) => r.controller === true && r.uid === uid);
}

/** The controlling DigitModel's name, if a DigitModel controls the object. */
export function controllingDigitModel(refs: OwnerReference[] | undefined): string | undefined {
  return (refs ?? []).find((r) => r.controller === true && r.kind === KIND && r.apiVersion.startsWith('digitserve.dev/'))
    ?.name;
}
