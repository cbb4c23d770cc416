import Router from '@koa/router';
import type { ServerDeps } from './deps.js';

/** Liveness, readiness (model loaded and warmed, not draining) and live figures for the page. */
export function healthRoutes(deps: ServerDeps): Router {
  const r = new Router();
  r.get('/healthz', (ctx) => {
    ctx.status = deps.live() ? 200 : 503;
    ctx.body = { status: deps.live() ? 'ok' : 'failing' };
  });
  r.get('/readyz', (ctx) => {
    ctx.status = deps.ready() ? 200 : 503;
    ctx.body = { status: deps.ready() ? 'ready' : 'not ready' };
  });
  r.get('/v1/stats', (ctx) => {
    ctx.body = { backend: deps.backend, model: deps.model, ...deps.metrics.figures() };
  });
  return r;
}
