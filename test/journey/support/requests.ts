import { randomBytes } from 'node:crypto';
import { encodeDigit, mnistDigit } from '../../support/images.js';

/** Request bodies of every kind the README shows, made from held-out MNIST digits. */

export interface Body {
  kind: string;
  path: (name: string) => string;
  contentType: string;
  body: Buffer;
  /** Digits the answer must contain, in order. */
  labels: number[];
}

export const png = (i: number) => encodeDigit(mnistDigit(i).pixels, { format: 'png', invert: true, scale: 3 });

function multipart(files: Buffer[]): { body: Buffer; contentType: string } {
  const boundary = `----journey${randomBytes(8).toString('hex')}`;
  const parts = files.flatMap((f, i) => [
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="image${i}"; filename="${i}.png"\r\nContent-Type: image/png\r\n\r\n`),
    f,
    Buffer.from('\r\n'),
  ]);
  return { body: Buffer.concat([...parts, Buffer.from(`--${boundary}--\r\n`)]), contentType: `multipart/form-data; boundary=${boundary}` };
}

const predict = (name: string) => `/v1/models/${name}:predict`;

export async function everyKind(): Promise<Body[]> {
  // indices i have label i % 10
  const [three, four, seven] = await Promise.all([png(3), png(4), png(7)]);
  const form = multipart([four, seven]);
  const pixels = Array.from({ length: 28 }, (_, r) => Array.from(mnistDigit(8).pixels.subarray(r * 28, r * 28 + 28)));
  return [
    { kind: 'raw PNG body', path: predict, contentType: 'image/png', body: three, labels: [3] },
    { kind: 'multipart, two files (a batch)', path: predict, contentType: form.contentType, body: form.body, labels: [4, 7] },
    { kind: 'JSON instances, b64', path: predict, contentType: 'application/json',
      body: Buffer.from(JSON.stringify({ instances: [{ b64: three.toString('base64') }, { b64: seven.toString('base64') }] })), labels: [3, 7] },
    { kind: 'JSON instances, 28x28 array', path: predict, contentType: 'application/json', body: Buffer.from(JSON.stringify({ instances: [pixels] })), labels: [8] },
    { kind: 'OIP v2 infer, image BYTES', path: (name) => `/v2/models/${name}/infer`, contentType: 'application/json',
      body: Buffer.from(JSON.stringify({ inputs: [{ name: 'image', datatype: 'BYTES', shape: [2], data: [four.toString('base64'), three.toString('base64')] }] })), labels: [4, 3] },
  ];
}

/** The digits an answer reports, from a v1 `predictions` or an OIP `outputs` body. */
export function answeredDigits(json: unknown): number[] {
  const j = json as { predictions?: { digit: number }[]; outputs?: { name: string; data: number[] }[] };
  if (j.predictions) return j.predictions.map((p) => p.digit);
  return j.outputs?.find((o) => o.name === 'digit')?.data ?? [];
}

/** A JSON body of `n` b64 PNGs: heavy requests that fill the runtime's queue (autoscaling step). */
export async function heavyBatch(n: number): Promise<Buffer> {
  const images = await Promise.all(Array.from({ length: n }, (_, i) => png(i)));
  return Buffer.from(JSON.stringify({ instances: images.map((b) => ({ b64: b.toString('base64') })) }));
}
