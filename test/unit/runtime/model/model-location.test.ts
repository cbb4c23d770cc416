import path from 'node:path';
import { resolveModelLocation } from '../../../../runtime/model/model-location.js';

describe('resolveModelLocation', () => {
  it('resolves paths, relative or absolute, with or without model.json', () => {
    expect(resolveModelLocation('/m/x/1')).toEqual({ kind: 'file', dir: '/m/x/1' });
    expect(resolveModelLocation('/m/x/1/model.json')).toEqual({ kind: 'file', dir: '/m/x/1' });
    expect(resolveModelLocation('models/x/1')).toEqual({ kind: 'file', dir: path.resolve('models/x/1') });
  });

  it('resolves file:// URLs', () => {
    expect(resolveModelLocation('file:///mnt/models/x/2')).toEqual({ kind: 'file', dir: '/mnt/models/x/2' });
    expect(resolveModelLocation('file:///mnt/models/x/2/model.json')).toEqual({ kind: 'file', dir: '/mnt/models/x/2' });
  });

  it('turns http(s) URLs into a directory base ending in a slash', () => {
    const a = resolveModelLocation('https://h.example/m/x/3/model.json?sig=1');
    const b = resolveModelLocation('http://h.example:8080/m/x/3');
    expect(a.kind === 'http' && a.base.href).toBe('https://h.example/m/x/3/');
    expect(b.kind === 'http' && b.base.href).toBe('http://h.example:8080/m/x/3/');
  });

  it('rejects other schemes', () => {
    expect(() => resolveModelLocation('pvc://claim/x')).toThrow(/unsupported/);
    expect(() => resolveModelLocation('s3://b/k')).toThrow(/unsupported/);
  });
});
