import { z } from 'zod';
import { apiSchemas } from './schemas/registry.js';
import './schemas/v1.js';
import './schemas/oip.js';

/**
 * The OpenAPI 3.0 document of the HTTP API. Bodies come from the same zod schemas that validate
 * requests (runtime/server/schemas/), so the document cannot drift from the code.
 */

const ref = (id: string) => ({ $ref: `#/components/schemas/${id}` });
const json = (id: string) => ({ 'application/json': { schema: ref(id) } });
const binary = { schema: { type: 'string', format: 'binary' } };

const V1_ERRORS: [string, string][] = [
  ['400', 'undecodable or empty image, malformed JSON or multipart'],
  ['404', 'unknown model'],
  ['413', 'body (MAX_BODY_BYTES) or decoded pixels (MAX_INPUT_PIXELS) over the limit'],
  ['415', 'unsupported media type or image format'],
  ['422', 'well-formed but unusable: wrong shape, values outside 0..1, more than MAX_IMAGES_PER_REQUEST images'],
  ['429', 'queue full (MAX_QUEUE); see Retry-After'],
  ['503', 'not ready (model loading) or draining'],
  ['504', 'not answered within REQUEST_TIMEOUT_MS'],
];

function errors(schema: string, codes = V1_ERRORS) {
  return Object.fromEntries(codes.map(([code, description]) => [code, { description, content: json(schema) }]));
}

const modelHeaders = {
  'X-Model-Version': { schema: { type: 'string' }, description: 'Version that answered.' },
  'X-Model-Track': { schema: { type: 'string', enum: ['stable', 'canary'] }, description: 'Track that answered.' },
};

function componentSchemas(): Record<string, object> {
  const { schemas } = z.toJSONSchema(apiSchemas, { target: 'openapi-3.0', io: 'input', unrepresentable: 'any', uri: (id) => `#/components/schemas/${id}` });
  return Object.fromEntries(
    Object.entries(schemas).map(([id, s]) => {
      const { $id: _id, $schema: _schema, ...rest } = s as Record<string, unknown>;
      return [id, rest];
    }),
  );
}

export function openApiDocument(opts: { modelName: string; version: string }): object {
  const name = { name: 'name', in: 'path', required: true, schema: { type: 'string', example: opts.modelName }, description: 'The served model name (MODEL_NAME).' };
  const version = { name: 'version', in: 'path', required: true, schema: { type: 'string' }, description: 'The served model version.' };
  const oipErrors = errors('OipError');
  const paths: Record<string, object> = {
    '/v1/models/{name}:predict': {
      post: {
        operationId: 'predict',
        summary: 'Predict one or many images, each with MC-dropout uncertainty',
        description: 'A raw image body (Content-Type image/png, image/jpeg, … or application/octet-stream, sniffed), multipart/form-data with one or more file parts (any field name; several = a batch), or JSON instances.',
        parameters: [name],
        requestBody: {
          required: true,
          content: {
            'image/png': binary,
            'image/jpeg': binary,
            'image/webp': binary,
            'image/gif': binary,
            'image/tiff': binary,
            'image/avif': binary,
            'application/octet-stream': binary,
            'multipart/form-data': { schema: { type: 'object', properties: { image: { type: 'string', format: 'binary' } }, additionalProperties: { type: 'string', format: 'binary' } } },
            ...json('PredictJsonRequest'),
          },
        },
        responses: { '200': { description: 'One prediction per image, in request order.', headers: modelHeaders, content: json('PredictResponse') }, ...errors('Error') },
      },
    },
    '/v1/models': { get: { operationId: 'listModels', summary: 'The models this server serves', responses: { '200': { description: 'Served models.', content: json('ModelList') }, ...errors('Error', [V1_ERRORS[6]]) } } },
    '/v1/models/{name}': {
      get: { operationId: 'modelMetadata', summary: 'Model metadata, inference settings, limits and training figures', parameters: [name], responses: { '200': { description: 'Metadata.', content: json('ModelMetadata') }, ...errors('Error', [V1_ERRORS[1], V1_ERRORS[6]]) } },
    },
    '/v1/stats': { get: { operationId: 'stats', summary: 'Live service figures (req/s, p95, queue depth, backend)', responses: { '200': { description: 'Figures.', content: json('ServiceFigures') } } } },
    '/healthz': { get: { operationId: 'live', summary: 'Liveness', responses: { '200': { description: 'Alive.' }, ...errors('Error', [['503', 'the engine died']]) } } },
    '/readyz': { get: { operationId: 'ready', summary: 'Readiness: model loaded and warmed, not draining', responses: { '200': { description: 'Ready.' }, ...errors('Error', [['503', 'loading or draining']]) } } },
    '/v2': { get: { operationId: 'oipServerMetadata', summary: 'OIP server metadata', responses: { '200': { description: 'Server metadata.', content: json('OipServerMetadata') } } } },
    '/v2/health/live': { get: { operationId: 'oipLive', summary: 'OIP server liveness', responses: { '200': { description: 'Live.' }, '503': { description: 'Not live.' } } } },
    '/v2/health/ready': { get: { operationId: 'oipReady', summary: 'OIP server readiness', responses: { '200': { description: 'Ready.' }, '503': { description: 'Not ready.' } } } },
  };
  for (const [prefix, params, suffix] of [['/v2/models/{name}', [name], ''], ['/v2/models/{name}/versions/{version}', [name, version], 'Version']] as const) {
    paths[prefix] = { get: { operationId: `oipModelMetadata${suffix}`, summary: 'OIP model metadata: inputs "image" and "pixels", outputs', parameters: params, responses: { '200': { description: 'Model metadata.', content: json('OipModelMetadata') }, '404': oipErrors['404'] } } };
    paths[`${prefix}/ready`] = { get: { operationId: `oipModelReady${suffix}`, summary: 'OIP model readiness', parameters: params, responses: { '200': { description: 'Ready.' }, '404': oipErrors['404'], '503': oipErrors['503'] } } };
    paths[`${prefix}/infer`] = {
      post: {
        operationId: `oipInfer${suffix}`,
        summary: 'OIP inference: one input, "image" (BYTES [n], base64 files) or "pixels" (FP32 [n,28,28,1])',
        parameters: params,
        requestBody: { required: true, content: json('InferRequest') },
        responses: { '200': { description: 'Outputs probabilities, digit, confidence, reliable, predictive_entropy, mutual_information.', headers: modelHeaders, content: json('InferResponse') }, ...oipErrors },
      },
    };
  }
  return {
    openapi: '3.0.3',
    info: {
      title: 'digitserve runtime',
      version: opts.version,
      description: `Handwritten-digit classification with Monte-Carlo-dropout uncertainty. This server answers as model "${opts.modelName}". Errors: {"error": {"code", "message"}}; on /v2 the OIP shape {"error": "<message>"}.`,
    },
    paths,
    components: { schemas: componentSchemas() },
  };
}
