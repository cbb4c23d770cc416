import { z } from 'zod';
import { apiSchemas } from './registry.js';

/** The `/v1` request and response bodies: validate requests and generate /openapi.json (one source). */

const pixelRow = z.array(z.union([z.number(), z.array(z.number()).length(1)])).length(28);

export const pixelInstanceSchema = z
  .array(pixelRow)
  .length(28)
  .meta({ description: 'A digit already in MNIST form: 28 rows of 28 numbers in 0..1 (or 28×28×1), bright digit on dark.' });

export const b64InstanceSchema = z
  .object({ b64: z.string().min(1).meta({ description: 'A base64-encoded image file (PNG, JPEG, WebP, GIF, TIFF, AVIF).' }) })
  .strict();

export const predictJsonRequestSchema = z
  .object({
    instances: z.array(z.union([b64InstanceSchema, pixelInstanceSchema])).min(1, 'instances must hold at least one image'),
  })
  .register(apiSchemas, { id: 'PredictJsonRequest', description: 'TF Serving / KServe v1 style instances: {"b64": …} images or 28×28 arrays.' });

/** The envelope alone: each instance is then checked against the two instance schemas above. */
export const predictJsonEnvelopeSchema = z.object({
  instances: z.array(z.unknown()).min(1, 'instances must hold at least one image'),
});

export const modelRefSchema = z
  .object({
    name: z.string().meta({ description: 'The name this server answers under (MODEL_NAME).' }),
    storeName: z.string().meta({ description: "The model's name in the store (metadata.json)." }),
    version: z.string(),
    track: z.enum(['stable', 'canary']),
  })
  .register(apiSchemas, { id: 'ModelRef' });

const evidenceCatchall = z.union([z.number(), z.string()]).meta({ description: 'Further evidence used by confidence (e.g. featureDistance, inkFraction).' });

export const uncertaintySchema = z
  .union([
    z
      .object({
        method: z.literal('mc-dropout'),
        samples: z.number().int().meta({ description: 'MC-dropout forward samples T.' }),
        predictiveEntropy: z.number().meta({ description: 'Entropy of the mean distribution (total), nats.' }),
        expectedEntropy: z.number().meta({ description: 'Mean entropy of the samples (aleatoric), nats.' }),
        mutualInformation: z.number().meta({ description: 'Their difference, ≥ 0 (epistemic), nats.' }),
        variationRatio: z.number().meta({ description: '1 − share of samples voting for the digit.' }),
        stdDev: z.number().meta({ description: "Population standard deviation of the digit's probability across samples." }),
      })
      .catchall(evidenceCatchall),
    z
      .object({
        method: z.literal('none').meta({ description: 'A model without active dropout (e.g. an imported SavedModel): one pass, no MC figures.' }),
      })
      .catchall(evidenceCatchall),
  ])
  .register(apiSchemas, { id: 'Uncertainty' });

export const predictionSchema = z
  .object({
    digit: z.number().int().min(0).max(9),
    probability: z.number(),
    probabilities: z.array(z.number()).length(10).meta({ description: 'Mean of the T softmax samples.' }),
    confidence: z.number().min(0).max(1).meta({ description: 'Calibrated estimate that this answer is right.' }),
    reliable: z.boolean().meta({ description: 'confidence >= reliabilityThreshold.' }),
    uncertainty: uncertaintySchema,
  })
  .register(apiSchemas, { id: 'Prediction' });

export const predictResponseSchema = z
  .object({ model: modelRefSchema, predictions: z.array(predictionSchema) })
  .register(apiSchemas, { id: 'PredictResponse', description: 'One prediction per image, in request order.' });

export const modelListSchema = z
  .object({ models: z.array(z.object({ name: z.string(), version: z.string(), track: z.enum(['stable', 'canary']) })) })
  .register(apiSchemas, { id: 'ModelList' });

export const limitsSchema = z
  .object({
    maxBodyBytes: z.number().int(),
    maxInputPixels: z.number().int(),
    maxImagesPerRequest: z.number().int(),
    maxQueue: z.number().int(),
    requestTimeoutMs: z.number().int(),
  })
  .register(apiSchemas, { id: 'Limits' });

export const modelMetadataSchema = z
  .object({
    name: z.string(),
    storeName: z.string(),
    version: z.string(),
    track: z.enum(['stable', 'canary']),
    ready: z.boolean(),
    backend: z.string().optional(),
    source: z.string().optional(),
    samples: z.number().int().meta({ description: 'MC-dropout samples T per image (MC_SAMPLES or metadata.json).' }),
    reliabilityThreshold: z.number().meta({ description: 'reliable = confidence >= this (RELIABILITY_THRESHOLD or metadata.json).' }),
    input: z.object({
      accepted: z.array(z.string()),
      shape: z.array(z.number()),
      description: z.string().optional(),
    }),
    labels: z.array(z.string()),
    inference: z.object({
      method: z.enum(['mc-dropout', 'none']),
      samples: z.number().int(),
      reliabilityThreshold: z.number(),
      maxBatchSize: z.number().int(),
      batchTimeoutMs: z.number(),
    }),
    limits: limitsSchema,
    calibration: z.record(z.string(), z.unknown()).optional(),
    training: z.record(z.string(), z.unknown()).optional(),
    evaluation: z.record(z.string(), z.unknown()).optional(),
  })
  .register(apiSchemas, { id: 'ModelMetadata' });

export const errorBodySchema = z
  .object({
    error: z.object({
      code: z.string().meta({ description: 'snake_case error code, e.g. invalid_image, payload_too_large, queue_full.' }),
      message: z.string().meta({ description: 'What was wrong and what is accepted.' }),
    }),
  })
  .register(apiSchemas, { id: 'Error' });

export const serviceFiguresSchema = z
  .object({
    model: modelRefSchema,
    backend: z.string(),
    ready: z.boolean(),
    draining: z.boolean(),
    requestsPerSecond: z.number(),
    imagesPerSecond: z.number(),
    latencyP95Ms: z.number(),
    queueDepth: z.number().meta({ description: 'Images queued or in inference, averaged over 30 s.' }),
    queueDepthNow: z.number(),
    requestsInFlight: z.number().int().meta({ description: 'HTTP requests being answered now (this one included).' }),
    uptimeSeconds: z.number(),
  })
  .register(apiSchemas, { id: 'ServiceFigures' });

export type PredictJsonRequest = z.infer<typeof predictJsonRequestSchema>;
export type PredictResponse = z.infer<typeof predictResponseSchema>;
export type PredictionBody = z.infer<typeof predictionSchema>;
