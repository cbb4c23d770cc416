import fs from 'node:fs';
import path from 'node:path';

/**
 * Where a process's resident memory is, from /proc/<pid>/smaps: file-backed pages (shared
 * libraries' text and data: clean pages the kernel can drop and re-read, counted in RSS) against
 * anonymous ones (heaps: what only swap or exit frees), grouped by owner. A Node process's worker
 * threads share its address space, so this is the whole runtime: no worker has an RSS of its own.
 */

export interface Mapping {
  start: bigint;
  end: bigint;
  perms: string;
  name: string;
  /** kB, as smaps reports them. */
  sizeKb: number;
  rssKb: number;
  anonKb: number;
}

/** Parses smaps text into mappings. Pure. */
export function parseSmaps(text: string): Mapping[] {
  const out: Mapping[] = [];
  let cur: Mapping | undefined;
  for (const line of text.split('\n')) {
    const head = /^([0-9a-f]+)-([0-9a-f]+)\s+(\S{4})\s+\S+\s+\S+\s+\d+\s*(.*)$/.exec(line);
    if (head) {
      cur = { start: BigInt('0x' + head[1]), end: BigInt('0x' + head[2]), perms: head[3], name: head[4].trim(), sizeKb: 0, rssKb: 0, anonKb: 0 };
      out.push(cur);
      continue;
    }
    const field = /^(\w+):\s+(\d+) kB/.exec(line);
    if (!field || !cur) continue;
    if (field[1] === 'Size') cur.sizeKb = Number(field[2]);
    else if (field[1] === 'Rss') cur.rssKb = Number(field[2]);
    else if (field[1] === 'Anonymous') cur.anonKb = Number(field[2]);
  }
  return out;
}

/** glibc's non-main malloc arenas live in 64 MiB heaps (HEAP_MAX_SIZE on 64-bit), aligned to 64 MiB. */
const ARENA_HEAP = 64n * 1024n * 1024n;

export interface Breakdown {
  rssMiB: number;
  /** Anonymous pages (heaps, stacks, private dirty pages of libraries' data). */
  anonMiB: number;
  /** File-backed pages (libraries' text and read-only data; clean, reclaimable). */
  fileMiB: number;
  /** RSS by owner, MiB, largest first. */
  groups: { group: string; kind: 'file' | 'anon'; mib: number }[];
  /** glibc malloc arena heaps (64 MiB reservations) and their resident part. */
  arenas: { count: number; mib: number };
}

function fileGroup(name: string): string {
  if (/libtensorflow/.test(name)) return 'TensorFlow C library (libtensorflow*.so)';
  if (/tfjs_binding\.node/.test(name)) return 'tfjs-node addon';
  if (/libvips|sharp/.test(name)) return 'sharp / libvips';
  if (/\/node$|\/nodejs$/.test(name)) return 'node binary';
  if (/\.so(\.|$)/.test(name)) return 'other shared libraries';
  return 'other files';
}

/** Groups mappings by owner. Pure. */
export function breakdown(maps: Mapping[]): Breakdown {
  const groups = new Map<string, { group: string; kind: 'file' | 'anon'; kb: number }>();
  const add = (group: string, kind: 'file' | 'anon', kb: number) => {
    if (kb <= 0) return;
    const g = groups.get(group) ?? { group, kind, kb: 0 };
    g.kb += kb;
    groups.set(group, g);
  };
  let rss = 0;
  let anon = 0;
  const arenas = { count: 0, kb: 0 };
  for (let i = 0; i < maps.length; i++) {
    const m = maps[i];
    rss += m.rssKb;
    anon += m.anonKb;
    const isFile = m.name.startsWith('/');
    if (isFile) {
      // a library's private dirty pages (relocated data, .bss) are anonymous though file-mapped
      add(fileGroup(m.name), 'file', m.rssKb - m.anonKb);
      add('libraries\u2019 private data (anonymous)', 'anon', m.anonKb);
      continue;
    }
    if (m.name === '[heap]') {
      add('brk heap (glibc main arena)', 'anon', m.rssKb);
      continue;
    }
    if (m.name.startsWith('[stack')) {
      add('main thread stack', 'anon', m.rssKb);
      continue;
    }
    // an arena heap: 64 MiB-aligned, its rw part and the PROT_NONE rest adding up to 64 MiB
    if (m.name === '' && m.perms.startsWith('rw') && m.start % ARENA_HEAP === 0n) {
      const next = maps[i + 1];
      const span = next && next.name === '' && next.perms.startsWith('---') && next.start === m.end ? next.end - m.start : m.end - m.start;
      if (span === ARENA_HEAP) {
        arenas.count++;
        arenas.kb += m.rssKb;
        add('glibc malloc arenas (64 MiB heaps)', 'anon', m.rssKb);
        continue;
      }
    }
    add('other anonymous (V8 heaps, wasm memory, large mallocs, thread stacks)', 'anon', m.rssKb);
  }
  const mib = (kb: number) => Math.round((kb / 1024) * 10) / 10;
  return {
    rssMiB: mib(rss),
    anonMiB: mib(anon),
    fileMiB: mib(rss - anon),
    groups: [...groups.values()].sort((a, b) => b.kb - a.kb).map((g) => ({ group: g.group, kind: g.kind, mib: mib(g.kb) })),
    arenas: { count: arenas.count, mib: mib(arenas.kb) },
  };
}

/** The breakdown of a live process (undefined once it is gone). */
export function processBreakdown(pid: number): Breakdown | undefined {
  try {
    return breakdown(parseSmaps(fs.readFileSync(`/proc/${pid}/smaps`, 'utf8')));
  } catch {
    return undefined;
  }
}

/** A process's threads by name (/proc/<pid>/task/<tid>/comm), most first. */
export function threadsByName(pid: number): { name: string; count: number }[] {
  const counts = new Map<string, number>();
  try {
    for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
      let name = '?';
      try {
        name = fs.readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      } catch {
        // the thread ended meanwhile
      }
      counts.set(name, (counts.get(name) ?? 0) + 1);
    }
  } catch {
    return [];
  }
  return [...counts.entries()].map(([name, count]) => ({ name, count })).sort((a, b) => b.count - a.count);
}

/**
 * The memory settings the runtime images set in their ENV (Dockerfile.runtime: NODE_OPTIONS, and
 * MALLOC_* if ever set), so that a bench runs runtime/main.ts as the images run it. Throws when the
 * Dockerfile sets none (the bench would silently measure another configuration). Pure but for the read.
 */
export function imageMemoryEnv(repoRoot: string): Record<string, string> {
  const dockerfile = fs.readFileSync(path.join(repoRoot, 'Dockerfile.runtime'), 'utf8');
  const line = /^ENV\s+(.*\b(?:NODE_OPTIONS|MALLOC_\w+)=.*)$/m.exec(dockerfile);
  if (!line) throw new Error('Dockerfile.runtime sets no NODE_OPTIONS or MALLOC_* in an ENV line');
  const pairs = line[1].trim().split(/\s+/).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)] as const);
  return Object.fromEntries(pairs.filter(([k]) => k === 'NODE_OPTIONS' || k.startsWith('MALLOC_')));
}
