import { gzipSync } from 'node:zlib';
import { parseIdx } from '../../../../runtime/train/idx.js';

function idx(type: number, dims: number[], data: number[]): Uint8Array {
  const head = new Uint8Array(4 + 4 * dims.length);
  const view = new DataView(head.buffer);
  head[2] = type;
  head[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  return new Uint8Array([...head, ...data]);
}

describe('parseIdx', () => {
  it('reads big-endian dimensions and the bytes of an images file', () => {
    const data = Array.from({ length: 2 * 3 * 4 }, (_, i) => i);
    const r = parseIdx(idx(0x08, [2, 3, 4], data));
    expect(r.dims).toEqual([2, 3, 4]);
    expect(Array.from(r.data)).toEqual(data);
  });

  it('reads a gzip-compressed labels file', () => {
    const r = parseIdx(new Uint8Array(gzipSync(idx(0x08, [5], [9, 8, 7, 6, 5]))));
    expect(r.dims).toEqual([5]);
    expect(Array.from(r.data)).toEqual([9, 8, 7, 6, 5]);
  });

  it('reads dimensions above 2^16 (e.g. 60,000 images)', () => {
    expect(parseIdx(idx(0x08, [70_000, 0], [])).dims).toEqual([70_000, 0]);
  });

  it('rejects a bad magic, another element type, a short header and a size mismatch', () => {
    const good = idx(0x08, [2], [1, 2]);
    expect(() => parseIdx(new Uint8Array([1, ...good.subarray(1)]))).toThrow(/bad magic/);
    expect(() => parseIdx(idx(0x0d, [1], [0, 0, 0, 0]))).toThrow(/element type 0xd/);
    expect(() => parseIdx(good.subarray(0, 6))).toThrow(/truncated/);
    expect(() => parseIdx(idx(0x08, [3], [1, 2]))).toThrow(/header says 3/);
  });
});
