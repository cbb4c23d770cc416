import Router from '@koa/router';
import type { Context } from 'koa';
import { RuntimeError } from '../errors.js';
import { readBody, parseJson } from './body.js';
import { instancesFromJson, type ImageInput } from './inputs.js';
import { multipartFiles } from './multipart.js';
import type { ServerDeps } from './deps.js';

const IMAGE_TYPES = ['image/png', 'image/jpeg', 'image/webp', 'image/gif', 'image/tiff', 'image/avif', 'image/heic', 'image/heif', 'image/bmp', 'application/octet-stream'];

/** The friendly API: `:predict` with raw images, multipart batches or JSON instances; model listing. */
export function v1Routes(deps: ServerDeps): Router {
  const r = new Router();
  const { model } = deps;
  const modelInfo = () => ({ name: model.name, storeName: model.storeName, version: model.version, track: model.track });

  r.get('/v1/models', (ctx) => {
    ctx.body = { models: [{ name: model.name, version: model.version, track: model.track }] };
  });
  r.get('/v1/models/:name', (ctx) => {
    requireModel(ctx.params.name, model.name);
    ctx.body = { ...modelInfo(), ...deps.describe() };
  });
  r.post('/v1/models/:target', async (ctx) => {
    const m = /^(.+):predict$/.exec(ctx.params.target);
    if (!m) throw new RuntimeError('model_not_found', `unknown operation ${ctx.params.target}; use POST /v1/models/${model.name}:predict`);
    requireModel(m[1], model.name);
    deps.ensureReady();
    const inputs = await readInputs(ctx, deps);
    const predictions = await deps.predictor.predict(inputs);
    ctx.set('X-Model-Version', model.version);
    ctx.set('X-Model-Track', model.track);
    ctx.body = { model: modelInfo(), predictions };
  });
  return r;
}

export function requireModel(name: string, served: string): void {
  if (name !== served) throw new RuntimeError('model_not_found', `model "${name}" is not served here; this server serves "${served}" (GET /v1/models)`);
}

async function readInputs(ctx: Context, deps: ServerDeps): Promise<ImageInput[]> {
  const { maxBodyBytes, maxImagesPerRequest } = deps.limits;
  const type = (ctx.get('content-type') || '').split(';')[0].trim().toLowerCase();
  const body = await readBody(ctx, maxBodyBytes);
  if (type === 'application/json') return instancesFromJson(parseJson(body), maxImagesPerRequest);
  if (type === 'multipart/form-data') {
    const files = await multipartFiles(body, ctx.get('content-type'), maxImagesPerRequest);
    if (files.length > maxImagesPerRequest) throw new RuntimeError('too_many_images', `${files.length} images in one request; at most ${maxImagesPerRequest} (MAX_IMAGES_PER_REQUEST)`);
    return files.map((bytes) => ({ kind: 'bytes' as const, bytes }));
  }
  if (type === '' && body.length === 0) throw new RuntimeError('empty_body', 'the request has no body; send an image (e.g. Content-Type: image/png), multipart/form-data or {"instances": [...]}');
  if (!IMAGE_TYPES.includes(type)) {
    throw new RuntimeError('unsupported_media_type', `Content-Type "${type || '(none)'}" is not accepted; send image/png, image/jpeg, image/webp, image/gif, image/tiff, image/avif, multipart/form-data or application/json`);
  }
  if (body.length === 0) throw new RuntimeError('empty_body', 'the image body is empty');
  return [{ kind: 'bytes', bytes: body }];
}
