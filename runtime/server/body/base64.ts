import { RuntimeError } from '../../errors.js';

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const BASE64URL = /^[A-Za-z0-9_-]*={0,2}$/;

/** Decodes a base64 (or base64url, or `data:` URL) image string; refuses anything else with invalid_image. */
export function decodeBase64Image(value: unknown, label: string): Buffer {
  if (typeof value !== 'string') throw new RuntimeError('invalid_tensor', `${label}: expected a base64 string, got ${Array.isArray(value) ? 'an array' : typeof value}`);
  const text = value.replace(/^data:[^,]*;base64,/i, '').replace(/\s+/g, '');
  if (text.length === 0) throw new RuntimeError('empty_body', `${label}: the base64 string is empty`);
  const url = !BASE64.test(text) && BASE64URL.test(text);
  if (!url && !BASE64.test(text)) throw new RuntimeError('invalid_image', `${label}: not valid base64`);
  return Buffer.from(text, url ? 'base64url' : 'base64');
}
