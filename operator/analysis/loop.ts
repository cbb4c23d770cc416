import type { Logger } from 'pino';
import { METRICS_PORT, type Track } from '../api/constants.js';
import type { DigitModel, DigitModelStatus, KubeObject } from '../api/types.js';
import { childNames } from '../children/names.js';
import type { KubeClient } from '../kube/client.js';
import { toKubeError } from '../kube/errors.js';
import type { OperatorMetrics } from '../metrics.js';
import type { PendingAnalysis } from '../reconcile.js';
import { judge, type Judgement, type Windows } from './judge.js';
import { promqlWindows, type PromQLOptions } from './promql.js';
import { analysisInForce, checkStatuses, settingsOf, type AnalysisRecord } from './record.js';
import { scrapePods, type ScrapeOptions, type ScrapeTarget } from './scrape.js';
import { advance } from './step.js';
import { trackWindow, type PodCounters, type TrackWindow } from './window.js';

/**
 * The canary analysis loop (SPEC §7), run by the leader only (it lives and dies with the
 * controller of one leadership term). For each DigitModel with spec.canary.analysis whose phase is
 * Progressing, every interval: find both tracks' ready pods through the EndpointSlices of their
 * Services, scrape their /metrics on the metrics port, window the counters by difference, judge,
 * step the state machine, and hand the record to the reconciler, which writes status.canary
 * (status is the state) and emits the transition's Event. The first scrape of a term only takes a
 * baseline: counters are windowed by difference, and this process has no earlier scrape.
 */

export interface AnalysisLoopDeps {
  client: KubeClient;
  digitModels: () => KubeObject[];
  /** Status as the reconciler knows it best (its own last write until the cache has it). */
  currentStatus: (key: string) => DigitModelStatus | undefined;
  pending: PendingAnalysis;
  /** Asks the reconciler to write the record now. */
  enqueue: (key: string) => void;
  log: Logger;
  metrics?: OperatorMetrics;
  scrape?: ScrapeOptions;
  /** Read the windows from this Prometheus with PromQL instead of scraping the pods. */
  prometheus?: PromQLOptions;
  /** How often due analyses are looked for (default 500 ms; an interval shorter than it waits for it). */
  tickMs?: number;
  now?: () => number;
}

type Counters = Record<Track, PodCounters[]>;

interface Memory {
  /** Which canary the memory is about: a new DigitModel or canary version starts again. */
  identity: string;
  baseline?: Counters;
  /** PromQL: the first tick of a term only starts the clock, as the first scrape only takes a baseline. */
  primed?: boolean;
  nextAt: number;
  running: boolean;
}

interface EndpointSlice {
  addressType?: string;
  endpoints?: { addresses?: string[]; conditions?: { ready?: boolean | null }; targetRef?: { uid?: string; name?: string } }[];
}

const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/** The ready pods behind a Service's EndpointSlices, as scrape targets on the metrics port. Pure. */
export function scrapeTargets(slices: readonly EndpointSlice[], port = METRICS_PORT): ScrapeTarget[] {
  const seen = new Map<string, ScrapeTarget>();
  for (const slice of slices) {
    if (slice.addressType !== undefined && slice.addressType !== 'IPv4' && slice.addressType !== 'IPv6') continue;
    for (const e of slice.endpoints ?? []) {
      // ready unset means ready (EndpointSlice API); not ready pods are not serving, so not judged
      if (e.conditions?.ready === false) continue;
      const ip = e.addresses?.[0];
      if (!ip) continue;
      const pod = e.targetRef?.uid ?? ip;
      if (!seen.has(pod)) seen.set(pod, { pod, ip, port });
    }
  }
  return [...seen.values()];
}

