import { randomUUID } from 'node:crypto';
import type { Context, Next } from 'koa';
import type { Logger } from 'pino';
import { isMirrored, MIRROR_HEADER } from '../app/mirror.js';
import type { AppDeps } from './app-deps.js';
import { handleUnreadBody } from './unread-body.js';

const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;
const REQUEST_ID = /^[\w.:/=+-]{1,128}$/;
const PREDICTION_PATH = /^\/v1\/models\/[^/]+(:|%3A)predict$|^\/v2\/models\/[^/]+(\/versions\/[^/]+)?\/infer$/i;
const QUIET_PATHS = new Set(['/healthz', '/readyz', '/v2/health/live', '/v2/health/ready', '/v1/stats']);

/** True for the routes the SLO metrics count: `:predict` and OIP `infer`. */
export function isPredictionPath(path: string): boolean {
  return PREDICTION_PATH.test(path);
}

/**
 * A request's identity from what the client sent (HTTP headers or gRPC metadata): its request id
 * when sane, else a new one; its W3C traceparent when well-formed; a child logger carrying both.
 */
export function requestIdentity(logger: Logger, givenId: string, givenTraceparent: string): { requestId: string; traceparent?: string; log: Logger } {
  const requestId = REQUEST_ID.test(givenId) ? givenId : randomUUID();
  const tp = givenTraceparent.trim().toLowerCase();
  const traceparent = TRACEPARENT.test(tp) ? tp : undefined;
  const log = logger.child({ requestId, ...(traceparent ? { traceparent, traceId: traceparent.slice(3, 35) } : {}) });
  return { requestId, ...(traceparent ? { traceparent } : {}), log };
}

/**
 * Outermost middleware: request id (X-Request-Id, taken from the client when sane) and W3C
 * traceparent, logged and echoed; a child logger on ctx.state.log; one log line per request;
 * the prediction metrics; and the in-flight count SIGTERM waits for.
 */
export function requestContext(deps: AppDeps) {
  return async (ctx: Context, next: Next) => {
    const started = performance.now();
    deps.lifecycle.requestStarted();
    const { requestId, traceparent, log } = requestIdentity(deps.logger, ctx.get('x-request-id'), ctx.get('traceparent'));
    ctx.state.requestId = requestId;
    ctx.state.startedAt = started;
    ctx.state.log = log;
    ctx.set('X-Request-Id', requestId);
    if (traceparent) ctx.set('traceparent', traceparent);
    try {
      await next();
    } finally {
      if (deps.lifecycle.draining()) ctx.set('Connection', 'close');
      // an answer before the whole body was read: drain a short rest, or close cleanly after the answer
      const unread = handleUnreadBody(ctx.req, ctx.res, (name, value) => ctx.set(name, value));
      if (unread) ctx.state.unreadBody = unread;
      const seconds = (performance.now() - started) / 1000;
      // a request mirrored from the other track is answered but left out of the SLO metrics (SPEC §7)
      if (ctx.method === 'POST' && isPredictionPath(ctx.path) && !isMirrored(ctx.get(MIRROR_HEADER))) deps.service()?.metrics.request(ctx.status, seconds);
      const line = { method: ctx.method, path: ctx.path, status: ctx.status, ms: Math.round(seconds * 10_000) / 10, images: ctx.state.images as number | undefined, unreadBody: ctx.state.unreadBody as string | undefined, stages: ctx.state.stages as Record<string, number> | undefined };
      if (QUIET_PATHS.has(ctx.path) && ctx.status < 500) ctx.state.log.debug(line, 'request');
      else ctx.state.log.info(line, 'request');
      deps.lifecycle.requestFinished();
    }
  };
}
