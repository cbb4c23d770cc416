import { randomUUID } from 'node:crypto';
import Koa from 'koa';
import type { ServerDeps } from './deps.js';
import { errorMiddleware } from './errors-middleware.js';
import { healthRoutes } from './health.js';
import { docsRoutes } from './openapi.js';
import { pageRoutes } from './page.js';
import { v1Routes } from './v1.js';
import { v2Routes } from './v2.js';

const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

/** The runtime's Koa app: request ids and traceparent, one error mapping, every route. */
export function createApp(deps: ServerDeps): Koa {
  const app = new Koa();
  app.silent = true;
  app.use(async (ctx, next) => {
    const started = performance.now();
    ctx.state.reqId = ctx.get('x-request-id').slice(0, 128) || randomUUID();
    ctx.set('X-Request-Id', ctx.state.reqId);
    const tp = ctx.get('traceparent');
    if (TRACEPARENT.test(tp)) ctx.set('traceparent', tp);
    try {
      await next();
    } finally {
      const prediction = ctx.method === 'POST' && (ctx.path.endsWith(':predict') || ctx.path.endsWith('/infer'));
      const seconds = (performance.now() - started) / 1000;
      if (prediction) deps.metrics.request(ctx.status, seconds);
      deps.log.info({ reqId: ctx.state.reqId, traceparent: tp || undefined, method: ctx.method, path: ctx.path, status: ctx.status, ms: Math.round(seconds * 1000) }, 'request');
    }
  });
  app.use(errorMiddleware(deps.log));
  for (const r of [healthRoutes(deps), v1Routes(deps), v2Routes(deps), docsRoutes(deps), pageRoutes(deps)]) {
    app.use(r.routes());
    app.use(r.allowedMethods());
  }
  return app;
}
