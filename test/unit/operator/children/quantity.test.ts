import { msToSecondsQuantity, toQuantity } from '../../../../operator/children/quantity.js';
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
