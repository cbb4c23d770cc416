import { parseMetadata } from '../../../../runtime/model/metadata.js';
import { tinyMetadata } from './tiny-model.js';

describe('parseMetadata', () => {
  it('accepts a complete metadata document and keeps its fields', () => {
    const m = parseMetadata(JSON.parse(JSON.stringify(tinyMetadata('4'))));
    expect(m.version).toBe('4');
    expect(m.inference.samples).toBe(5);
    expect(m.evidence.featureDensity?.dim).toBe(8);
  });

  it('defaults evidence to none when absent', () => {
    const raw = { ...tinyMetadata() } as Record<string, unknown>;
    delete raw.evidence;
    expect(parseMetadata(raw).evidence).toEqual({});
  });

  it('names the bad field when a required one is missing', () => {
    const raw = { ...tinyMetadata() } as Record<string, unknown>;
    delete raw.labels;
    expect(() => parseMetadata(raw)).toThrow(/labels/);
  });

  it('rejects samples outside 1..256 and a threshold outside [0, 1]', () => {
    const m = tinyMetadata();
    expect(() => parseMetadata({ ...m, inference: { samples: 0, reliabilityThreshold: 0.5 } })).toThrow(/inference\.samples/);
    expect(() => parseMetadata({ ...m, inference: { samples: 257, reliabilityThreshold: 0.5 } })).toThrow(/inference\.samples/);
    expect(() => parseMetadata({ ...m, inference: { samples: 30, reliabilityThreshold: 1.5 } })).toThrow(/reliabilityThreshold/);
  });

  it('rejects a calibration whose arrays disagree in length', () => {
    const m = tinyMetadata();
    expect(() => parseMetadata({ ...m, calibration: { ...m.calibration, coefficients: [1] } })).toThrow(/same length/);
  });

  it('accepts a two-stage mapping with a digit stage per feature, and refuses one without or with a short one', () => {
    const m = tinyMetadata();
    const n = m.calibration!.features.length;
    const digit = { mean: new Array(n).fill(0), scale: new Array(n).fill(1), coefficients: new Array(n).fill(0.5), intercept: 2, priorShift: 1.9, assumedNonDigitShare: 0.05 };
    expect(parseMetadata({ ...m, calibration: { ...m.calibration, method: 'logistic-two-stage', digit } }).calibration?.digit?.priorShift).toBe(1.9);
    expect(() => parseMetadata({ ...m, calibration: { ...m.calibration, method: 'logistic-two-stage' } })).toThrow(/digit stage/);
    expect(() => parseMetadata({ ...m, calibration: { ...m.calibration, method: 'logistic', digit } })).toThrow(/digit stage/);
    expect(() => parseMetadata({ ...m, calibration: { ...m.calibration, method: 'logistic-two-stage', digit: { ...digit, coefficients: [1] } } })).toThrow(/one entry per feature/);
    expect(() => parseMetadata({ ...m, calibration: { ...m.calibration, method: 'logistic-two-stage', digit: { ...digit, assumedNonDigitShare: 0 } } })).toThrow(/assumedNonDigitShare/);
  });

  it('rejects an unknown calibration feature', () => {
    const m = tinyMetadata();
    expect(() => parseMetadata({ ...m, calibration: { ...m.calibration, features: ['maxProbability', 'mutualInformation', 'logFeatureDistance', 'shoeSize'] } })).toThrow(/calibration\.features/);
  });

  it('rejects a feature density whose matrix does not match its dimension', () => {
    const m = tinyMetadata();
    const d = m.evidence.featureDensity!;
    expect(() => parseMetadata({ ...m, evidence: { featureDensity: { ...d, whitening: d.whitening.slice(1) } } })).toThrow(/density dimensions/);
  });

  it('rejects an input spec other than 28×28×1 bright-on-dark', () => {
    const m = tinyMetadata();
    expect(() => parseMetadata({ ...m, input: { ...m.input, shape: [32, 32, 1] } })).toThrow(/input\.shape/);
  });
});
