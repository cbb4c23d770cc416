import fs from 'node:fs';
import { breakdown, imageMemoryEnv, parseSmaps, processBreakdown, threadsByName } from '../../../hack/bench/load/smaps.js';
import { repoRoot } from '../../support/runtime-process.js';

const entry = (range: string, perms: string, name: string, rssKb: number, anonKb: number, sizeKb: number) =>
  [`${range} ${perms} 00000000 00:00 0          ${name}`, `Size:             ${sizeKb} kB`, `Rss:              ${rssKb} kB`, `Anonymous:        ${anonKb} kB`, 'VmFlags: rd wr mr mw me ac'].join('\n');

// a 64 MiB-aligned glibc arena heap (rw part + PROT_NONE rest = 64 MiB), a library's text and
// data, the brk heap and an unaligned anonymous mapping (V8 pages, say)
const smaps = [
  entry('555500000000-555500100000', 'rw-p', '[heap]', 800, 800, 1024),
  entry('7f0000000000-7f0000200000', 'rw-p', '', 1500, 1500, 2048),
  entry('7f0000200000-7f0004000000', '---p', '', 0, 0, 63488),
  entry('7f0010001000-7f0010401000', 'rw-p', '', 3000, 3000, 4096),
  entry('7f1000000000-7f1010000000', 'r-xp', '/usr/lib/libtensorflow_cc.so.2', 200_000, 0, 262144),
  entry('7f1010000000-7f1010100000', 'rw-p', '/usr/lib/libtensorflow_cc.so.2', 1000, 900, 1024),
  entry('7ffd00000000-7ffd00021000', 'rw-p', '[stack]', 100, 100, 132),
].join('\n');

describe('smaps breakdown (hack/bench/memory.ts)', () => {
  it('splits RSS into file-backed and anonymous pages by owner, and finds malloc arena heaps by their 64 MiB alignment and span', () => {
    const maps = parseSmaps(smaps);
    expect(maps).toHaveLength(7);
    const b = breakdown(maps);
    const kb = (k: number) => Math.round((k / 1024) * 10) / 10;
    expect(b.rssMiB).toBe(kb(800 + 1500 + 3000 + 200_000 + 1000 + 100));
    expect(b.anonMiB).toBe(kb(800 + 1500 + 3000 + 900 + 100));
    expect(b.fileMiB).toBe(kb(200_000 + 100));
    expect(b.arenas).toEqual({ count: 1, mib: kb(1500) });
    const group = (name: string) => b.groups.find((g) => g.group.startsWith(name))?.mib;
    expect(group('TensorFlow')).toBe(kb(200_100));
    expect(group('brk heap')).toBe(kb(800));
    expect(group('other anonymous')).toBe(kb(3000));
    expect(group('libraries')).toBe(kb(900));
    expect(b.groups[0].group).toMatch(/^TensorFlow/);
  });

  it('reads a live process: its RSS is what /proc/<pid>/status says, and its threads are named', () => {
    const b = processBreakdown(process.pid)!;
    const status = Number(/^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))![1]) / 1024;
    expect(b.anonMiB + b.fileMiB).toBeCloseTo(b.rssMiB, 0);
    // the two reads are moments apart: allow the process to have grown or shrunk a little
    expect(Math.abs(b.rssMiB - status)).toBeLessThan(Math.max(16, status * 0.1));
    expect(threadsByName(process.pid).reduce((s, t) => s + t.count, 0)).toBeGreaterThanOrEqual(1);
    expect(processBreakdown(2 ** 22 + 12345)).toBeUndefined();
  });
});

describe('imageMemoryEnv', () => {
  it('reads the memory settings the runtime images set, so benches run the runtime as deployed', () => {
    expect(imageMemoryEnv(repoRoot)).toEqual({ NODE_OPTIONS: '--max-semi-space-size=4' });
  });
});
