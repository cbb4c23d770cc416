import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';

/** A parsed IDX file (the MNIST / Fashion-MNIST container): unsigned bytes with their dimensions. */
export interface IdxArray {
  dims: number[];
  data: Uint8Array;
}

/** Parses IDX bytes (gzip-compressed or not). Only the unsigned-byte type (0x08) is supported. Pure. */
export function parseIdx(bytes: Uint8Array): IdxArray {
  const raw = bytes[0] === 0x1f && bytes[1] === 0x8b ? new Uint8Array(gunzipSync(bytes)) : bytes;
  if (raw.length < 4 || raw[0] !== 0 || raw[1] !== 0) throw new Error('not an IDX file: bad magic');
  if (raw[2] !== 0x08) throw new Error(`unsupported IDX element type 0x${raw[2].toString(16)}: only unsigned bytes`);
  const rank = raw[3];
  if (rank < 1 || raw.length < 4 + 4 * rank) throw new Error('truncated IDX header');
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i, false));
  const size = dims.reduce((a, b) => a * b, 1);
  const start = 4 + 4 * rank;
  if (raw.length !== start + size) throw new Error(`IDX data has ${raw.length - start} bytes, header says ${size}`);
  return { dims, data: raw.subarray(start) };
}

export async function readIdx(file: string): Promise<IdxArray> {
  return parseIdx(new Uint8Array(await readFile(file)));
}
