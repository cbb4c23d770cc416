import Router from '@koa/router';
import { RuntimeError } from '../errors.js';
import { parseJson, readBody } from './body.js';
import { bytesFromBase64, pixelsFromArray, type ImageInput } from './inputs.js';
import type { ServerDeps } from './deps.js';

/** Open Inference Protocol (KServe v2) REST: server and model metadata, readiness, infer. */
export function v2Routes(deps: ServerDeps): Router {
  const r = new Router();
  const { model } = deps;
  const check = (name: string, version?: string) => {
    if (name !== model.name) throw new RuntimeError('model_not_found', `model "${name}" is not served here; this server serves "${model.name}"`);
    if (version !== undefined && version !== model.version) throw new RuntimeError('model_not_found', `model "${name}" has no version "${version}" here; served: "${model.version}"`);
  };
  const metadata = () => ({
    name: model.name,
    versions: [model.version],
    platform: `tensorflowjs_${deps.backend}`,
    inputs: [
      { name: 'image', datatype: 'BYTES', shape: [-1] },
      { name: 'pixels', datatype: 'FP32', shape: [-1, 28, 28, 1] },
    ],
    outputs: [
      { name: 'probabilities', datatype: 'FP32', shape: [-1, 10] },
      { name: 'digit', datatype: 'INT32', shape: [-1] },
      { name: 'confidence', datatype: 'FP32', shape: [-1] },
      { name: 'reliable', datatype: 'BOOL', shape: [-1] },
      { name: 'predictive_entropy', datatype: 'FP32', shape: [-1] },
      { name: 'mutual_information', datatype: 'FP32', shape: [-1] },
    ],
  });

  r.get('/v2', (ctx) => {
    ctx.body = { name: 'digitserve', version: '0.1.0', extensions: [] };
  });
  r.get('/v2/health/live', (ctx) => {
    ctx.status = deps.live() ? 200 : 503;
    ctx.body = { live: deps.live() };
  });
  r.get('/v2/health/ready', (ctx) => {
    ctx.status = deps.ready() ? 200 : 503;
    ctx.body = { ready: deps.ready() };
  });
  for (const prefix of ['/v2/models/:name', '/v2/models/:name/versions/:version']) {
    r.get(prefix, (ctx) => {
      check(ctx.params.name, ctx.params.version);
      ctx.body = metadata();
    });
    r.get(`${prefix}/ready`, (ctx) => {
      check(ctx.params.name, ctx.params.version);
      ctx.status = deps.ready() ? 200 : 503;
      ctx.body = { name: model.name, ready: deps.ready() };
    });
    r.post(`${prefix}/infer`, async (ctx) => {
      check(ctx.params.name, ctx.params.version);
      deps.ensureReady();
      const doc = parseJson(await readBody(ctx, deps.limits.maxBodyBytes)) as InferRequest;
      const inputs = inferInputs(doc, deps.limits.maxImagesPerRequest);
      const preds = await deps.predictor.predict(inputs);
      const n = preds.length;
      ctx.set('X-Model-Version', model.version);
      ctx.set('X-Model-Track', model.track);
      ctx.body = {
        model_name: model.name,
        model_version: model.version,
        ...(doc.id !== undefined ? { id: doc.id } : {}),
        outputs: [
          { name: 'probabilities', datatype: 'FP32', shape: [n, 10], data: preds.flatMap((p) => p.probabilities) },
          { name: 'digit', datatype: 'INT32', shape: [n], data: preds.map((p) => p.digit) },
          { name: 'confidence', datatype: 'FP32', shape: [n], data: preds.map((p) => p.confidence) },
          { name: 'reliable', datatype: 'BOOL', shape: [n], data: preds.map((p) => p.reliable) },
          { name: 'predictive_entropy', datatype: 'FP32', shape: [n], data: preds.map((p) => p.uncertainty.predictiveEntropy) },
          { name: 'mutual_information', datatype: 'FP32', shape: [n], data: preds.map((p) => p.uncertainty.mutualInformation) },
        ],
      };
    });
  }
  return r;
}

interface InferRequest {
  id?: string;
  inputs?: { name?: unknown; datatype?: unknown; shape?: unknown; data?: unknown }[];
}

const flatten = (v: unknown): unknown[] => (Array.isArray(v) ? v.flatMap(flatten) : [v]);

/** One of the inputs `image` (BYTES, base64 files) or `pixels` (FP32 [n,28,28,1]). */
export function inferInputs(doc: InferRequest, maxImages: number): ImageInput[] {
  if (!doc || typeof doc !== 'object' || !Array.isArray(doc.inputs) || doc.inputs.length !== 1) {
    throw new RuntimeError('invalid_tensor', 'send exactly one input: "image" (BYTES, base64-encoded image files) or "pixels" (FP32, shape [n, 28, 28, 1])');
  }
  const input = doc.inputs[0];
  const data = flatten(input.data);
  const shape = Array.isArray(input.shape) ? (input.shape as unknown[]) : [];
  if (input.name === 'image') {
    if (input.datatype !== 'BYTES') throw new RuntimeError('invalid_tensor', 'input "image" must have datatype BYTES');
    if (data.length === 0) throw new RuntimeError('invalid_tensor', 'input "image" has no data');
    if (data.length > maxImages) throw new RuntimeError('too_many_images', `${data.length} images in one request; at most ${maxImages} (MAX_IMAGES_PER_REQUEST)`);
    return data.map((d, i) => ({ kind: 'bytes', bytes: bytesFromBase64(d, `image[${i}]`) }));
  }
  if (input.name === 'pixels') {
    if (input.datatype !== 'FP32') throw new RuntimeError('invalid_tensor', 'input "pixels" must have datatype FP32');
    const n = Number(shape[0]);
    const okShape = shape.length === 4 && Number.isInteger(n) && n > 0 && shape[1] === 28 && shape[2] === 28 && shape[3] === 1;
    if (!okShape) throw new RuntimeError('invalid_tensor', `input "pixels" must have shape [n, 28, 28, 1]; got ${JSON.stringify(input.shape)}`);
    if (data.length !== n * 784) throw new RuntimeError('invalid_tensor', `input "pixels" has ${data.length} values; shape ${JSON.stringify(shape)} needs ${n * 784}`);
    if (n > maxImages) throw new RuntimeError('too_many_images', `${n} images in one request; at most ${maxImages} (MAX_IMAGES_PER_REQUEST)`);
    return Array.from({ length: n }, (_, i) => ({ kind: 'pixels' as const, pixels: pixelsFromArray(data.slice(i * 784, (i + 1) * 784), `pixels[${i}]`) }));
  }
  throw new RuntimeError('invalid_tensor', `unknown input ${JSON.stringify(input.name)}; the model's inputs are "image" (BYTES) and "pixels" (FP32 [-1, 28, 28, 1])`);
}
