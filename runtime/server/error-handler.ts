import type { Context, Next } from 'koa';
import { RuntimeError } from '../errors.js';
import type { Logger } from '../logger.js';
import { errorBody, toHttpError } from './http-error.js';

/**
 * The one place errors become answers: status, headers and JSON body from `toHttpError`, in
 * the OIP shape on /v2 and `{"error": {code, message}}` elsewhere. Unmatched routes and methods
 * become errors here too, so every non-2xx answer has a JSON body.
 */
export function errorHandler(fallback: Logger) {
  return async (ctx: Context, next: Next) => {
    try {
      await next();
      if (ctx.body == null && ctx.status === 404) {
        throw new RuntimeError('route_not_found', `no route for ${ctx.method} ${ctx.path}; the API is described at /openapi.json`);
      }
      if (ctx.body == null && ctx.status === 405) {
        throw new RuntimeError('method_not_allowed', `${ctx.method} is not allowed on ${ctx.path}; allowed: ${ctx.response.get('Allow') || 'see /openapi.json'}`);
      }
    } catch (e) {
      const err = toHttpError(e);
      const log = (ctx.state.log as Logger | undefined) ?? fallback;
      if (err.status >= 500 && err.code === 'internal') log.error({ err: e }, 'request failed');
      else log.info({ code: err.code, status: err.status, reason: err.message }, 'request refused');
      ctx.status = err.status;
      for (const [k, v] of Object.entries(err.headers)) ctx.set(k, v);
      ctx.body = errorBody(ctx.path, err);
    }
  };
}
