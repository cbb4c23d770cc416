import type { Context, Next } from 'koa';
import { httpStatusOf, isRuntimeError, RuntimeError } from '../errors.js';
import type { Logger } from '../logger.js';

/** The one place a RuntimeError becomes an HTTP status and body (OIP shape on /v2, SPEC shape elsewhere). */
export function errorMiddleware(log: Logger) {
  return async (ctx: Context, next: Next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body == null) throw new RuntimeError('model_not_found', `no route for ${ctx.method} ${ctx.path}; see /openapi.json`);
    } catch (err) {
      const e = isRuntimeError(err) ? err : toRuntimeError(err);
      ctx.status = httpStatusOf[e.code];
      if (e.code === 'queue_full') ctx.set('Retry-After', String(e.details?.retryAfterSeconds ?? 1));
      ctx.body = ctx.path.startsWith('/v2') ? { error: e.message } : { error: { code: e.code, message: e.message } };
      if (ctx.status >= 500) log.error({ err, reqId: ctx.state.reqId, code: e.code }, 'request failed');
      else log.info({ reqId: ctx.state.reqId, code: e.code, status: ctx.status }, e.message);
    }
  };
}

function toRuntimeError(err: unknown): RuntimeError {
  const e = err as { status?: number; expose?: boolean; message?: string };
  if (e?.status === 413) return new RuntimeError('payload_too_large', e.message ?? 'body too large');
  if (e?.status && e.status >= 400 && e.status < 500 && e.expose) return new RuntimeError('invalid_image', e.message ?? 'bad request');
  return new RuntimeError('internal', 'internal error');
}
