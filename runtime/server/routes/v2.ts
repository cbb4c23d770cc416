import Router from '@koa/router';
import { PACKAGE_VERSION } from '../../package-root.js';
import type { Context } from 'koa';
import { RuntimeError } from '../../errors.js';
import { isMirrored, MIRROR_HEADER } from '../../app/mirror.js';
import type { RequestStages } from '../../app/predict.js';
import { sharedClock } from '../../app/preprocess-pool.js';
import { requireModelName, requireService, type AppDeps } from '../app-deps.js';
import { parseJsonBody } from '../body/json-instances.js';
import { headerLength, inferToInputs, type ParsedInfer } from '../body/oip-inputs.js';
import { readLimited } from '../body/read-limited.js';
import { oipInferAnswer } from '../format.js';
import { platformOf, tensorMetadata } from '../../oip/tensors.js';
import { logStages, remainingMs, setModelHeaders } from './respond.js';

/** The header of the binary tensor data extension: the JSON header's length; raw tensor bytes follow it. */
export const INFERENCE_HEADER = 'Inference-Header-Content-Length';

/** An infer body: JSON alone, or (with Inference-Header-Content-Length) a JSON header then raw tensor data. */
function parseInfer(body: Buffer, headerValue: string | undefined, maxImages: number): ParsedInfer {
  if (headerValue === undefined) return inferToInputs(parseJsonBody(body), maxImages);
  const n = headerLength(headerValue, body.length);
  return inferToInputs(parseJsonBody(body.subarray(0, n)), maxImages, body.subarray(n));
}

/** Name and, when given, version must be what this server serves (404 otherwise). */
function checkModel(deps: AppDeps, ctx: Context): void {
  requireModelName(deps, ctx.params.name);
  const version = ctx.params.version as string | undefined;
  if (version === undefined) return;
  const served = requireService(deps).served.version;
  if (version !== served) throw new RuntimeError('model_not_found', `model "${ctx.params.name}" version "${version}" is not served here; served: "${served}"`);
}

/** Open Inference Protocol (KServe v2) REST: server metadata and health, model metadata and readiness, infer. */
export function v2Routes(deps: AppDeps): Router {
  const r = new Router();
  const { lifecycle } = deps;
  r.get('/v2', (ctx) => {
    ctx.body = { name: 'digitserve', version: PACKAGE_VERSION, extensions: [] };
  });
  r.get('/v2/health/live', (ctx) => {
    ctx.status = lifecycle.live() ? 200 : 503;
    ctx.body = { live: lifecycle.live() };
  });
  r.get('/v2/health/ready', (ctx) => {
    ctx.status = lifecycle.ready() ? 200 : 503;
    ctx.body = { ready: lifecycle.ready() };
  });
  for (const prefix of ['/v2/models/:name', '/v2/models/:name/versions/:version']) {
    r.get(prefix, (ctx) => {
      checkModel(deps, ctx);
      const s = requireService(deps);
      ctx.body = {
        name: s.served.name,
        versions: [s.served.version],
        platform: platformOf(s.info.backend),
        ...tensorMetadata(),
      };
    });
    r.get(`${prefix}/ready`, (ctx) => {
      checkModel(deps, ctx);
      ctx.status = lifecycle.ready() ? 200 : 503;
      ctx.body = { name: ctx.params.name, ready: lifecycle.ready() };
    });
    r.post(`${prefix}/infer`, async (ctx) => {
      checkModel(deps, ctx);
      const s = requireService(deps);
      setModelHeaders(ctx, s.served);
      const body = await readLimited(ctx.req, deps.config.maxBodyBytes);
      const bodyRead = sharedClock();
      const parsed = parseInfer(body, ctx.headers[INFERENCE_HEADER.toLowerCase()] as string | undefined, deps.config.maxImagesPerRequest);
      ctx.state.images = parsed.inputs.length;
      const stages: RequestStages = { parsed: sharedClock() };
      const predictions = await s.predict(parsed.inputs, remainingMs(ctx, deps.config.requestTimeoutMs), { mirrored: isMirrored(ctx.get(MIRROR_HEADER)), stages });
      const answer = oipInferAnswer(s.served, predictions, parsed.request.id, parsed.outputs, parsed.binaryOutput);
      // where this request's time went, for its log line (serialising the answer is in `rest`)
      logStages(ctx, bodyRead, stages);
      if (!answer.binary) {
        ctx.body = answer.header;
        return;
      }
      const header = Buffer.from(JSON.stringify(answer.header));
      ctx.set(INFERENCE_HEADER, String(header.length));
      ctx.type = 'application/octet-stream';
      ctx.body = Buffer.concat([header, answer.binary]);
    });
  }
  return r;
}
