/**
 * The runtime's one error type: a value with a code. Only the HTTP edge turns a code into a
 * status and a body (via `httpStatusOf`); nothing deeper knows about HTTP.
 */

export type RuntimeErrorCode =
  | 'invalid_image' // undecodable, truncated or empty image
  | 'empty_body'
  | 'malformed_json'
  | 'model_not_found'
  | 'payload_too_large' // body bytes over MAX_BODY_BYTES
  | 'image_too_large' // decoded pixel count over MAX_INPUT_PIXELS
  | 'unsupported_media_type'
  | 'invalid_tensor' // wrong shape, NaN, out of range
  | 'too_many_images'
  | 'queue_full'
  | 'not_ready'
  | 'draining'
  | 'deadline_exceeded'
  | 'internal'
  // the HTTP edge's own refusals
  | 'malformed_multipart' // a multipart body busboy cannot parse
  | 'invalid_request' // well-formed JSON that does not match the request schema
  | 'route_not_found'
  | 'method_not_allowed';

export const httpStatusOf: Record<RuntimeErrorCode, number> = {
  invalid_image: 400,
  empty_body: 400,
  malformed_json: 400,
  model_not_found: 404,
  payload_too_large: 413,
  image_too_large: 413,
  unsupported_media_type: 415,
  invalid_tensor: 422,
  too_many_images: 422,
  queue_full: 429,
  not_ready: 503,
  draining: 503,
  deadline_exceeded: 504,
  internal: 500,
  malformed_multipart: 400,
  invalid_request: 422,
  route_not_found: 404,
  method_not_allowed: 405,
};

export class RuntimeError extends Error {
  constructor(
    readonly code: RuntimeErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'RuntimeError';
  }
}

/** True for a RuntimeError, also across module copies (jest VM contexts, worker threads). */
export function isRuntimeError(e: unknown): e is RuntimeError {
  return (
    e instanceof RuntimeError ||
    (e instanceof Error && e.name === 'RuntimeError' && typeof (e as RuntimeError).code === 'string')
  );
}
