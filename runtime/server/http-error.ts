import { httpStatusOf, isRuntimeError, type RuntimeErrorCode } from '../errors.js';

/** An error as the HTTP edge answers it. */
export interface HttpError {
  status: number;
  code: RuntimeErrorCode;
  message: string;
  headers: Record<string, string>;
}

const CODE_OF_STATUS: Record<number, RuntimeErrorCode> = {
  400: 'invalid_request',
  404: 'route_not_found',
  405: 'method_not_allowed',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
};

/**
 * The one mapping from an error to status, code, message and headers. RuntimeErrors carry their
 * code; errors from Koa/http-errors keep their 4xx status; anything else is an internal error
 * whose details stay in the log, not in the answer. Pure.
 */
export function toHttpError(e: unknown): HttpError {
  if (isRuntimeError(e)) {
    const headers: Record<string, string> = {};
    const retry = e.details?.retryAfterSeconds;
    if (e.code === 'queue_full') headers['Retry-After'] = String(typeof retry === 'number' ? Math.max(1, Math.ceil(retry)) : 1);
    if (e.code === 'payload_too_large') headers.Connection = 'close';
    if (e.code === 'not_ready' || e.code === 'draining') headers['Retry-After'] = '5';
    const status = httpStatusOf[e.code] ?? 500;
    return { status, code: e.code, message: status === 500 ? 'internal error; see the server log' : e.message, headers };
  }
  const status = (e as { status?: unknown })?.status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const message = (e as { expose?: boolean }).expose && e instanceof Error ? e.message : `request refused (${status})`;
    return { status, code: CODE_OF_STATUS[status] ?? 'invalid_request', message, headers: {} };
  }
  return { status: 500, code: 'internal', message: 'internal error; see the server log', headers: {} };
}

/** OIP routes answer `{"error": "<message>"}`; every other route `{"error": {code, message}}`. */
export function errorBody(path: string, err: HttpError): object {
  return isOipPath(path) ? { error: err.message } : { error: { code: err.code, message: err.message } };
}

export function isOipPath(path: string): boolean {
  return path === '/v2' || path.startsWith('/v2/');
}
