import type { Context } from 'koa';
import { sharedClock } from '../../app/preprocess-pool.js';
import { stageDurations, type RequestStages } from '../../app/predict.js';
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

/** Where the request's time went, for its log line: its marks from arrival (sharedClock) to now. */
export function logStages(ctx: Context, bodyRead: number, stages: RequestStages): void {
  ctx.state.stages = stageDurations(performance.timeOrigin + (ctx.state.startedAt as number), bodyRead, stages, sharedClock());
}
