import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { EnginePool } from '../engine/engine-pool.js';
import {
  BATCH_SIZE_BUCKETS,
  CONFIDENCE_BUCKETS,
  DURATION_BUCKETS,
  LATENCY_WINDOW_MS,
  METRIC,
  QUEUE_DEPTH_WINDOW_MS,
} from './names.js';
import { RateWindow } from './rate-window.js';
import { SlidingQuantile } from './sliding-quantile.js';
import { TimeAverage } from './time-average.js';
import { MIRROR_OUTCOMES, type MirrorOutcome } from '../app/mirror.js';

export interface MetricLabels {
  model: string;
  version: string;
  track: string;
}

/** A live view for the page at `/` and logs: the same windows the gauges export. */
export interface ServiceFigures {
  requestsPerSecond: number;
  latencyP95Seconds: number;
  queueDepth: number;
  queueDepthNow: number;
  imagesPerSecond: number;
}

/** A prediction answered (its latency is the service's): 2xx, or 504 for a deadline missed while working on it. Pure. */
export function countsAsAnswered(code: number): boolean {
  return (code >= 200 && code < 300) || code === 504;
}

/**
 * The runtime's Prometheus metrics (SPEC §3) in their own registry, every series labelled with
 * model/version/track. The HPA gauges are computed on scrape from pure windows.
 */
export class RuntimeMetrics {
  readonly registry = new Registry();
  private readonly depth: TimeAverage;
  private readonly latency: SlidingQuantile;
  private readonly requestRate: RateWindow;
  private readonly imageRate: RateWindow;
  private readonly requests: Counter<'code'>;
  private readonly duration: Histogram;
  private readonly batchSize: Histogram;
  private readonly inference: Histogram;
  private readonly predictions: Counter<'digit' | 'reliable'>;
  private readonly confidence: Histogram;
  private readonly unreliable: Counter;
  private readonly preprocessed: Counter<'outcome'>;
  private readonly mirrorRequests: Counter<'outcome'>;
  private readonly mirrorDisagreements: Counter;

  /**
   * The engine pool's figures on scrape: live workers, each worker's own memory (V8 heap + external,
   * by worker slot; the process's whole RSS is process_resident_memory_bytes), workers replaced.
   */
  observeEngine(pool: EnginePool): void {
    const registers = [this.registry];
    new Gauge({
      name: METRIC.engineWorkers,
      help: 'Engine worker threads up (ENGINE_WORKERS when healthy; fewer while a lost one is replaced).',
      registers,
      collect() {
        this.set(pool.stats().filter((w) => w.threadId >= 0).length);
      },
    });
    new Gauge({
      name: METRIC.engineWorkerMemory,
      help: "An engine worker's own memory in bytes as of its last batch: its V8 heap plus external memory (ArrayBuffers, the wasm backend's heap). Threads share the process's RSS (process_resident_memory_bytes).",
      labelNames: ['worker'],
      registers,
      collect() {
        this.reset();
        for (const m of pool.lastMemory()) if (m.workerBytes !== undefined) this.set({ worker: String(m.index) }, m.workerBytes);
      },
    });
    new Gauge({
      name: METRIC.engineWorkerReplacements,
      help: 'Engine workers that exited unexpectedly and were replaced since start.',
      registers,
      collect() {
        this.set(pool.stats().reduce((a, w) => a + w.replaced, 0));
      },
    });
  }

