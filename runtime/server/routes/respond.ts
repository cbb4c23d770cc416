import type { Context } from 'koa';
import type { ServedModel } from '../../config.js';

/** SPEC §3: every prediction carries the version and track that answered it. */
export function setModelHeaders(ctx: Context, served: ServedModel): void {
  ctx.set('X-Model-Version', served.version);
  ctx.set('X-Model-Track', served.track);
}

/** What is left of the request's deadline (REQUEST_TIMEOUT_MS counted from arrival). */
export function remainingMs(ctx: Context, timeoutMs: number): number {
  return timeoutMs - (performance.now() - (ctx.state.startedAt as number));
}
