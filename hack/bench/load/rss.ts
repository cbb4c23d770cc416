import { rssOf } from '../../../test/support/runtime-process.js';

/** RSS of a process sampled once a second from /proc/<pid>/status, tagged with the phase it fell in. */
export class RssSampler {
  readonly points: { t: number; phase: string; mib: number }[] = [];
  private timer: ReturnType<typeof setInterval> | undefined;
  phase = 'start';

  constructor(
    private readonly pid: number,
    private readonly origin: number,
  ) {}

  start(): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), 1000);
  }

  stop(): void {
    clearInterval(this.timer);
    this.sample();
  }

  sample(): void {
    const b = rssOf(this.pid);
    if (b !== undefined) this.points.push({ t: Math.round((performance.now() - this.origin) / 100) / 10, phase: this.phase, mib: Math.round(b / 2 ** 20) });
  }

  /** Min/max/last RSS (MiB) per phase, in the order phases ran. */
  byPhase(): { phase: string; minMiB: number; maxMiB: number; lastMiB: number }[] {
    const out = new Map<string, { phase: string; minMiB: number; maxMiB: number; lastMiB: number }>();
    for (const p of this.points) {
      const e = out.get(p.phase) ?? { phase: p.phase, minMiB: p.mib, maxMiB: p.mib, lastMiB: p.mib };
      e.minMiB = Math.min(e.minMiB, p.mib);
      e.maxMiB = Math.max(e.maxMiB, p.mib);
      e.lastMiB = p.mib;
      out.set(p.phase, e);
    }
    return [...out.values()];
  }
}
