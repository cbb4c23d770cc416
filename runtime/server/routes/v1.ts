import Router from '@koa/router';
import type { Context } from 'koa';
import { RuntimeError } from '../../errors.js';
import { isMirrored, MIRROR_HEADER } from '../../app/mirror.js';
import type { RequestStages } from '../../app/predict.js';
import { sharedClock } from '../../app/preprocess-pool.js';
import { requireModelName, requireService, type AppDeps } from '../app-deps.js';
import { ACCEPTED_CONTENT_TYPES } from '../body/body-kind.js';
import { readPredictInputs } from '../body/predict-inputs.js';
import { v1PredictBody } from '../format.js';
import type { z } from 'zod';
import type { modelMetadataSchema } from '../schemas/v1.js';
import { logStages, setModelHeaders, remainingMs } from './respond.js';

/** `model:verb` from the path segment (the colon may arrive percent-encoded). */
export function splitVerb(segment: string): { name: string; verb?: string } {
  const s = decodeURIComponent(segment);
  const i = s.lastIndexOf(':');
  return i < 0 ? { name: s } : { name: s.slice(0, i), verb: s.slice(i + 1) };
}

function modelMetadata(deps: AppDeps): z.infer<typeof modelMetadataSchema> {
  const s = requireService(deps);
  const { config: c } = deps;
  const meta = s.info.metadata;
  return {
    name: s.served.name,
    storeName: s.served.storeName,
    version: s.served.version,
    track: s.served.track,
    ready: deps.lifecycle.ready(),
    backend: s.info.backend,
    source: s.info.source,
    samples: s.served.samples,
    reliabilityThreshold: s.served.reliabilityThreshold,
    input: { accepted: [...ACCEPTED_CONTENT_TYPES], shape: [...meta.input.shape], description: meta.input.description },
    labels: meta.labels,
    inference: {
      method: s.served.uncertainty,
      samples: s.served.samples,
      reliabilityThreshold: s.served.reliabilityThreshold,
      maxBatchSize: c.maxBatchSize,
      batchTimeoutMs: c.batchTimeoutMs,
    },
    limits: {
      maxBodyBytes: c.maxBodyBytes,
      maxInputPixels: c.maxInputPixels,
      maxImagesPerRequest: c.maxImagesPerRequest,
      maxQueue: c.maxQueue,
      requestTimeoutMs: c.requestTimeoutMs,
    },
    ...(meta.calibration ? { calibration: { method: meta.calibration.method, features: meta.calibration.features, nonDigitShare: meta.calibration.nonDigitShare, ...(meta.calibration.digit ? { assumedNonDigitShare: meta.calibration.digit.assumedNonDigitShare } : {}), samples: meta.calibration.samples, fitSet: meta.calibration.fitSet } } : {}),
    training: meta.training,
    evaluation: meta.evaluation,
  };
}

async function predict(ctx: Context, deps: AppDeps): Promise<void> {
  const s = requireService(deps);
  setModelHeaders(ctx, s.served); // also on refusals: which version and track said no
  const mirrored = isMirrored(ctx.get(MIRROR_HEADER));
  // sampled before the body is read: only a sampled request's body is kept; a mirrored one is never mirrored onward
  const mirror = !mirrored && s.mirror?.sample() ? s.mirror : undefined;
  let body: Buffer | undefined;
  const inputs = await readPredictInputs(ctx, deps.config, mirror ? (b) => (body = b) : undefined);
  const bodyRead = sharedClock();
  ctx.state.images = inputs.length;
  const stages: RequestStages = {};
  const predictions = await s.predict(inputs, remainingMs(ctx, deps.config.requestTimeoutMs), { mirrored, stages, handOverBytes: !mirror });
  ctx.body = v1PredictBody(s.served, predictions);
  // where this request's time went, for its log line
  logStages(ctx, bodyRead, stages);
  if (mirror && body) {
    const req = { path: ctx.originalUrl, contentType: ctx.get('content-type'), body, answers: predictions.map((p) => ({ digit: p.digit, reliable: p.reliable })) };
    // after our client has the whole answer: the mirror never delays nor fails it
    ctx.res.once('finish', () => void mirror.send(req));
  }
}

/** The friendly API (TF Serving / KServe v1 style): model list, metadata and `:predict`. */
export function v1Routes(deps: AppDeps): Router {
  const r = new Router();
  r.get('/v1/models', (ctx) => {
    const s = requireService(deps);
    ctx.body = { models: [{ name: s.served.name, version: s.served.version, track: s.served.track }] };
  });
  r.get('/v1/models/:model', (ctx) => {
    const { name, verb } = splitVerb(ctx.params.model);
    requireModelName(deps, name);
    if (verb !== undefined) throw new RuntimeError('method_not_allowed', `use POST for :${verb}`);
    ctx.body = modelMetadata(deps);
  });
  r.post('/v1/models/:model', async (ctx) => {
    const { name, verb } = splitVerb(ctx.params.model);
    requireModelName(deps, name);
    if (verb !== 'predict') throw new RuntimeError('route_not_found', `unknown operation ${verb === undefined ? '(none)' : `:${verb}`}; use POST /v1/models/${name}:predict`);
    await predict(ctx, deps);
  });
  return r;
}
