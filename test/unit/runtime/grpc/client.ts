import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { service as healthService } from 'grpc-health-check';
import { createRequire } from 'node:module';
import path from 'node:path';
import { loadOipDefinition } from '../../../../runtime/grpc/proto.js';

/** gRPC clients for the tests: the OIP service (from the runtime's .proto), health, reflection. */

export interface CallResult<T> {
  error?: grpc.ServiceError;
  value?: T;
  metadata?: grpc.Metadata;
}

type Unary = (req: object, md: grpc.Metadata, opts: grpc.CallOptions, cb: (e: grpc.ServiceError | null, v: unknown) => void) => grpc.ClientUnaryCall;

export class OipClient {
  private readonly client: grpc.Client;

  constructor(readonly address: string) {
    const pkg = grpc.loadPackageDefinition(loadOipDefinition()) as unknown as { inference: { GRPCInferenceService: grpc.ServiceClientConstructor } };
    this.client = new pkg.inference.GRPCInferenceService(address, grpc.credentials.createInsecure());
  }

  /** One unary call; never rejects: the error, the answer and the initial metadata. */
  call<T>(method: string, req: object, opts: grpc.CallOptions = {}): Promise<CallResult<T>> {
    return new Promise((resolve) => {
      let metadata: grpc.Metadata | undefined;
      const fn = (this.client as unknown as Record<string, Unary>)[method].bind(this.client);
      const c = fn(req, new grpc.Metadata(), opts, (error, value) => resolve(error ? { error, metadata } : { value: value as T, metadata }));
      c.on('metadata', (m: grpc.Metadata) => (metadata = m));
    });
  }

  close(): void {
    this.client.close();
  }
}

export function healthClient(address: string) {
  const Health = grpc.makeClientConstructor(healthService as unknown as grpc.ServiceDefinition, 'Health');
  return new Health(address, grpc.credentials.createInsecure()) as unknown as grpc.Client & {
    Check(req: { service: string }, cb: (e: grpc.ServiceError | null, v: { status: string }) => void): void;
    Watch(req: { service: string }): grpc.ClientReadableStream<{ status: string }>;
  };
}

interface ReflectionResponse {
  list_services_response?: { service: { name: string }[] };
  file_descriptor_response?: { file_descriptor_proto: Buffer[] };
  error_response?: { error_code: number; error_message: string };
}

/** One server reflection (v1) request and its answer, as grpcurl asks. */
function reflect(address: string, request: object): Promise<ReflectionResponse> {
  const require = createRequire(import.meta.url);
  const proto = path.join(path.dirname(require.resolve('@grpc/reflection/package.json')), 'build/proto/grpc/reflection/v1/reflection.proto');
  const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(proto, { keepCase: true })) as unknown as { grpc: { reflection: { v1: { ServerReflection: grpc.ServiceClientConstructor } } } };
  const client = new pkg.grpc.reflection.v1.ServerReflection(address, grpc.credentials.createInsecure()) as unknown as grpc.Client & { ServerReflectionInfo(): grpc.ClientDuplexStream<object, ReflectionResponse> };
  return new Promise((resolve, reject) => {
    const stream = client.ServerReflectionInfo();
    stream.on('data', (res: ReflectionResponse) => {
      resolve(res);
      stream.end();
      client.close();
    });
    stream.on('error', reject);
    stream.write(request);
  });
}

/** The service names server reflection lists. */
export async function reflectedServices(address: string): Promise<string[]> {
  return ((await reflect(address, { list_services: '' })).list_services_response?.service ?? []).map((s) => s.name);
}

/** The serialised FileDescriptorProtos reflection serves for a symbol (its file and imports). */
export async function reflectedFiles(address: string, symbol: string): Promise<Buffer[]> {
  const res = await reflect(address, { file_containing_symbol: symbol });
  if (res.error_response) throw new Error(`reflection: ${res.error_response.error_message}`);
  return res.file_descriptor_response?.file_descriptor_proto ?? [];
}
