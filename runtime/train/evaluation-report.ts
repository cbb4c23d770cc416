/** Markdown tables from an evaluation.json (`npm run evaluate`). Pure: the README's table is this output. */

type Row = Record<string, number>;
interface EvaluationJson {
  model: { name: string; version: string };
  backend: string;
  samples: number;
  /** Absent in evaluations written before imported models were evaluated: 'mc-dropout'. */
  uncertainty?: 'mc-dropout' | 'none';
  reliabilityThreshold: number;
  /** Absent in evaluations written before the size was recorded: the full size. */
  size?: { mode: 'full' | 'quick' | 'custom'; validationDigits: number; t10kDigits: number; shiftDigitsPerVariant: number; photoDigitsPerVariant: number };
  sets: Record<string, Row>;
  shifts: Record<string, { kind: string; kindName: string; heldOutFromFit: boolean; validation: Row; t10k: Row }>;
  photoVariants?: { digitsPerVariant: number; variants: Record<string, Row> };
  ood: Record<string, Row>;
  ablation: Record<string, AblationRow>;
}
/** A mapping's figures, or only `notApplicable` when it needs MC dropout and the model has none. */
type AblationRow =
  | { label: string; notApplicable?: undefined; aurocRightVsWrong: Row; coverageAt99Precision: Row; coverageAt999Precision?: Row; aurocDigitsVsOod: Row; oneStage?: { aurocRightVsWrong: Row } }
  | { label: string; notApplicable: string };

// a figure that does not exist is NaN in memory and null in evaluation.json
const missing = (v: number | null | undefined): v is null | undefined => v === undefined || v === null || Number.isNaN(v);
const pct = (v: number | null | undefined, d = 2): string => (missing(v) ? '—' : `${(100 * v).toFixed(d)}%`);
const num = (v: number | null | undefined, d = 4): string => (missing(v) ? '—' : v.toFixed(d));
const table = (head: string[], rows: string[][]): string => [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');

/** A line that says an evaluation is not of the full size, so its table is never taken for the full one; '' when it is. */
export function sizeBanner(evJson: unknown): string {
  const s = (evJson as EvaluationJson).size;
  if (!s || s.mode === 'full') return '';
  return `**${s.mode === 'quick' ? 'Quick' : 'Reduced'} evaluation, not the full one**: ${s.validationDigits} validation and ${s.t10kDigits} t10k digits, ${s.shiftDigitsPerVariant} per shift variant, ${s.photoDigitsPerVariant} per photo variant (npm run evaluate without size options measures the full table).\n\n`;
}

/** The headline table (the README's): clean digits, shifts, photo variants, non-digits. */
export function headlineTable(evJson: unknown): string {
  const ev = evJson as EvaluationJson;
  const rows: string[][] = [];
  for (const [name, s] of Object.entries(ev.sets)) rows.push([name, String(s.images), pct(s.accuracy), num(s.nll), pct(s.ece), pct(s.reliableCoverage, 1), pct(s.reliablePrecision), pct(s.rightReliable, 1)]);
  for (const [name, s] of Object.entries(ev.shifts)) {
    const t = s.t10k;
    rows.push([`t10k ${name} (${s.kind}${s.heldOutFromFit ? ', held out' : ', fitted'})`, String(t.images), pct(t.accuracy), num(t.nll), pct(t.ece), pct(t.reliableCoverage, 1), pct(t.reliablePrecision), pct(t.rightReliable, 1)]);
  }
  for (const [name, s] of Object.entries(ev.photoVariants?.variants ?? {})) rows.push([`photo ${name}`, String(s.images), pct(s.accuracy), num(s.nll), pct(s.ece), pct(s.reliableCoverage, 1), pct(s.reliablePrecision), pct(s.rightReliable, 1)]);
  const digits = table(['digits', 'images', 'accuracy', 'NLL', 'ECE', 'reliable', 'reliable right', 'right answers reliable'], rows);
  const ood = table(
    ['non-digits vs t10k digits', 'images', 'AUROC confidence', 'AUROC max-probability', 'AUROC MI', 'reliable'],
    Object.entries(ev.ood).map(([name, o]) => [name, String(o.images), num(o.aurocConfidence), num(o.aurocMaxProbability), num(o.aurocMutualInformation), pct(o.reliableShare)]),
  );
  return `${sizeBanner(ev)}${digits}\n\n${ood}`;
}

/** The MC-dropout ablation table; a mapping that needs MC dropout on a model without says so. */
export function ablationTable(evJson: unknown): string {
  const ev = evJson as EvaluationJson;
  const oodNames = Object.keys(Object.values(ev.ablation).find((a) => a.notApplicable === undefined)?.aurocDigitsVsOod ?? {});
  // evaluations written before two-stage mappings have no one-stage comparison
  const oneStage = Object.values(ev.ablation).some((a) => a.notApplicable === undefined && a.oneStage !== undefined);
  const head = ['mapping', 'AUROC right/wrong t10k', ...(oneStage ? ['one-stage'] : []), 'shifted', 'held-out kinds', 'coverage @99.9% t10k', 'coverage @99% shifted', 'held-out kinds', ...oodNames.map((n) => `AUROC ${n}`)];
  return table(
    head,
    Object.entries(ev.ablation).map(([k, a]) =>
      a.notApplicable !== undefined
        ? [`(${k}) ${a.label}`, a.notApplicable, ...head.slice(2).map(() => '—')]
        : [
            `(${k}) ${a.label}`,
            num(a.aurocRightVsWrong.t10k),
            ...(oneStage ? [num(a.oneStage?.aurocRightVsWrong.t10k)] : []),
            num(a.aurocRightVsWrong.t10kShifted),
            num(a.aurocRightVsWrong.t10kShiftedHeldOutKinds),
            pct(a.coverageAt999Precision?.t10k, 1),
            pct(a.coverageAt99Precision.t10kShifted, 1),
            pct(a.coverageAt99Precision.t10kShiftedHeldOutKinds, 1),
            ...oodNames.map((n) => num(a.aurocDigitsVsOod[n])),
          ],
    ),
  );
}

export function evaluationTables(evJson: unknown): string {
  const ev = evJson as EvaluationJson;
  return `${ev.model.name}/${ev.model.version}, ${ev.backend}, uncertainty ${ev.uncertainty ?? 'mc-dropout'}, T = ${ev.samples}, reliability threshold ${ev.reliabilityThreshold}\n\n${headlineTable(ev)}\n\n${ablationTable(ev)}\n`;
}