export class AnalysisLoop {
  private readonly memory = new Map<string, Memory>();
  private timer?: NodeJS.Timeout;
  private running = false;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly d: AnalysisLoopDeps) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    const tick = () => {
      if (!this.running) return;
      this.tick();
      this.timer = setTimeout(tick, this.d.tickMs ?? 500);
    };
    tick();
  }

  /** Stops judging; a judgement under way finishes (its record is then left unwritten by a stopped controller). */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    await Promise.all(this.inFlight);
    this.d.metrics?.resetAnalysis();
  }

  private now(): number {
    return (this.d.now ?? Date.now)();
  }

  /** Starts every due judgement and exports the gauges of every analysis. */
  tick(): void {
    const live = new Set<string>();
    const records: { dm: DigitModel; record: AnalysisRecord }[] = [];
    for (const raw of this.d.digitModels()) {
      const dm = raw as unknown as DigitModel;
      const key = `${dm.metadata.namespace}/${dm.metadata.name}`;
      const s = settingsOf(dm);
      if (!s || !dm.spec?.canary || dm.metadata.deletionTimestamp) continue;
      const record = analysisInForce({ ...dm, status: this.d.currentStatus(key) }, this.d.pending.get(key));
      if (!record) continue;
      records.push({ dm, record });
      if (record.state.phase !== 'Progressing') continue;
      live.add(key);
      const identity = `${dm.metadata.uid ?? ''}/${dm.spec.canary.version}`;
      let m = this.memory.get(key);
      if (!m || m.identity !== identity) {
        m = { identity, nextAt: this.now(), running: false };
        this.memory.set(key, m);
      }
      if (m.running || this.now() < m.nextAt) continue;
      m.running = true;
      m.nextAt = this.now() + s.intervalMs;
      const mem = m;
      const p = this.judgeOnce(key, dm, mem)
        .catch((err: unknown) => this.d.log.warn({ key, err: err instanceof Error ? err.message : String(err) }, 'canary analysis: judgement failed'))
        .finally(() => {
          mem.running = false;
          this.inFlight.delete(p);
        });
      this.inFlight.add(p);
    }
    for (const key of this.memory.keys()) if (!live.has(key)) this.memory.delete(key);
    this.d.metrics?.exportAnalysis(records);
  }

  private async discover(dm: DigitModel, track: Track): Promise<ScrapeTarget[]> {
    const service = childNames.trackService(dm.metadata.name, track);
    try {
      const list = await this.d.client.list<EndpointSlice>('EndpointSlice', dm.metadata.namespace, `${SERVICE_NAME_LABEL}=${service}`);
      return scrapeTargets(list.items);
    } catch (err) {
      throw toKubeError(err, `list the EndpointSlices of Service ${dm.metadata.namespace}/${service}`);
    }
  }

  /** The window since the last judgement from the pods' own /metrics; undefined for the first (a baseline). */
  private async scrapedWindows(key: string, dm: DigitModel, m: Memory): Promise<{ windows: Windows; canaryPods: number } | undefined> {
    const { log } = this.d;
    const [stableTargets, canaryTargets] = await Promise.all([this.discover(dm, 'stable'), this.discover(dm, 'canary')]);
    const [stable, canary] = await Promise.all([scrapePods(stableTargets, this.d.scrape), scrapePods(canaryTargets, this.d.scrape)]);
    for (const f of [...stable.failures, ...canary.failures]) log.info({ key, pod: f.pod, code: f.code, err: f.message }, 'canary analysis: a pod could not be scraped');
    const now: Counters = { stable: stable.counters, canary: canary.counters };
    const before = m.baseline;
    // pods that could not be read keep their last counts in the baseline, so their next window is right
    const keep = (t: Track, failed: Set<string>) => (before?.[t] ?? []).filter((p) => failed.has(p.pod));
    m.baseline = {
      stable: [...now.stable, ...keep('stable', new Set(stable.failures.map((f) => f.pod)))],
      canary: [...now.canary, ...keep('canary', new Set(canary.failures.map((f) => f.pod)))],
    };
    if (!before) {
      log.info({ key, stablePods: now.stable.length, canaryPods: now.canary.length }, 'canary analysis: baseline taken; judging from the next interval');
      return undefined;
    }
    // a track some of whose pods could not be read cannot be judged this window
    const window = (t: Track, failures: number, targets: number): TrackWindow | undefined =>
      failures > 0 || targets === 0 ? undefined : trackWindow(before[t], now[t]);
    const windows: Windows = {};
    const sw = window('stable', stable.failures.length, stableTargets.length);
    const cw = window('canary', canary.failures.length, canaryTargets.length);
    if (sw) windows.stable = sw;
    if (cw) windows.canary = cw;
    return { windows, canaryPods: canaryTargets.length };
  }

  /** The same window read with PromQL; Prometheus unreachable leaves both tracks unknown (Inconclusive). */
  private async promqlWindows(key: string, dm: DigitModel, m: Memory, prometheus: PromQLOptions, seconds: number): Promise<{ windows: Windows; canaryPods: number } | undefined> {
    if (!m.primed) {
      m.primed = true;
      return undefined;
    }
    try {
      const p = await promqlWindows(prometheus, dm.metadata.namespace, dm.metadata.name, seconds);
      return { windows: p.windows, canaryPods: p.missing.includes('canary') ? 0 : 1 };
    } catch (err) {
      this.d.log.info({ key, err: (err as Error).message }, 'canary analysis: Prometheus could not be queried');
      return { windows: {}, canaryPods: 1 };
    }
  }

  /** One window: read, judge, step; the record goes to the reconciler. */
  private async judgeOnce(key: string, dm: DigitModel, m: Memory): Promise<void> {
    const { log } = this.d;
    const s = settingsOf(dm)!;
    const read = this.d.prometheus
      ? await this.promqlWindows(key, dm, m, this.d.prometheus, Math.max(1, Math.round(s.intervalMs / 1000)))
      : await this.scrapedWindows(key, dm, m);
    if (!this.running || !read) return;
    const { windows, canaryPods } = read;

    const current = analysisInForce({ ...dm, status: this.d.currentStatus(key) }, this.d.pending.get(key));
    if (!current || current.state.phase !== 'Progressing') return;
    const weight = current.state.analysisWeight;
    // at weight 0 the replica split gives the canary no pod: nothing serves users, nothing can be
    // mirrored to or judged, and nothing can be lost, so the analysis steps on
    const j: Judgement = weight === 0 && canaryPods === 0 ? judge({ ...s, mirrorPercent: 0 }, 0, {}) : judge(s, weight, windows);
    const t = advance(s, current.state, j);
    const record: AnalysisRecord = { state: t.state, version: dm.spec.canary?.version, checks: checkStatuses(j.checks), ...(t.event ? { event: t.event } : {}) };
    this.d.metrics?.analysisJudgements.inc({ namespace: dm.metadata.namespace, model: dm.metadata.name, verdict: j.verdict });
    log.info(
      { key, weight, verdict: j.verdict, phase: t.state.phase, nextWeight: t.state.analysisWeight, checks: j.checks.map((c) => `${c.name}=${c.verdict}`).join(',') },
      'canary analysis: judged',
    );
    this.d.pending.set(key, record);
    this.d.enqueue(key);
  }
}
