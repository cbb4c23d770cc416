/**
 * The MC-dropout ablation (#16 item 2): four confidence mappings fitted as the served one is (two
 * stages: P(right | digit) on the digits, P(digit) on digits vs non-digits) on the same rows — the
 * even-position validation digits, the validation digits under the fit kinds' shifts, and
 * Fashion-MNIST train images as non-digits — and evaluated on t10k, its shifts and the non-digits;
 * each row also gives the one-stage logistic on the same features for comparison.
 */
import { ABLATION, ablationFeatures, ablationLabel, auroc, coverageAt, fitAblation, r4, type AblationKey, type Scored } from '../../runtime/train/evaluation.js';
import { FIT_SHIFT_KINDS, SHIFTS } from '../../runtime/train/shifts.js';

export interface AblationInputs {
  validation: { rows: Scored[]; y: ArrayLike<number> };
  t10k: { rows: Scored[]; y: ArrayLike<number> };
  shifts: Record<string, { validation: Scored[]; t10k: Scored[] }>;
  valShiftY: ArrayLike<number>;
  testShiftY: ArrayLike<number>;
  ood: Record<string, Scored[]>;
  fashionFit: Scored[];
}

/** What a row says when the model is served without MC dropout. */
export const NOT_APPLICABLE = 'not applicable (uncertainty method none)';

export function ablationFigures(model: { mcDropout: boolean; featureDensity: boolean; samples: number }, d: AblationInputs): { rows: Record<string, unknown>; fitRows: number } {
  const rightOf = (rows: Scored[], y: ArrayLike<number>): boolean[] => rows.map((r, i) => r.digit === y[i]);
  const fitRows: Scored[] = [];
  const fitRight: boolean[] = [];
  const fitDigit: boolean[] = [];
  const addFit = (rows: Scored[], right: boolean[], digits = true): void => {
    fitRows.push(...rows);
    fitRight.push(...right);
    fitDigit.push(...rows.map(() => digits));
  };
  const valRight = rightOf(d.validation.rows, d.validation.y);
  addFit(d.validation.rows.filter((_, i) => i % 2 === 0), valRight.filter((_, i) => i % 2 === 0));
  for (const sh of SHIFTS.filter((s) => FIT_SHIFT_KINDS.includes(s.kind))) addFit(d.shifts[sh.name].validation, rightOf(d.shifts[sh.name].validation, d.valShiftY));
  addFit(d.fashionFit, d.fashionFit.map(() => false), false);

  const testRows = d.t10k.rows;
  const testRight = rightOf(testRows, d.t10k.y);
  const allShiftT = SHIFTS.flatMap((s) => d.shifts[s.name].t10k);
  const allShiftRight = SHIFTS.flatMap((s) => rightOf(d.shifts[s.name].t10k, d.testShiftY));
  const heldShifts = SHIFTS.filter((s) => !FIT_SHIFT_KINDS.includes(s.kind));
  const heldShiftT = heldShifts.flatMap((s) => d.shifts[s.name].t10k);
  const heldShiftRight = heldShifts.flatMap((s) => rightOf(d.shifts[s.name].t10k, d.testShiftY));
  const rows: Record<string, unknown> = {};
  for (const key of Object.keys(ABLATION) as AblationKey[]) {
    const features = ablationFeatures(key, model);
    if (!features) {
      rows[key] = { label: ABLATION[key].label, notApplicable: NOT_APPLICABLE };
      continue;
    }
    const conf = fitAblation(key, fitRows, fitRight, fitDigit, features);
    const oneStage = fitAblation(key, fitRows, fitRight, fitDigit, features, true);
    const oneStageT10k = testRows.map(oneStage);
    const c = testRows.map(conf);
    const rw = (set: Scored[], right: boolean[], f = conf): number => {
      const cc = set.map(f);
      return r4(auroc(cc.filter((_, i) => right[i]), cc.filter((_, i) => !right[i])));
    };
    const oodA: Record<string, number> = {};
    for (const [name, set] of Object.entries(d.ood)) oodA[name] = r4(auroc(c, set.map(conf)));
    rows[key] = {
      label: ablationLabel(key, model.samples),
      features,
      aurocRightVsWrong: { t10k: rw(testRows, testRight), t10kShifted: rw(allShiftT, allShiftRight), t10kShiftedHeldOutKinds: rw(heldShiftT, heldShiftRight) },
      // the same features in the one logistic on digits and non-digits together (the mapping before two stages)
      oneStage: { aurocRightVsWrong: { t10k: rw(testRows, testRight, oneStage), t10kShifted: rw(allShiftT, allShiftRight, oneStage) }, aurocDigitsVsOod: Object.fromEntries(Object.entries(d.ood).map(([name, set]) => [name, r4(auroc(oneStageT10k, set.map(oneStage)))])) },
      coverageAt99Precision: { t10k: coverageAt(c, testRight), t10kShifted: coverageAt(allShiftT.map(conf), allShiftRight), t10kShiftedHeldOutKinds: coverageAt(heldShiftT.map(conf), heldShiftRight) },
      // clean t10k is more than 99% right as a whole: its ranking shows at 99.9%
      coverageAt999Precision: { t10k: coverageAt(c, testRight, 0.999) },
      aurocDigitsVsOod: oodA,
    };
  }
  return { rows, fitRows: fitRows.length };
}
