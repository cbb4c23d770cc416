import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AnalysisRecord } from './analysis/record.js';
import { PHASES } from './analysis/step.js';
import type { DigitModel } from './api/types.js';

/** The operator's Prometheus metrics, named as controller-runtime names them where it has a name. */
export class OperatorMetrics {
  readonly registry = new Registry();
  readonly reconcileTotal = new Counter({
    name: 'controller_runtime_reconcile_total',
    help: 'Total number of reconciliations per controller and result.',
    labelNames: ['controller', 'result'] as const,
    registers: [this.registry],
  });
  readonly reconcileErrors = new Counter({
    name: 'controller_runtime_reconcile_errors_total',
    help: 'Total number of reconciliation errors per controller.',
    labelNames: ['controller'] as const,
    registers: [this.registry],
  });
  readonly reconcileTime = new Histogram({
    name: 'controller_runtime_reconcile_time_seconds',
    help: 'Length of time per reconciliation per controller.',
    labelNames: ['controller'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly activeWorkers = new Gauge({
    name: 'controller_runtime_active_workers',
    help: 'Number of currently used workers per controller.',
    labelNames: ['controller'] as const,
    registers: [this.registry],
  });
  readonly workqueueDepth = new Gauge({
    name: 'workqueue_depth',
    help: 'Current depth of the work queue.',
    labelNames: ['name'] as const,
    registers: [this.registry],
  });
  readonly workqueueAdds = new Counter({
    name: 'workqueue_adds_total',
    help: 'Total number of adds handled by the work queue.',
    labelNames: ['name'] as const,
    registers: [this.registry],
  });
  readonly workqueueRetries = new Counter({
    name: 'workqueue_retries_total',
    help: 'Total number of retries handled by the work queue.',
    labelNames: ['name'] as const,
    registers: [this.registry],
  });
  readonly leaderStatus = new Gauge({
    name: 'leader_election_master_status',
    help: '1 while this instance holds the leader Lease, else 0.',
    labelNames: ['name'] as const,
    registers: [this.registry],
  });
  readonly restRequests = new Counter({
    name: 'rest_client_requests_total',
    help: 'Kubernetes API requests by HTTP method and status code.',
    labelNames: ['code', 'method'] as const,
    registers: [this.registry],
  });
  readonly childWrites = new Counter({
    name: 'digitserve_operator_child_writes_total',
    help: 'Writes of DigitModel children and status by kind and operation (apply, delete).',
    labelNames: ['kind', 'operation'] as const,
    registers: [this.registry],
  });

  // canary analysis (SPEC §7), exported by the leader for every DigitModel with spec.canary.analysis
  readonly analysisWeight = new Gauge({
    name: 'digitserve_operator_canary_analysis_weight',
    help: 'Canary weight in force under canary analysis (status.canary.analysisWeight), percent.',
    labelNames: ['namespace', 'model'] as const,
    registers: [this.registry],
  });
  readonly analysisPhase = new Gauge({
    name: 'digitserve_operator_canary_analysis_phase',
    help: 'Canary analysis phase: 1 for the current phase (Progressing, Paused, Promoted, Aborted), 0 for the others.',
    labelNames: ['namespace', 'model', 'phase'] as const,
    registers: [this.registry],
  });
  readonly analysisStep = new Gauge({
    name: 'digitserve_operator_canary_analysis_step',
    help: 'Passing judgements of the canary analysis so far (status.canary.step).',
    labelNames: ['namespace', 'model'] as const,
    registers: [this.registry],
  });
  readonly analysisFailures = new Gauge({
    name: 'digitserve_operator_canary_analysis_failures',
    help: 'Failed judgements of the canary analysis so far (status.canary.failures).',
    labelNames: ['namespace', 'model'] as const,
    registers: [this.registry],
  });
  readonly analysisCheckValue = new Gauge({
    name: 'digitserve_operator_canary_check_value',
    help: "A check's value over the last judged window, per track (canary, stable); latencyP95 in milliseconds, the others ratios 0-1.",
    labelNames: ['namespace', 'model', 'check', 'track'] as const,
    registers: [this.registry],
  });
  readonly analysisCheckLimit = new Gauge({
    name: 'digitserve_operator_canary_check_limit',
    help: "A check's limit in force (spec.canary.analysis.checks or its default); same units as the value.",
    labelNames: ['namespace', 'model', 'check'] as const,
    registers: [this.registry],
  });
  readonly analysisCheckPassing = new Gauge({
    name: 'digitserve_operator_canary_check_verdict',
    help: "A check's last verdict: 1 Pass, 0 Inconclusive, -1 Fail.",
    labelNames: ['namespace', 'model', 'check'] as const,
    registers: [this.registry],
  });
  readonly analysisJudgements = new Counter({
    name: 'digitserve_operator_canary_judgements_total',
    help: 'Judgements of canary analysis windows by verdict (Pass, Fail, Inconclusive).',
    labelNames: ['namespace', 'model', 'verdict'] as const,
    registers: [this.registry],
  });

  /** The analysis gauges of every DigitModel under analysis, replacing what was exported before. */
  exportAnalysis(records: readonly { dm: DigitModel; record: AnalysisRecord }[]): void {
    this.resetAnalysis();
    for (const { dm, record } of records) {
      const id = { namespace: dm.metadata.namespace, model: dm.metadata.name };
      this.analysisWeight.set(id, record.state.analysisWeight);
      this.analysisStep.set(id, record.state.step);
      this.analysisFailures.set(id, record.state.failures);
      for (const phase of PHASES) this.analysisPhase.set({ ...id, phase }, record.state.phase === phase ? 1 : 0);
      for (const c of record.checks ?? []) {
        const check = { ...id, check: c.name };
        if (c.canary !== undefined) this.analysisCheckValue.set({ ...check, track: 'canary' }, c.canary);
        if (c.stable !== undefined) this.analysisCheckValue.set({ ...check, track: 'stable' }, c.stable);
        this.analysisCheckLimit.set(check, c.limit);
        this.analysisCheckPassing.set(check, c.verdict === 'Pass' ? 1 : c.verdict === 'Fail' ? -1 : 0);
      }
    }
  }

  /** No analysis gauges (a standby exports none). */
  resetAnalysis(): void {
    for (const g of [this.analysisWeight, this.analysisPhase, this.analysisStep, this.analysisFailures, this.analysisCheckValue, this.analysisCheckLimit, this.analysisCheckPassing]) g.reset();
  }

  constructor(opts: { processMetrics?: boolean } = {}) {
    if (opts.processMetrics) collectDefaultMetrics({ register: this.registry });
  }

  /** API requests that change state (POST, PUT, PATCH, DELETE) so far, across all resources. */
  async apiWrites(): Promise<number> {
    const m = await this.restRequests.get();
    return m.values.filter((v) => ['POST', 'PUT', 'PATCH', 'DELETE'].includes(String(v.labels.method))).reduce((n, v) => n + v.value, 0);
  }
}
