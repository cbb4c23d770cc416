import { status as GrpcStatus } from '@grpc/grpc-js';
import type { RuntimeErrorCode } from '../errors.js';

/** The gRPC status of each runtime error (SPEC §7): the HTTP statuses' counterparts. */
export const grpcStatusOf: Record<RuntimeErrorCode, GrpcStatus> = {
  invalid_image: GrpcStatus.INVALID_ARGUMENT,
  empty_body: GrpcStatus.INVALID_ARGUMENT,
  malformed_json: GrpcStatus.INVALID_ARGUMENT,
  model_not_found: GrpcStatus.NOT_FOUND,
  // gRPC's own answer to a message over the receive limit is RESOURCE_EXHAUSTED too
  payload_too_large: GrpcStatus.RESOURCE_EXHAUSTED,
  image_too_large: GrpcStatus.INVALID_ARGUMENT,
  unsupported_media_type: GrpcStatus.INVALID_ARGUMENT,
  invalid_tensor: GrpcStatus.INVALID_ARGUMENT,
  too_many_images: GrpcStatus.INVALID_ARGUMENT,
  queue_full: GrpcStatus.RESOURCE_EXHAUSTED,
  not_ready: GrpcStatus.UNAVAILABLE,
  draining: GrpcStatus.UNAVAILABLE,
  deadline_exceeded: GrpcStatus.DEADLINE_EXCEEDED,
  internal: GrpcStatus.INTERNAL,
  malformed_multipart: GrpcStatus.INVALID_ARGUMENT,
  invalid_request: GrpcStatus.INVALID_ARGUMENT,
  route_not_found: GrpcStatus.UNIMPLEMENTED,
  method_not_allowed: GrpcStatus.UNIMPLEMENTED,
};
