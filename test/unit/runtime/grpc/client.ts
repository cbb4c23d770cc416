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

/** The service names server reflection (v1) lists, as grpcurl asks for them. */
export function reflectedServices(address: string): Promise<string[]> {
  const require = createRequire(import.meta.url);
  const proto = path.join(path.dirname(require.resolve('@grpc/reflection/package.json')), 'build/proto/grpc/reflection/v1/reflection.proto');
  const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(proto, { keepCase: true })) as unknown as { grpc: { reflection: { v1: { ServerReflection: grpc.ServiceClientConstructor } } } };
  const client = new pkg.grpc.reflection.v1.ServerReflection(address, grpc.credentials.createInsecure()) as unknown as grpc.Client & { ServerReflectionInfo(): grpc.ClientDuplexStream<object, { list_services_response?: { service: { name: string }[] } }> };
  return new Promise((resolve, reject) => {
    const stream = client.ServerReflectionInfo();
    stream.on('data', (res) => {
      resolve((res.list_services_response?.service ?? []).map((s: { name: string }) => s.name));
      stream.end();
      client.close();
    });
    stream.on('error', reject);
    stream.write({ list_services: '' });
  });
}
