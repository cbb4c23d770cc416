import { msToSecondsQuantity, parseQuantity, sameQuantity, toQuantity } from '../../../../operator/children/quantity.js';
import { resolveModelUri } from '../../../../operator/children/model-uri.js';

describe('quantities', () => {
  it('writes canonical Kubernetes quantities', () => {
    expect(toQuantity(4)).toBe('4');
    expect(toQuantity(0.5)).toBe('500m');
    expect(toQuantity(2.25)).toBe('2250m');
    expect(msToSecondsQuantity(250)).toBe('250m');
    expect(msToSecondsQuantity(2000)).toBe('2');
    expect(msToSecondsQuantity(1500)).toBe('1500m');
  });
});

describe('resolveModelUri', () => {
  it('mounts pvc://<claim>/<path> and rewrites it to a file URI', () => {
    expect(resolveModelUri('pvc://models/mnist-cnn/3')).toEqual({ claim: 'models', runtimeUri: 'file:///mnt/models/mnist-cnn/3' });
    expect(resolveModelUri('pvc://models')).toEqual({ claim: 'models', runtimeUri: 'file:///mnt/models' });
  });
  it('leaves other schemes alone', () => {
    for (const uri of ['https://x/model.json', 'http://x/m', 'file:///models/m/1']) expect(resolveModelUri(uri)).toEqual({ runtimeUri: uri });
  });
});

describe('sameQuantity', () => {
  it.each([
    ['0.5', '500m'],
    ['1073741824', '1Gi'],
    ['1Gi', '1024Mi'],
    ['1e3', '1k'],
    ['1.5', '1500m'],
    [2, '2'],
    ['.5', '0.5'],
    ['0', '0m'],
    ['100M', '100000k'],
    ['1E', '1000P'],
    ['+1', '1'],
    ['1n', '0.000000001'],
  ])('%p equals %p', (a, b) => {
    expect(sameQuantity(a, b)).toBe(true);
    expect(sameQuantity(b, a)).toBe(true);
  });

  it.each([
    ['0.5', '501m'],
    ['1G', '1Gi'],
    ['1', '-1'],
    ['1m', '1M'],
    ['1x', '1x'],
    ['', '0'],
  ])('%p differs from %p', (a, b) => {
    expect(sameQuantity(a, b)).toBe(false);
  });

  it('parses exactly, without floating point', () => {
    expect(parseQuantity('0.1')).toEqual({ negative: false, mantissa: 1n, exp10: -1, exp2: 0 });
    expect(parseQuantity('3Ki')).toEqual({ negative: false, mantissa: 3n, exp10: 0, exp2: 10 });
    expect(sameQuantity('0.3', '300m')).toBe(true);
  });
});
