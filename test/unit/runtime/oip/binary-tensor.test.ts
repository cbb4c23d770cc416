import fc from 'fast-check';
import { isRuntimeError } from '../../../../runtime/errors.js';
import { status } from '@grpc/grpc-js';
import { mapEntryName } from '../../../../runtime/grpc/reflection-descriptors.js';
import { grpcStatusOf } from '../../../../runtime/grpc/status.js';
import { decodeBytesElements, decodeFp32, encodeBytesElements, encodeFixed } from '../../../../runtime/oip/binary-tensor.js';

const codeOf = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return isRuntimeError(e) ? e.code : String(e);
  }
  return 'none';
};

describe('raw tensor layouts (binary tensor data extension, raw_input_contents)', () => {
  it('BYTES elements round-trip through their uint32 little-endian length prefixes', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 8 }), (arrays) => {
        const elements = arrays.map((a) => Buffer.from(a));
        const raw = encodeBytesElements(elements);
        expect(raw.length).toBe(elements.reduce((n, e) => n + 4 + e.length, 0));
        expect(decodeBytesElements(raw, 'x').map((b) => [...b])).toEqual(elements.map((b) => [...b]));
      }),
    );
    expect([...encodeBytesElements([Buffer.from('ab')])]).toEqual([2, 0, 0, 0, 97, 98]);
  });

  it('refuses BYTES data cut inside a length prefix or an element', () => {
    expect(codeOf(() => decodeBytesElements(Buffer.from([1, 0]), 'x'))).toBe('invalid_tensor');
    expect(codeOf(() => decodeBytesElements(Buffer.from([3, 0, 0, 0, 1, 2]), 'x'))).toBe('invalid_tensor');
  });

  it('reads FP32 little-endian and refuses a partial float; writes FP32, INT32 and BOOL', () => {
    expect([...decodeFp32(Buffer.from(new Float32Array([0.5, 1]).buffer), 'x')]).toEqual([0.5, 1]);
    expect(codeOf(() => decodeFp32(Buffer.alloc(6), 'x'))).toBe('invalid_tensor');
    expect([...encodeFixed('INT32', [7, -1])]).toEqual([7, 0, 0, 0, 255, 255, 255, 255]);
    expect([...encodeFixed('BOOL', [true, false])]).toEqual([1, 0]);
    expect(encodeFixed('FP32', [0.25]).readFloatLE(0)).toBe(0.25);
  });
});

describe('gRPC edge mappings', () => {
  it('answers the SPEC status codes: shape and image errors invalid, full queue exhausted, draining unavailable', () => {
    expect(grpcStatusOf.invalid_tensor).toBe(status.INVALID_ARGUMENT);
    expect(grpcStatusOf.invalid_image).toBe(status.INVALID_ARGUMENT);
    expect(grpcStatusOf.model_not_found).toBe(status.NOT_FOUND);
    expect(grpcStatusOf.queue_full).toBe(status.RESOURCE_EXHAUSTED);
    expect(grpcStatusOf.deadline_exceeded).toBe(status.DEADLINE_EXCEEDED);
    expect(grpcStatusOf.not_ready).toBe(status.UNAVAILABLE);
    expect(grpcStatusOf.draining).toBe(status.UNAVAILABLE);
  });

  it('names map entries as protoc does', () => {
    expect(mapEntryName('properties')).toBe('PropertiesEntry');
    expect(mapEntryName('raw_params')).toBe('RawParamsEntry');
    expect(mapEntryName('statuses')).toBe('StatusesEntry');
  });
});
