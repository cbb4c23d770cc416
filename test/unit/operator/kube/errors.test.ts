import { ApiException } from '@kubernetes/client-node';
import { errorFromResponse, KubeError, toKubeError } from '../../../../operator/kube/errors.js';

describe('KubeError mapping', () => {
  it.each([
    [404, 'NotFound'],
    [409, 'Conflict'],
    [410, 'Gone'],
    [403, 'Forbidden'],
    [401, 'Forbidden'],
    [422, 'Invalid'],
    [400, 'Invalid'],
    [429, 'Unavailable'],
    [503, 'Unavailable'],
  ])('maps HTTP %i to %s', (status, code) => {
    expect(errorFromResponse(status, { message: 'm' }, 'apply x').code).toBe(code);
  });

  it('keeps the apiserver message', () => {
    const e = errorFromResponse(422, JSON.stringify({ kind: 'Status', message: 'spec.replicas: Invalid value' }), 'apply Deployment a/b');
    expect(e.message).toBe('apply Deployment a/b: spec.replicas: Invalid value');
    expect(e.retryable).toBe(false);
  });

  it('maps client-node ApiExceptions and network failures', () => {
    expect(toKubeError(new ApiException(409, 'conflict', { message: 'the object has been modified' }, {})).code).toBe('Conflict');
    const net = toKubeError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
    expect(net).toBeInstanceOf(KubeError);
    expect(net.code).toBe('Unavailable');
    expect(net.retryable).toBe(true);
    expect(toKubeError({ statusCode: 410 }).code).toBe('Gone');
  });
});
