import { readFileSync } from 'node:fs';
import Router from '@koa/router';
import { PACKAGE_VERSION } from '../../package-root.js';
import type { Context } from 'koa';
import { requireService, type AppDeps } from '../app-deps.js';
import { openApiDocument } from '../openapi.js';
import type { z } from 'zod';
import type { serviceFiguresSchema } from '../schemas/v1.js';

// Self-contained pages (no CDN: clusters and this project's CI reach none), read once at start-up.
const page = (name: string) => readFileSync(new URL(`../page/${name}`, import.meta.url), 'utf8');
const INDEX = page('index.html');
const DOCS = page('docs.html');
const CSP = "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; frame-ancestors 'none'";

function html(ctx: Context, body: string): void {
  ctx.type = 'html';
  ctx.set('Content-Security-Policy', CSP);
  ctx.set('Cache-Control', 'no-cache');
  ctx.body = body;
}

/** The drawing page, the API document and its interactive page, and the live figures the page polls. */
export function pageRoutes(deps: AppDeps): Router {
  const r = new Router();
  const started = performance.now();
  let openapi: object | undefined;
  r.get('/', (ctx) => html(ctx, INDEX));
  r.get('/docs', (ctx) => html(ctx, DOCS));
  r.get('/openapi.json', (ctx) => {
    openapi ??= openApiDocument({ modelName: deps.config.modelName, version: PACKAGE_VERSION });
    ctx.body = openapi;
  });
  r.get('/v1/stats', (ctx) => {
    const s = requireService(deps);
    const f = s.metrics.figures();
    const body: z.infer<typeof serviceFiguresSchema> = {
      model: { name: s.served.name, storeName: s.served.storeName, version: s.served.version, track: s.served.track },
      backend: s.info.backend,
      ready: deps.lifecycle.ready(),
      draining: deps.lifecycle.draining(),
      requestsPerSecond: f.requestsPerSecond,
      imagesPerSecond: f.imagesPerSecond,
      latencyP95Ms: f.latencyP95Seconds * 1000,
      queueDepth: f.queueDepth,
      queueDepthNow: s.batcher.depth,
      requestsInFlight: deps.lifecycle.requestsInFlight,
      uptimeSeconds: (performance.now() - started) / 1000,
    };
    ctx.set('Cache-Control', 'no-store');
    ctx.body = body;
  });
  return r;
}
