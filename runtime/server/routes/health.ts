import Router from '@koa/router';
import { RuntimeError } from '../../errors.js';
import type { AppDeps } from '../app-deps.js';

/** Kubernetes probes: liveness (process and engine alive) and readiness (model loaded and warmed, not draining). */
export function healthRoutes(deps: AppDeps): Router {
  const r = new Router();
  const { lifecycle } = deps;
  r.get('/healthz', (ctx) => {
    if (!lifecycle.live()) throw new RuntimeError('not_ready', `not live: ${lifecycle.failure()}`);
    ctx.body = { status: 'ok' };
  });
  r.get('/readyz', (ctx) => {
    if (lifecycle.draining()) throw new RuntimeError('draining', 'draining: the server is shutting down and finishing accepted requests');
    if (!lifecycle.ready()) {
      throw new RuntimeError('not_ready', lifecycle.live() ? 'not ready: the model is loading and warming up' : `not ready: ${lifecycle.failure()}`);
    }
    ctx.body = { status: 'ready' };
  });
  return r;
}
