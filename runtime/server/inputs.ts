import { RuntimeError } from '../errors.js';

/** One image of a request: encoded bytes to preprocess, or 784 pixels already in MNIST form. */
export type ImageInput = { kind: 'bytes'; bytes: Buffer } | { kind: 'pixels'; pixels: Float32Array };

/** A 28×28 (or 28×28×1, or flat 784) array of finite numbers in 0–1 → 784 floats. */
export function pixelsFromArray(value: unknown, where: string): Float32Array {
  const flat: unknown[] = [];
  const walk = (v: unknown, depth: number) => {
    if (Array.isArray(v)) {
      if (depth > 3) throw new RuntimeError('invalid_tensor', `${where}: nested too deeply; send 28×28 numbers`);
      for (const x of v) walk(x, depth + 1);
    } else flat.push(v);
  };
  walk(value, 0);
  if (flat.length !== 784) throw new RuntimeError('invalid_tensor', `${where}: has ${flat.length} values; a 28×28 image has 784`);
  const out = new Float32Array(784);
  for (let i = 0; i < 784; i++) {
    const x = flat[i];
    if (typeof x !== 'number' || !Number.isFinite(x) || x < 0 || x > 1) {
      throw new RuntimeError('invalid_tensor', `${where}: value ${i} is ${JSON.stringify(x)}; pixels must be finite numbers in 0–1`);
    }
    out[i] = x;
  }
  return out;
}

/** Decodes base64 (standard or URL-safe); refuses anything else. */
export function bytesFromBase64(value: unknown, where: string): Buffer {
  if (typeof value !== 'string' || value.length === 0 || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(value.replace(/\s+/g, ''))) {
    throw new RuntimeError('invalid_image', `${where}: expected a non-empty base64-encoded image`);
  }
  return Buffer.from(value, 'base64');
}

/** `{"instances": [...]}` as TF Serving / KServe v1 clients send: each `{"b64": …}` or a 28×28 array. */
export function instancesFromJson(doc: unknown, maxImages: number): ImageInput[] {
  const instances = (doc as { instances?: unknown })?.instances;
  if (!Array.isArray(instances)) throw new RuntimeError('invalid_tensor', 'expected {"instances": [...]} with {"b64": "<base64 image>"} or 28×28 arrays of 0–1 numbers');
  if (instances.length === 0) throw new RuntimeError('invalid_tensor', '"instances" is empty');
  if (instances.length > maxImages) throw new RuntimeError('too_many_images', `${instances.length} images in one request; at most ${maxImages} are accepted (MAX_IMAGES_PER_REQUEST)`);
  return instances.map((inst, i): ImageInput => {
    if (inst && typeof inst === 'object' && !Array.isArray(inst) && 'b64' in inst) {
      return { kind: 'bytes', bytes: bytesFromBase64((inst as { b64: unknown }).b64, `instances[${i}].b64`) };
    }
    return { kind: 'pixels', pixels: pixelsFromArray(inst, `instances[${i}]`) };
  });
}
