import fc from 'fast-check';
import { RuntimeError, httpStatusOf, type RuntimeErrorCode } from '../../../../runtime/errors.js';
import { bodyKindOf, mediaTypeOf } from '../../../../runtime/server/body/body-kind.js';
import { decodeBase64Image } from '../../../../runtime/server/body/base64.js';
import { instancesToInputs } from '../../../../runtime/server/body/json-instances.js';
import { inferToInputs } from '../../../../runtime/server/body/oip-inputs.js';
import { oipInferBody, v1PredictBody } from '../../../../runtime/server/format.js';
import { errorBody, toHttpError } from '../../../../runtime/server/http-error.js';
import { isPredictionPath } from '../../../../runtime/server/request-context.js';
import { splitVerb } from '../../../../runtime/server/routes/v1.js';
import type { Prediction } from '../../../../runtime/app/predict.js';

const served = { name: 'postcodes', storeName: 'mnist-cnn', version: '3', track: 'stable' as const, samples: 30, reliabilityThreshold: 0.9, uncertainty: 'mc-dropout' as const };
const prediction = (digit: number, confidence: number): Prediction => {
  const probabilities = new Array(10).fill(0.01);
  probabilities[digit] = 0.91;
  return { digit, probability: 0.91, probabilities, predictiveEntropy: 0.4, expectedEntropy: 0.3, mutualInformation: 0.1, variationRatio: 0.05, stdDev: 0.02, confidence, evidence: { inkFraction: 0.2 }, reliable: confidence >= 0.9 };
};

describe('body kind from Content-Type', () => {
  it.each([
    ['image/png', { kind: 'image', declared: 'png' }],
    ['IMAGE/JPEG; q=1', { kind: 'image', declared: 'jpeg' }],
    ['image/webp', { kind: 'image', declared: 'webp' }],
    [undefined, { kind: 'image' }],
    ['application/octet-stream', { kind: 'image' }],
    ['application/x-www-form-urlencoded', { kind: 'image' }],
    ['multipart/form-data; boundary=x', { kind: 'multipart' }],
    ['application/json; charset=utf-8', { kind: 'json' }],
    ['application/vnd.api+json', { kind: 'json' }],
    ['text/plain', { kind: 'unsupported', mediaType: 'text/plain' }],
    ['image/bmp', { kind: 'unsupported', mediaType: 'image/bmp' }],
    ['image/svg+xml', { kind: 'unsupported', mediaType: 'image/svg+xml' }],
  ])('%s → %j', (type, kind) => {
    expect(bodyKindOf(type)).toEqual(kind);
  });
  it('strips parameters and case from the media type', () => {
    expect(mediaTypeOf(' Image/PNG ; foo=bar')).toBe('image/png');
    expect(mediaTypeOf(undefined)).toBe('');
  });
});

describe('error mapping (the one place a code becomes a status)', () => {
  it('maps every RuntimeError code to its SPEC status and a {code, message} body, OIP shape on /v2', () => {
    const expected: Partial<Record<RuntimeErrorCode, number>> = {
      invalid_image: 400, empty_body: 400, malformed_json: 400, model_not_found: 404, payload_too_large: 413, image_too_large: 413,
      unsupported_media_type: 415, invalid_tensor: 422, too_many_images: 422, queue_full: 429, not_ready: 503, draining: 503, deadline_exceeded: 504,
    };
    for (const [code, status] of Object.entries(expected)) {
      const err = toHttpError(new RuntimeError(code as RuntimeErrorCode, `because ${code}`));
      expect(err.status).toBe(status);
      expect(errorBody('/v1/models/x:predict', err)).toEqual({ error: { code, message: `because ${code}` } });
      expect(errorBody('/v2/models/x/infer', err)).toEqual({ error: `because ${code}` });
    }
    for (const status of Object.values(httpStatusOf)) expect(status).toBeGreaterThanOrEqual(400);
  });
  it('adds Retry-After from the queue hint, and Connection: close to an unread body over the limit', () => {
    expect(toHttpError(new RuntimeError('queue_full', 'full', { retryAfterSeconds: 2.2 })).headers['Retry-After']).toBe('3');
    expect(toHttpError(new RuntimeError('queue_full', 'full')).headers['Retry-After']).toBe('1');
    expect(toHttpError(new RuntimeError('payload_too_large', 'big')).headers.Connection).toBe('close');
  });
  it('hides the details of unexpected errors and keeps the 4xx of framework errors', () => {
    expect(toHttpError(new TypeError('x is undefined'))).toMatchObject({ status: 500, code: 'internal', message: expect.not.stringContaining('undefined') });
    expect(toHttpError(Object.assign(new Error('URI malformed'), { status: 400, expose: true }))).toMatchObject({ status: 400, message: 'URI malformed' });
  });
});

