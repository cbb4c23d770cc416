import path from 'node:path';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { PACKAGE_ROOT } from '../package-root.js';
import { withProtocMapEntries } from './reflection-descriptors.js';

/**
 * The OIP service definition, loaded at start-up from the .proto (no generated code: the .proto
 * stays the one source, and server reflection serves the same descriptors proto-loader read).
 */
export const OIP_PROTO = path.join(PACKAGE_ROOT, 'runtime', 'grpc', 'open-inference.proto');
export const OIP_SERVICE = 'inference.GRPCInferenceService';

/** Field names as written in the .proto (snake_case), int64 as numbers, bytes as Buffers, every field present. */
const OPTIONS: protoLoader.Options = { keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true };

export function loadOipDefinition(): protoLoader.PackageDefinition {
  return protoLoader.loadSync(OIP_PROTO, OPTIONS);
}

/** The OIP and health services' descriptors together, for server reflection (what grpcurl lists). */
export function loadReflectedDefinition(): protoLoader.PackageDefinition {
  return withProtocMapEntries(protoLoader.loadSync([OIP_PROTO, healthProtoPath], OPTIONS));
}