  constructor(labels: MetricLabels, now: () => number = () => performance.now()) {
    this.depth = new TimeAverage(QUEUE_DEPTH_WINDOW_MS, now);
    this.latency = new SlidingQuantile(LATENCY_WINDOW_MS, now);
    this.requestRate = new RateWindow(10_000, now);
    this.imageRate = new RateWindow(10_000, now);
    const registers = [this.registry];
    this.registry.setDefaultLabels({ ...labels });
    collectDefaultMetrics({ register: this.registry });
    this.requests = new Counter({ name: METRIC.requests, help: 'Prediction requests answered, by HTTP status code.', labelNames: ['code'], registers });
    this.duration = new Histogram({ name: METRIC.requestDuration, help: 'Duration in seconds, from arrival to answer, of prediction requests answered (2xx, and 504 for a missed deadline; refusals are not timed).', buckets: DURATION_BUCKETS, registers });
    const depth = this.depth;
    new Gauge({
      name: METRIC.queueDepth,
      help: `Images queued or in inference, time-averaged over the last ${QUEUE_DEPTH_WINDOW_MS / 1000} s.`,
      registers,
      collect() {
        this.set(depth.average());
      },
    });
    const latency = this.latency;
    new Gauge({
      name: METRIC.latencyP95,
      help: `95th percentile of the latency of predictions answered (2xx and 504, not refusals) over a sliding ${LATENCY_WINDOW_MS / 1000} s window (0 without any).`,
      registers,
      collect() {
        this.set(latency.quantile(0.95));
      },
    });
    this.batchSize = new Histogram({ name: METRIC.batchSize, help: 'Images per engine batch.', buckets: BATCH_SIZE_BUCKETS, registers });
    this.inference = new Histogram({ name: METRIC.inferenceDuration, help: 'Engine time per batch in seconds (MC-dropout sampling included).', buckets: DURATION_BUCKETS, registers });
    this.predictions = new Counter({ name: METRIC.predictions, help: 'Predictions answered (mirrored requests left out), by predicted digit and reliable verdict.', labelNames: ['digit', 'reliable'], registers });
    this.confidence = new Histogram({ name: METRIC.confidence, help: 'Confidence of answered predictions.', buckets: CONFIDENCE_BUCKETS, registers });
    this.unreliable = new Counter({ name: METRIC.unreliable, help: 'Predictions answered with reliable: false (mirrored requests left out).', registers });
    this.preprocessed = new Counter({
      name: METRIC.preprocess,
      help: 'Images handed to preprocessing, by outcome: done, failed (refused or undecodable), cancelled (the request was past its deadline before its decode started).',
      labelNames: ['outcome'],
      registers,
    });
    for (const outcome of ['done', 'failed', 'cancelled']) this.preprocessed.inc({ outcome }, 0);
    this.mirrorRequests = new Counter({
      name: METRIC.mirrorRequests,
      help: 'Requests this runtime mirrored to MIRROR_URL, by outcome: compared (the peer answered a digit per image), skipped (sampled but not sent: none of the answers of this runtime was reliable, so a different digit would not tell the tracks apart), dropped (too many in flight), error (peer error answer, timeout, unreachable, or an answer without a digit per image).',
      labelNames: ['outcome'],
      registers,
    });
    for (const outcome of MIRROR_OUTCOMES) this.mirrorRequests.inc({ outcome }, 0);
    this.mirrorDisagreements = new Counter({ name: METRIC.mirrorDisagreements, help: 'Compared mirrored requests on which the peer answered another digit than this runtime for at least one image this runtime answered reliably.', registers });
  }

  /**
   * One prediction request answered with `code` after `seconds`. Every answer is counted by code;
   * the latency histogram and the p95 gauge (an HPA signal) see predictions answered only — 2xx and
   * the 504 of a missed deadline — never refusals (404/400/415/422/429/503), whose fast answers
   * would pull the p95 down exactly while the server sheds load.
   */
  request(code: number, seconds: number): void {
    this.requests.inc({ code: String(code) });
    this.requestRate.add();
    if (!countsAsAnswered(code)) return;
    this.duration.observe(seconds);
    this.latency.observe(seconds);
  }

  /** Images queued or in inference changed to `n`. */
  queueDepth(n: number): void {
    this.depth.set(n);
  }

  batch(images: number, seconds: number): void {
    this.batchSize.observe(images);
    this.inference.observe(seconds);
    this.imageRate.add(images);
  }

  prediction(digit: number, confidence: number, reliable: boolean): void {
    this.predictions.inc({ digit: String(digit), reliable: String(reliable) });
    this.confidence.observe(confidence);
    if (!reliable) this.unreliable.inc();
  }

  /** One mirrored request ended (runtime/app/mirror.ts). */
  mirror(outcome: MirrorOutcome, disagreed: boolean): void {
    this.mirrorRequests.inc({ outcome });
    if (outcome === 'compared' && disagreed) this.mirrorDisagreements.inc();
  }

  /** One image's preprocessing ended: done, failed, or cancelled before it started. */
  preprocess(outcome: 'done' | 'failed' | 'cancelled'): void {
    this.preprocessed.inc({ outcome });
  }

  figures(): ServiceFigures {
    return {
      requestsPerSecond: this.requestRate.perSecond(),
      latencyP95Seconds: this.latency.quantile(0.95),
      queueDepth: this.depth.average(),
      queueDepthNow: this.depth.current(),
      imagesPerSecond: this.imageRate.perSecond(),
    };
  }

  /** The text exposition format. */
  exposition(): Promise<string> {
    return this.registry.metrics();
  }
}
