import { z } from 'zod';
import { apiSchemas } from './registry.js';

/** Open Inference Protocol (KServe v2) REST bodies; validate requests and generate /openapi.json. */

export const inferInputSchema = z
  .object({
    name: z.string().meta({ description: '"image" (BYTES, base64 image files) or "pixels" (FP32, MNIST form).' }),
    shape: z.array(z.number().int().min(-1)),
    datatype: z.string(),
    parameters: z
      .record(z.string(), z.unknown())
      .optional()
      .meta({ description: '`binary_data_size`: this input\'s data follows the JSON header as raw bytes (binary tensor data extension; then `data` is absent).' }),
    data: z.array(z.unknown()).optional().meta({ description: 'Row-major, flat or nested; absent when the input is sent as binary data.' }),
  })
  .register(apiSchemas, { id: 'InferInput' });

export const inferRequestSchema = z
  .object({
    id: z.string().optional(),
    parameters: z.record(z.string(), z.unknown()).optional().meta({ description: '`binary_data_output: true`: every output as binary data unless it says otherwise.' }),
    inputs: z.array(inferInputSchema).length(1, 'send exactly one input: "image" or "pixels"'),
    outputs: z.array(z.object({ name: z.string(), parameters: z.record(z.string(), z.unknown()).optional() })).optional(),
  })
  .register(apiSchemas, { id: 'InferRequest' });

export const inferOutputSchema = z
  .object({
    name: z.string(),
    shape: z.array(z.number().int()),
    datatype: z.string(),
    parameters: z.object({ binary_data_size: z.number().int() }).optional().meta({ description: 'Present when this output\'s data follows the JSON header as raw bytes.' }),
    data: z.array(z.union([z.number(), z.boolean()])).optional(),
  })
  .register(apiSchemas, { id: 'InferOutput' });

export const inferResponseSchema = z
  .object({
    model_name: z.string(),
    model_version: z.string(),
    id: z.string().optional(),
    outputs: z.array(inferOutputSchema),
  })
  .register(apiSchemas, { id: 'InferResponse' });

export const tensorMetadataSchema = z.object({ name: z.string(), datatype: z.string(), shape: z.array(z.number().int()) }).register(apiSchemas, { id: 'TensorMetadata' });

export const oipModelMetadataSchema = z
  .object({
    name: z.string(),
    versions: z.array(z.string()),
    platform: z.string(),
    inputs: z.array(tensorMetadataSchema),
    outputs: z.array(tensorMetadataSchema),
  })
  .register(apiSchemas, { id: 'OipModelMetadata' });

export const oipServerMetadataSchema = z
  .object({ name: z.string(), version: z.string(), extensions: z.array(z.string()) })
  .register(apiSchemas, { id: 'OipServerMetadata' });

export const oipErrorSchema = z.object({ error: z.string() }).register(apiSchemas, { id: 'OipError' });

export type InferRequest = z.infer<typeof inferRequestSchema>;
export type InferResponse = z.infer<typeof inferResponseSchema>;
