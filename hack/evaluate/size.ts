/**
 * How much the evaluation measures. The full size is what the README's table comes from (~680 s
 * native on the default model); the quick size (`--quick`, for tests and a first look at an
 * imported model) measures every row on fewer images and draws. evaluation.json records the sizes
 * used and a `mode`, so a quick table is never taken for the full one.
 */
export interface EvaluationSize {
  /** Clean digits per set (validation, t10k), evenly spaced; Infinity: every digit. */
  cleanDigits: number;
  /** Digits per shift variant, from validation and from t10k each (evenly spaced). */
  shiftDigits: number;
  /** t10k digits per class rendered as each photo variant. */
  photoPerClass: number;
  /** Images per non-digit set at most (Fashion-MNIST t10k, letters, noise, blank); Infinity: all. */
  nonDigits: number;
  /** Fashion-MNIST train images among the ablation mappings' fit rows. */
  ablationFashion: number;
  /** MC draws T at most (the model's own T when it is lower). */
  maxSamples: number;
  /** MC draws T exactly (`--samples`), instead of the model's T capped by maxSamples. */
  samples?: number;
}

export const FULL_SIZE: EvaluationSize = { cleanDigits: Infinity, shiftDigits: 500, photoPerClass: 5, nonDigits: Infinity, ablationFashion: 3000, maxSamples: Infinity };
export const QUICK_SIZE: EvaluationSize = { cleanDigits: 500, shiftDigits: 50, photoPerClass: 1, nonDigits: 300, ablationFashion: 300, maxSamples: 10 };

/** The command-line options that set the size (npm run evaluate; npm run calibrate / import pass --quick on). */
export const SIZE_OPTIONS = {
  quick: { type: 'boolean', default: false },
  'clean-digits': { type: 'string' },
  'shift-images': { type: 'string' },
  'photo-per-class': { type: 'string' },
  'non-digits': { type: 'string' },
  samples: { type: 'string' },
} as const;

export const SIZE_USAGE = `  [--quick (${describe(QUICK_SIZE)}; default: the full size, ${describe(FULL_SIZE)})]
  [--clean-digits N] [--shift-images N] [--photo-per-class N] [--non-digits N] [--samples T] (each overrides one size)`;

function describe(s: EvaluationSize): string {
  const all = (v: number, what: string): string => (v === Infinity ? `every ${what}` : `${v} ${what}`);
  return `${all(s.cleanDigits, 'clean digit')} per set, ${s.shiftDigits} digits per shift variant, ${s.photoPerClass} per class per photo variant, ${all(s.nonDigits, 'non-digit')} per set, ${s.maxSamples === Infinity ? "the model's T" : `T ≤ ${s.maxSamples}`}`;
}

type SizeValues = { quick?: boolean } & { [K in Exclude<keyof typeof SIZE_OPTIONS, 'quick'>]?: string };

/** The size the options ask for; throws on a value that is not a count. */
export function sizeFromOptions(values: SizeValues): EvaluationSize {
  const base = values.quick ? QUICK_SIZE : FULL_SIZE;
  const count = (flag: keyof SizeValues, fallback: number, min: number): number => {
    const v = values[flag];
    if (v === undefined) return fallback;
    const n = Number(v);
    if (typeof v !== 'string' || !Number.isInteger(n) || n < min) throw new Error(`--${flag} must be an integer ≥ ${min}, got ${String(v)}`);
    return n;
  };
  return {
    cleanDigits: count('clean-digits', base.cleanDigits, 20),
    shiftDigits: count('shift-images', base.shiftDigits, 10),
    photoPerClass: count('photo-per-class', base.photoPerClass, 0),
    nonDigits: count('non-digits', base.nonDigits, 20),
    ablationFashion: base.ablationFashion,
    maxSamples: base.maxSamples,
    ...(values.samples === undefined ? {} : { samples: count('samples', 0, 1) }),
  };
}

/** The draws T the evaluation uses for a model served at `modelT` (1 without MC dropout). */
export function drawsFor(s: EvaluationSize, modelT: number, mcDropout: boolean): number {
  if (!mcDropout) return 1;
  return s.samples ?? Math.min(modelT, s.maxSamples);
}

/** 'full' when every size is the full one, 'quick' when every size is the quick one, else 'custom'. */
export function sizeMode(s: EvaluationSize): 'full' | 'quick' | 'custom' {
  const same = (a: EvaluationSize): boolean => s.samples === undefined && (Object.keys(a) as (keyof EvaluationSize)[]).every((k) => a[k] === s[k]);
  return same(FULL_SIZE) ? 'full' : same(QUICK_SIZE) ? 'quick' : 'custom';
}
