import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Snapshot } from './load.js';

/**
 * The journey's timeline: per step, when it ran, the durations that matter (apply → Ready,
 * rollout, scale-up, scale-down, ...) and the requests its load generator sent and saw fail.
 * Printed at the end and written to .cluster/journey-report.json for quoting.
 */

export const reportFile = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '.cluster', 'journey-report.json');

export interface StepRecord {
  step: string;
  startedAt: string;
  seconds?: number;
  /** Named durations in seconds, e.g. {"apply→Ready": 41.2}. */
  timings: Record<string, number>;
  load?: { sent: number; ok: number; failed: number; failures: Record<string, number>; skipped: number };
  notes: Record<string, unknown>;
  passed?: boolean;
}

export class Report {
  readonly started = Date.now();
  readonly steps: StepRecord[] = [];

  begin(step: string): StepRecord & { t0: number } {
    const rec = { step, startedAt: new Date().toISOString(), timings: {}, notes: {}, t0: Date.now() };
    this.steps.push(rec);
    return rec;
  }

  static time(rec: StepRecord, name: string, fromMs: number, toMs = Date.now()): number {
    const s = Math.round((toMs - fromMs) / 100) / 10;
    rec.timings[name] = s;
    return s;
  }

  static load(rec: StepRecord, s: Snapshot): void {
    const prev = rec.load;
    rec.load = {
      sent: (prev?.sent ?? 0) + s.sent, ok: (prev?.ok ?? 0) + s.ok, failed: (prev?.failed ?? 0) + s.failed,
      failures: { ...(prev?.failures ?? {}) }, skipped: (prev?.skipped ?? 0) + s.skipped,
    };
    for (const [k, v] of Object.entries(s.failures)) rec.load.failures[k] = (rec.load.failures[k] ?? 0) + v;
  }

  static end(rec: StepRecord & { t0: number }, passed: boolean): void {
    rec.seconds = Math.round((Date.now() - rec.t0) / 100) / 10;
    rec.passed = passed;
  }

  write(extra: Record<string, unknown>): string {
    const body = {
      finishedAt: new Date().toISOString(), totalSeconds: Math.round((Date.now() - this.started) / 1000), ...extra,
      steps: this.steps.map(({ t0: _t0, ...rest }: StepRecord & { t0?: number }) => rest),
    };
    fs.mkdirSync(path.dirname(reportFile), { recursive: true });
    fs.writeFileSync(reportFile, `${JSON.stringify(body, null, 2)}\n`);
    return this.table();
  }

  table(): string {
    const lines = ['journey timeline (seconds; requests sent / failed):'];
    for (const s of this.steps) {
      const timings = Object.entries(s.timings).map(([k, v]) => `${k} ${v}`).join(', ');
      const load = s.load ? `${s.load.sent} sent / ${s.load.failed} failed${s.load.failed ? ` ${JSON.stringify(s.load.failures)}` : ''}` : 'no load';
      lines.push(`  ${s.passed === false ? 'FAIL' : s.passed ? 'ok  ' : '--  '} ${s.step}: ${s.seconds ?? '?'} s; ${timings || '-'}; ${load}`);
    }
    return lines.join('\n');
  }
}
