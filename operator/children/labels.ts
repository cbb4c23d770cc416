import { FIELD_MANAGER, LABELS, RUNTIME_APP_NAME, type Track } from '../api/constants.js';

/** Labels every child carries (SPEC §2). */
export function commonLabels(dm: string): Record<string, string> {
  return { [LABELS.name]: RUNTIME_APP_NAME, [LABELS.instance]: dm, [LABELS.managedBy]: FIELD_MANAGER };
}

export function trackLabels(dm: string, track: Track): Record<string, string> {
  return { ...commonLabels(dm), [LABELS.track]: track };
}

/** Pod labels: the track labels plus the version, which selectors never use. */
export function podLabels(dm: string, track: Track, version: string): Record<string, string> {
  return { ...trackLabels(dm, track), [LABELS.modelVersion]: version };
}

/** Selector of every runtime pod of a DigitModel: name + instance, never the version. */
export function allTracksSelector(dm: string): Record<string, string> {
  return { [LABELS.name]: RUNTIME_APP_NAME, [LABELS.instance]: dm };
}

export function trackSelector(dm: string, track: Track): Record<string, string> {
  return { ...allTracksSelector(dm), [LABELS.track]: track };
}

/** `status.selector`, the scale subresource's label selector string. */
export function selectorString(selector: Record<string, string>): string {
  return Object.keys(selector)
    .sort()
    .map((k) => `${k}=${selector[k]}`)
    .join(',');
}
