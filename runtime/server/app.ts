import Koa from 'koa';
import type { AppDeps } from './app-deps.js';
import { errorHandler } from './error-handler.js';
import { requestContext } from './request-context.js';
import { healthRoutes } from './routes/health.js';
import { pageRoutes } from './routes/pages.js';
import { v1Routes } from './routes/v1.js';
import { v2Routes } from './routes/v2.js';

/** The runtime's Koa app: request context, one error mapping, then the routes (health, v1, OIP v2, pages). */
export function createApp(deps: AppDeps): Koa {
  const app = new Koa();
  app.silent = true; // errors are answered and logged by errorHandler
  app.use(requestContext(deps));
  app.use(errorHandler(deps.logger));
  for (const router of [healthRoutes(deps), v1Routes(deps), v2Routes(deps), pageRoutes(deps)]) {
    app.use(router.routes());
    app.use(router.allowedMethods());
  }
  return app;
}
