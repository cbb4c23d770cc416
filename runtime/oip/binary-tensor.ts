import { RuntimeError } from '../errors.js';

/**
 * Tensor data as raw bytes, the layout of the binary tensor data extension (HTTP) and of
 * `raw_input_contents` / `raw_output_contents` (gRPC), as Triton defines it: fixed-size types
 * little-endian, flat, row-major; BYTES as elements each preceded by its length (uint32,
 * little-endian); BOOL one byte per element. Pure.
 */

/** A BYTES tensor's raw data → its elements; refuses a truncated element or a short length prefix. */
export function decodeBytesElements(raw: Buffer, label: string): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  while (at < raw.length) {
    if (raw.length - at < 4) throw new RuntimeError('invalid_tensor', `${label}: BYTES data ends inside an element's 4-byte length prefix (at byte ${at} of ${raw.length})`);
    const n = raw.readUInt32LE(at);
    at += 4;
    if (n > raw.length - at) throw new RuntimeError('invalid_tensor', `${label}: BYTES element ${out.length} declares ${n} bytes but only ${raw.length - at} remain; each element is a uint32 little-endian length followed by that many bytes`);
    out.push(raw.subarray(at, at + n));
    at += n;
  }
  return out;
}

/** Elements → BYTES raw data. */
export function encodeBytesElements(elements: Buffer[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of elements) {
    const len = Buffer.alloc(4);
    len.writeUInt32LE(e.length);
    parts.push(len, e);
  }
  return Buffer.concat(parts);
}

/** FP32 raw data (little-endian) → values; the length must be a whole number of floats. */
export function decodeFp32(raw: Buffer, label: string): Float32Array {
  if (raw.length % 4 !== 0) throw new RuntimeError('invalid_tensor', `${label}: FP32 data is ${raw.length} bytes, not a multiple of 4`);
  const out = new Float32Array(raw.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = raw.readFloatLE(i * 4);
  return out;
}

/** Values of a fixed-size OIP datatype (FP32, INT32, BOOL) → raw little-endian bytes. */
export function encodeFixed(datatype: 'FP32' | 'INT32' | 'BOOL', values: readonly (number | boolean)[]): Buffer {
  const size = datatype === 'BOOL' ? 1 : 4;
  const buf = Buffer.alloc(values.length * size);
  values.forEach((v, i) => {
    if (datatype === 'FP32') buf.writeFloatLE(Number(v), i * 4);
    else if (datatype === 'INT32') buf.writeInt32LE(Number(v), i * 4);
    else buf[i] = v ? 1 : 0;
  });
  return buf;
}
