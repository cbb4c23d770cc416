import Router from '@koa/router';
import { PACKAGE_VERSION } from '../../package-root.js';
import type { Context } from 'koa';
import { RuntimeError } from '../../errors.js';
import { isMirrored, MIRROR_HEADER } from '../../app/mirror.js';
import { requireModelName, requireService, type AppDeps } from '../app-deps.js';
import { parseJsonBody } from '../body/json-instances.js';
import { inferToInputs } from '../body/oip-inputs.js';
import { readLimited } from '../body/read-limited.js';
import { OIP_OUTPUTS, oipInferBody } from '../format.js';
import { remainingMs, setModelHeaders } from './respond.js';


export const OIP_INPUTS = [
  { name: 'image', datatype: 'BYTES', shape: [-1] },
  { name: 'pixels', datatype: 'FP32', shape: [-1, 28, 28, 1] },
];

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
        platform: `tensorflowjs_layers_${s.info.backend}`,
        inputs: OIP_INPUTS,
        outputs: OIP_OUTPUTS.map((o) => ({ name: o.name, datatype: o.datatype, shape: [...o.shape] })),
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
      const parsed = inferToInputs(parseJsonBody(await readLimited(ctx.req, deps.config.maxBodyBytes)), deps.config.maxImagesPerRequest);
      ctx.state.images = parsed.inputs.length;
      const predictions = await s.predict(parsed.inputs, remainingMs(ctx, deps.config.requestTimeoutMs), { mirrored: isMirrored(ctx.get(MIRROR_HEADER)) });
      ctx.body = oipInferBody(s.served, predictions, parsed.request.id, parsed.outputs);
    });
  }
  return r;
}