describe('inputs from JSON bodies', () => {
  it('turns {"b64"} instances into bytes and 28×28 arrays into pixels, labelled in order', () => {
    const rows = Array.from({ length: 28 }, (_, y) => Array.from({ length: 28 }, (_, x) => (x === y ? 1 : 0)));
    const inputs = instancesToInputs({ instances: [{ b64: Buffer.from('abc').toString('base64') }, rows] }, 5);
    expect(inputs[0]).toMatchObject({ kind: 'bytes', label: 'instances[0]' });
    expect(inputs[1]).toMatchObject({ kind: 'pixels', label: 'instances[1]' });
    expect((inputs[1] as { pixels: Float32Array }).pixels[29]).toBe(1);
  });
  it('reads OIP BYTES and FP32 inputs and refuses what does not fit, with codes', () => {
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return (e as RuntimeError).code;
      }
      return 'ok';
    };
    const px = (shape: number[], n: number, v = 0.5) => ({ inputs: [{ name: 'pixels', datatype: 'FP32', shape, data: new Array(n).fill(v) }] });
    expect(inferToInputs(px([2, 28, 28, 1], 1568), 4).inputs).toHaveLength(2);
    expect(code(() => inferToInputs(px([2, 28, 28, 1], 1568), 1))).toBe('too_many_images');
    expect(code(() => inferToInputs(px([1, 784], 784), 4))).toBe('invalid_tensor');
    expect(code(() => inferToInputs({ inputs: [{ name: 'image', datatype: 'BYTES', shape: [2], data: ['aGk='] }] }, 4))).toBe('invalid_tensor');
    expect(code(() => inferToInputs({ inputs: 'x' }, 4))).toBe('invalid_request');
  });
  it('decodes base64, base64url and data: URLs, and refuses anything else', () => {
    expect(decodeBase64Image('aGk=', 'x').toString()).toBe('hi');
    expect(decodeBase64Image('data:image/png;base64,aGk=', 'x').toString()).toBe('hi');
    expect(decodeBase64Image(Buffer.from([0xfb, 0xff]).toString('base64url'), 'x')).toEqual(Buffer.from([0xfb, 0xff]));
    expect(() => decodeBase64Image('not base64!', 'x')).toThrow(/not valid base64/);
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64, minLength: 1 }), (bytes) => decodeBase64Image(Buffer.from(bytes).toString('base64'), 'x').equals(Buffer.from(bytes))));
  });
});

describe('response formatting', () => {
  it('shapes :predict per SPEC §3: model block, uncertainty with method, samples and evidence', () => {
    const body = v1PredictBody(served, [prediction(8, 0.95)]);
    expect(body.model).toEqual({ name: 'postcodes', storeName: 'mnist-cnn', version: '3', track: 'stable' });
    expect(body.predictions[0]).toEqual({
      digit: 8, probability: 0.91, probabilities: expect.any(Array), confidence: 0.95, reliable: true,
      uncertainty: { method: 'mc-dropout', samples: 30, predictiveEntropy: 0.4, expectedEntropy: 0.3, mutualInformation: 0.1, variationRatio: 0.05, stdDev: 0.02, inkFraction: 0.2 },
    });
  });
  it('leaves the MC figures out for a model served without dropout (uncertainty method "none", SPEC §7)', () => {
    const body = v1PredictBody({ ...served, samples: 1, uncertainty: 'none' }, [prediction(8, 0.95)]);
    expect(body.predictions[0].uncertainty).toEqual({ method: 'none', inkFraction: 0.2 });
  });
  it('shapes OIP outputs with [n, 10] and [n] shapes, all or the ones asked for', () => {
    const body = oipInferBody(served, [prediction(1, 0.5), prediction(2, 0.99)], 'r');
    expect(body.outputs.map((o) => [o.name, o.datatype, o.shape])).toEqual([
      ['probabilities', 'FP32', [2, 10]], ['digit', 'INT32', [2]], ['confidence', 'FP32', [2]], ['reliable', 'BOOL', [2]], ['predictive_entropy', 'FP32', [2]], ['mutual_information', 'FP32', [2]],
    ]);
    expect(body.outputs[3].data).toEqual([false, true]);
    expect(oipInferBody(served, [prediction(1, 0.5)], undefined, ['digit'])).toEqual({ model_name: 'postcodes', model_version: '3', outputs: [{ name: 'digit', datatype: 'INT32', shape: [1], data: [1] }] });
  });
});

describe('routing helpers', () => {
  it('splits name:verb, also percent-encoded', () => {
    expect(splitVerb('mnist-cnn:predict')).toEqual({ name: 'mnist-cnn', verb: 'predict' });
    expect(splitVerb('mnist-cnn%3Apredict')).toEqual({ name: 'mnist-cnn', verb: 'predict' });
    expect(splitVerb('mnist-cnn')).toEqual({ name: 'mnist-cnn' });
  });
  it('counts only :predict and infer in the request metrics', () => {
    expect(isPredictionPath('/v1/models/a:predict')).toBe(true);
    expect(isPredictionPath('/v2/models/a/infer')).toBe(true);
    expect(isPredictionPath('/v2/models/a/versions/3/infer')).toBe(true);
    expect(isPredictionPath('/healthz')).toBe(false);
    expect(isPredictionPath('/v1/models/a')).toBe(false);
  });
});
