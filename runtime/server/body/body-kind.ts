import type { AcceptedFormat } from '../../preprocess/index.js';

/** How a `:predict` body is to be read, from its declared Content-Type alone. Pure. */
export type BodyKind =
  | { kind: 'image'; declared?: AcceptedFormat }
  | { kind: 'multipart' }
  | { kind: 'json' }
  | { kind: 'unsupported'; mediaType: string };

const DECLARED_IMAGE: Record<string, AcceptedFormat> = {
  'image/png': 'png',
  'image/apng': 'png',
  'image/x-png': 'png',
  'image/jpeg': 'jpeg',
  'image/jpg': 'jpeg',
  'image/pjpeg': 'jpeg',
  'image/webp': 'webp',
  'image/gif': 'gif',
  'image/tiff': 'tiff',
  'image/tiff-fx': 'tiff',
  'image/avif': 'avif',
};

/** Types whose bytes are sniffed: no type, the generic binary type, and what `curl --data-binary` sends. */
const SNIFFED = new Set(['', 'application/octet-stream', 'application/x-www-form-urlencoded', 'binary/octet-stream']);

export const ACCEPTED_CONTENT_TYPES = [
  'image/png', 'image/jpeg', 'image/webp', 'image/gif', 'image/tiff', 'image/avif',
  'application/octet-stream (sniffed)', 'multipart/form-data', 'application/json',
] as const;

/** The media type without parameters, lower-cased ('' when absent). */
export function mediaTypeOf(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0].trim().toLowerCase();
}

export function bodyKindOf(contentType: string | undefined): BodyKind {
  const type = mediaTypeOf(contentType);
  if (type in DECLARED_IMAGE) return { kind: 'image', declared: DECLARED_IMAGE[type] };
  if (SNIFFED.has(type)) return { kind: 'image' };
  if (type === 'multipart/form-data') return { kind: 'multipart' };
  if (type === 'application/json' || type === 'text/json' || /^application\/[a-z0-9.+-]+\+json$/.test(type)) return { kind: 'json' };
  return { kind: 'unsupported', mediaType: type };
}
